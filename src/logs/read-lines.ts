import { createReadStream } from 'node:fs'
import { Readable, pipeline } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { createGunzip } from 'node:zlib'

/** Longest line kept, in characters; the rest of a longer line is dropped (and flagged). */
export const maxLineChars = 1 << 20

/** A batch of lines from one chunk of input, and how many of them were cut at `maxLineChars`. */
export interface LineBatch {
  lines: string[]
  truncated: number
}

async function* decompressIfGzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]()
  const first = await iterator.next()
  if (first.done) return
  const head: Buffer = first.value
  // Sniff the gzip magic rather than trusting the name: rotated logs are often renamed.
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    yield head
    for (;;) {
      const next = await iterator.next()
      if (next.done) return
      yield next.value
    }
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield head
    for (;;) {
      const next = await iterator.next()
      if (next.done) return
      yield next.value
    }
  }
  const gunzip = createGunzip()
  pipeline(Readable.from(rest()), gunzip, () => {
    // Errors surface through the iteration below.
  })
  for await (const chunk of gunzip) yield chunk as Buffer
}

/**
 * Splits a byte stream (gzip or plain) into lines, in batches, with constant memory: a line
 * longer than `maxLineChars` keeps only its head. Handles `\n` and `\r\n` endings.
 */
export async function* readLineBatches(source: AsyncIterable<Buffer>): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8')
  let carry = ''
  let carryOverflow = false
  let first = true
  for await (const chunk of decompressIfGzip(source)) {
    let text = decoder.write(chunk)
    // Windows tools (IIS among them) may start a file with a byte-order mark.
    if (first && text !== '') {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
      first = false
    }
    const lines: string[] = []
    let truncated = 0
    let start = 0
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl === -1) break
      let line = text.slice(start, nl)
      if (carry !== '' || carryOverflow) {
        if (!carryOverflow) line = carry + line
        else line = carry
        if (carryOverflow) truncated++
        carry = ''
        carryOverflow = false
      }
      if (line.length > maxLineChars) {
        line = line.slice(0, maxLineChars)
        truncated++
      }
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line)
      start = nl + 1
    }
    if (start < text.length && !carryOverflow) {
      const tail = text.slice(start)
      if (carry.length + tail.length > maxLineChars) {
        carry = (carry + tail).slice(0, maxLineChars)
        carryOverflow = true
      } else {
        carry += tail
      }
    }
    if (lines.length > 0) yield { lines, truncated }
  }
  const rest = carry + decoder.end()
  if (rest !== '' || carryOverflow) {
    const line = rest.length > maxLineChars ? rest.slice(0, maxLineChars) : rest
    yield { lines: [line.endsWith('\r') ? line.slice(0, -1) : line], truncated: carryOverflow ? 1 : 0 }
  }
}

/** Opens a file (or `-` for stdin) as a byte stream. */
export function openLogSource(file: string, stdin: AsyncIterable<Buffer> = process.stdin): AsyncIterable<Buffer> {
  if (file === '-') return stdin
  return createReadStream(file, { highWaterMark: 256 * 1024 })
}
