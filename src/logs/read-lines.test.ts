import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { maxLineChars, readLineBatches } from './read-lines.js'

async function collect(chunks: Buffer[]): Promise<{ lines: string[]; truncated: number }> {
  const lines: string[] = []
  let truncated = 0
  for await (const batch of readLineBatches(Readable.from(chunks))) {
    lines.push(...batch.lines)
    truncated += batch.truncated
  }
  return { lines, truncated }
}

describe('readLineBatches', () => {
  it('splits lines across chunk boundaries, strips CRLF, keeps a last line without newline', async () => {
    const result = await collect([Buffer.from('one\r\ntw'), Buffer.from('o\nthr'), Buffer.from('ee')])
    expect(result.lines).toEqual(['one', 'two', 'three'])
  })

  it('decodes UTF-8 split inside a character', async () => {
    const bytes = Buffer.from('café\n')
    expect((await collect([bytes.subarray(0, 4), bytes.subarray(4)])).lines).toEqual(['café'])
  })

  it('drops a leading byte-order mark', async () => {
    expect((await collect([Buffer.from('\ufeff#Software: Microsoft Internet Information Services 10.0\n')])).lines).toEqual(['#Software: Microsoft Internet Information Services 10.0'])
  })

  it('gunzips input recognised by its magic bytes', async () => {
    const gz = gzipSync(Buffer.from('a\nb\nc\n'))
    expect((await collect([gz.subarray(0, 5), gz.subarray(5)])).lines).toEqual(['a', 'b', 'c'])
  })

  it('fails on corrupt gzip instead of hanging', async () => {
    const gz = gzipSync(Buffer.from('a\nb\n'.repeat(1000)))
    await expect(collect([gz.subarray(0, gz.length - 20)])).rejects.toThrow()
  })

  it('keeps only the head of an over-long line and counts it', async () => {
    const long = 'x'.repeat(maxLineChars + 5000)
    const chunks = [Buffer.from('first\n'), Buffer.from(long.slice(0, 700_000)), Buffer.from(long.slice(700_000)), Buffer.from('\nlast\n')]
    const result = await collect(chunks)
    expect(result.lines.map((l) => l.length)).toEqual([5, maxLineChars, 4])
    expect(result.truncated).toBe(1)
  })
})
