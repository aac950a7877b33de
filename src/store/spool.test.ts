import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Spool } from './spool.js'

let dir: string
const spools: Spool[] = []

function openSpool(options: { maxBytes?: number; segmentBytes?: number; dir?: string } = {}): Spool {
  const spool = new Spool({ dir, ...options })
  spools.push(spool)
  return spool
}

/** Reads every row out of the spool the way a replay does, deleting segments as it goes. */
async function drain(spool: Spool): Promise<unknown[]> {
  const rows: unknown[] = []
  for (let segment = await spool.nextSegment(); segment; segment = await spool.nextSegment()) {
    rows.push(...segment.rows)
    await spool.remove(segment)
  }
  return rows
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-spool-'))
})

afterEach(async () => {
  await Promise.all(spools.splice(0).map((spool) => spool.close()))
  rmSync(dir, { recursive: true, force: true })
})

describe('Spool', () => {
  it('gives rows back in append order across segments and is empty once they are removed', async () => {
    const spool = openSpool({ segmentBytes: 200 })
    for (let i = 0; i < 30; i++) await spool.append([[i, `row-${i}`], [i, 'second']])
    expect(readdirSync(dir).filter((n) => n.endsWith('.jsonl')).length).toBeGreaterThan(3)
    expect(spool.isEmpty).toBe(false)
    const rows = await drain(spool)
    expect(rows).toHaveLength(60)
    expect(rows.filter((_, i) => i % 2 === 0)).toEqual(Array.from({ length: 30 }, (_, i) => [i, `row-${i}`]))
    expect(spool.isEmpty).toBe(true)
    expect(spool.bytes).toBe(0)
    expect(readdirSync(dir).filter((n) => n.endsWith('.jsonl'))).toEqual([])
  })

  it('keeps appending to a new segment while an older one is being replayed', async () => {
    const spool = openSpool()
    await spool.append(['a', 'b'])
    const first = await spool.nextSegment()
    await spool.append(['c'])
    expect(first?.rows).toEqual(['a', 'b'])
    await spool.remove(first!)
    expect(await drain(spool)).toEqual(['c'])
  })

  it('leaves rows on disk for the next owner after close', async () => {
    const spool = openSpool()
    await spool.append([{ id: 1 }, { id: 2 }])
    await spool.close()
    const next = openSpool()
    expect(next.isEmpty).toBe(false)
    expect(next.bytes).toBeGreaterThan(0)
    expect(await drain(next)).toEqual([{ id: 1 }, { id: 2 }])
  })

  it('counts a torn last line as unreadable and keeps the lines before it', async () => {
    const spool = openSpool()
    await spool.append([[1], [2]])
    await spool.close()
    const [name] = readdirSync(dir).filter((n) => n.endsWith('.jsonl'))
    appendFileSync(join(dir, name), '[3, "cut sho')
    const next = openSpool()
    const segment = await next.nextSegment()
    expect(segment?.rows).toEqual([[1], [2]])
    expect(segment?.unreadable).toBe(1)
  })

  it('refuses rows beyond maxBytes and says how many', async () => {
    const spool = openSpool({ maxBytes: 100 })
    const row = 'x'.repeat(30) // 33 bytes a line with quotes and newline
    expect(await spool.append([row, row, row, row])).toEqual({ written: 3, refused: 1 })
    expect(await spool.append([row])).toEqual({ written: 0, refused: 1 })
    expect(spool.bytes).toBe(99)
  })

  it('writes each append as whole lines, durable before it resolves', async () => {
    const spool = openSpool()
    await spool.append([{ a: 'line\nbreak' }])
    const [name] = readdirSync(dir).filter((n) => n.endsWith('.jsonl'))
    expect(readFileSync(join(dir, name), 'utf8')).toBe('{"a":"line\\nbreak"}\n')
  })

  it('gives a second owner in the same process its own subdirectory', async () => {
    const first = openSpool()
    const second = openSpool()
    expect(first.dir).toBe(dir)
    expect(second.dir).toBe(join(dir, `instance-${process.pid}`))
    await second.append(['mine'])
    expect(await drain(first)).toEqual([])
  })

  it('adopts the segments of a subdirectory whose process is gone', async () => {
    const orphan = join(dir, 'instance-999999')
    mkdirSync(orphan)
    // A pid far above any pid_max: no such process.
    writeFileSync(join(orphan, 'LOCK'), '2147483646')
    writeFileSync(join(orphan, '000000000000001-000000-999999.jsonl'), '["left"]\n')
    const spool = openSpool()
    expect(await drain(spool)).toEqual([['left']])
    expect(readdirSync(dir)).not.toContain('instance-999999')
  })

  it('leaves a fresh lock of another live process alone', () => {
    writeFileSync(join(dir, 'LOCK'), String(process.ppid))
    expect(openSpool().dir).toBe(join(dir, `instance-${process.pid}`))
  })

  it('takes over a lock nobody touched for a minute, even if its pid now belongs to someone else', () => {
    writeFileSync(join(dir, 'LOCK'), String(process.ppid))
    const old = new Date(Date.now() - 5 * 60_000)
    utimesSync(join(dir, 'LOCK'), old, old)
    expect(openSpool().dir).toBe(dir)
  })

  it('takes over a lock left by a process that is gone', () => {
    writeFileSync(join(dir, 'LOCK'), '2147483646')
    expect(openSpool().dir).toBe(dir)
  })
})
