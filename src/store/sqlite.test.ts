import Database from 'better-sqlite3'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Worker } from 'node:worker_threads'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isGatewayError } from '../core/errors.js'
import { openStore, resolveStoreLocation } from './open-store.js'
import { createSqliteStore, type StoreProblem } from './sqlite.js'
import type { CallLogStore, CallRecord } from './types.js'

const baseTime = Date.UTC(2026, 0, 1, 12, 0, 0)
const routes = ['orders-create', 'orders-list', 'health']
const consumers = ['acme-app', 'globex', null]

/** ULID-like ids whose first characters differ, as real ones do across milliseconds. */
function requestIdOf(i: number): string {
  const spread = (Math.imul(i + 1, 2654435761) >>> 0).toString(16).toUpperCase().padStart(8, '0')
  return `01JD${spread}${String(i).padStart(14, '0')}`
}

/** A record whose fields vary with `i` so each filter selects a known subset. */
function makeRecord(i: number, overrides: Partial<CallRecord> = {}): CallRecord {
  const denied = i % 5 === 0
  return {
    time: baseTime + i * 1000,
    requestId: requestIdOf(i),
    traceId: `trace${i}`,
    route: routes[i % 3],
    consumer: consumers[i % 3],
    tenant: i % 3 === 2 ? null : 'acme',
    method: i % 2 === 0 ? 'POST' : 'GET',
    path: i % 3 === 0 ? '/orders' : '/status',
    status: denied ? 403 : 200,
    decision: denied ? 'authz' : 'allow',
    layer: denied ? 'authz' : 'upstream',
    rule: denied ? 'missing-scope' : null,
    upstreamStatus: denied ? null : 200,
    upstreamMs: denied ? null : 3.5,
    totalMs: 4.25,
    requestBytes: 120,
    responseBytes: 512,
    clientIp: '127.0.0.1',
    upstreamTarget: denied ? null : 'http://127.0.0.1:3001',
    trail: denied
      ? [{ layer: 'authn', result: 'allow', ms: 0.1 }, { layer: 'authz', result: 'deny', rule: 'authz.missing-scope', ms: 0.05 }]
      : [{ layer: 'authn', result: 'allow', ms: 0.1 }, { layer: 'upstream', result: 'allow', ms: 3.5 }],
    denial: denied ? { layer: 'authz', rule: 'authz.missing-scope', status: 403, remediation: "Grant the consumer scope 'orders:write'." } : null,
    ...overrides,
  }
}

let dir: string
const open: CallLogStore[] = []

function tempFile(name: string): string {
  return join(dir, name)
}

function track<T extends CallLogStore>(store: T): T {
  open.push(store)
  return store
}

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-')) })
afterEach(async () => { await Promise.all(open.splice(0).map((s) => s.close())) })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

describe('createSqliteStore with 1,000 calls', () => {
  let store: ReturnType<typeof createSqliteStore>
  let file: string

  beforeAll(async () => {
    file = tempFile('thousand.db')
    store = createSqliteStore(file)
    const started = performance.now()
    for (let i = 0; i < 1000; i++) store.append(makeRecord(i))
    const appendMs = performance.now() - started
    await store.flush()
    const totalMs = performance.now() - started
    console.log(`[measure] append: ${((appendMs * 1000) / 1000).toFixed(2)} µs per call; 1,000 rows committed in ${totalMs.toFixed(1)} ms`)
  })
  afterAll(async () => { await store.close() })

  it('commits every appended row by the time flush resolves', async () => {
    expect(store.stats()).toMatchObject({ queued: 0, written: 1000, dropped: 0 })
    expect(await store.query({ limit: 1000 })).toHaveLength(1000)
  })

  it('returns the newest call first and defaults to 50 rows', async () => {
    const rows = await store.query({})
    expect(rows).toHaveLength(50)
    expect(rows[0].requestId).toBe(makeRecord(999).requestId)
    const times = rows.map((r) => r.time)
    expect(times).toEqual([...times].sort((a, b) => b - a))
  })

  it('caps the limit at 1000', async () => {
    expect(await store.query({ limit: 5000 })).toHaveLength(1000)
  })

  it('filters denied calls', async () => {
    const rows = await store.query({ denied: true, limit: 1000 })
    expect(rows).toHaveLength(200)
    expect(rows.every((r) => r.status >= 400)).toBe(true)
  })

  it('filters by route, consumer, tenant, status and layer', async () => {
    const byRoute = await store.query({ route: 'orders-list', limit: 1000 })
    expect(byRoute).toHaveLength(333)
    expect(byRoute.every((r) => r.route === 'orders-list')).toBe(true)
    const byConsumer = await store.query({ consumer: 'globex', limit: 1000 })
    expect(byConsumer.map((r) => r.requestId)).toEqual(byRoute.map((r) => r.requestId))
    expect(await store.query({ tenant: 'acme', limit: 1000 })).toHaveLength(667)
    expect(await store.query({ status: 403, route: 'orders-create', limit: 1000 })).toHaveLength(67)
    expect(await store.query({ layer: 'authz', limit: 1000 })).toHaveLength(200)
  })

  it('filters by a time window, since inclusive and until exclusive', async () => {
    const rows = await store.query({ since: baseTime + 100_000, until: baseTime + 110_000 })
    expect(rows.map((r) => r.time)).toEqual(Array.from({ length: 10 }, (_, k) => baseTime + (109 - k) * 1000))
  })

  it('round-trips every field, trail and denial included', async () => {
    expect(await store.get(makeRecord(10).requestId)).toEqual(makeRecord(10))
    expect(await store.get(makeRecord(11).requestId)).toEqual(makeRecord(11))
  })

  it('finds a call by a unique prefix of at least 8 characters, in any case', async () => {
    const id = requestIdOf(123)
    const prefix = id.slice(0, 12)
    expect(Array.from({ length: 1000 }, (_, i) => requestIdOf(i)).filter((other) => other.startsWith(prefix))).toEqual([id])
    expect((await store.get(prefix))?.requestId).toBe(id)
    expect((await store.get(prefix.toLowerCase()))?.requestId).toBe(id)
  })

  it('returns null for a short or unknown id', async () => {
    expect(await store.get('01JD')).toBeNull()
    expect(await store.get(requestIdOf(5).slice(0, 7))).toBeNull()
    expect(await store.get('nothing-like-this')).toBeNull()
    expect(await store.get('')).toBeNull()
  })

  it('keeps the newest-first order without a sort step', () => {
    const db = new Database(file, { readonly: true })
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT * FROM calls WHERE route = ? ORDER BY time DESC, id DESC LIMIT 50').all('x') as { detail: string }[]
    db.close()
    expect(plan.map((p) => p.detail).join('\n')).not.toMatch(/TEMP B-TREE/)
  })
})

describe('get', () => {
  it('returns null for a prefix that matches two calls, and each by its full id', async () => {
    const store = track(createSqliteStore(tempFile('ambiguous.db')))
    store.append(makeRecord(1, { requestId: '01JDSAMEPREFIXA' }))
    store.append(makeRecord(2, { requestId: '01JDSAMEPREFIXB' }))
    await store.flush()
    expect(await store.get('01JDSAMEPREFIX')).toBeNull()
    expect((await store.get('01JDSAMEPREFIXB'))?.time).toBe(makeRecord(2).time)
  })

  it('treats LIKE and GLOB wildcards in the id as plain characters', async () => {
    const store = track(createSqliteStore(tempFile('wildcards.db')))
    store.append(makeRecord(1, { requestId: '01JDWILDCARD-1' }))
    await store.flush()
    expect(await store.get('01JD%%%%%')).toBeNull()
    expect(await store.get('01JD****')).toBeNull()
    expect(await store.get('01JD____')).toBeNull()
  })
})

describe('schema', () => {
  it('has no column that could hold a secret', async () => {
    const file = tempFile('schema.db')
    await track(createSqliteStore(file)).close()
    const db = new Database(file, { readonly: true })
    const columns = (db.prepare('PRAGMA table_info(calls)').all() as { name: string }[]).map((c) => c.name)
    db.close()
    expect(columns).toContain('request_id')
    expect(columns.filter((c) => /key|token|secret|password|cookie|authorization|header|body/i.test(c))).toEqual([])
  })

  it('records each migration once, in WAL mode', async () => {
    const file = tempFile('migrations.db')
    await track(createSqliteStore(file)).close()
    await track(createSqliteStore(file)).close()
    const db = new Database(file, { readonly: true })
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'calls' }, { version: 2, name: 'ai' }, { version: 3, name: 'console-indexes' }])
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
  })

  it('opens an up-to-date log for reading without writing to it', async () => {
    const file = tempFile('read-only.db')
    const writer = createSqliteStore(file)
    writer.append(makeRecord(1))
    await writer.close()
    // A guard that works even as root: a process holding the write lock makes any write fail.
    const blocker = new Database(file)
    blocker.exec('BEGIN IMMEDIATE')
    try {
      const reader = track(createSqliteStore(file))
      expect((await reader.query({})).map((r) => r.requestId)).toEqual([requestIdOf(1)])
    } finally {
      blocker.exec('ROLLBACK')
      blocker.close()
    }
  })

  it('redacts secret-named members a policy put in a trail or denial', async () => {
    const file = tempFile('redact.db')
    const store = track(createSqliteStore(file))
    store.append(makeRecord(1, {
      trail: [{ layer: 'authn', result: 'deny', ms: 1, detail: { authorization: 'Bearer abc', 'x-api-key': 'k-123', token: false, keyId: 'acme-1' } }],
      denial: { detail: { password: 'hunter2', attempts: [{ method: 'key', apiKey: 'k-123' }] } },
    }))
    await store.flush()
    const row = await store.get(makeRecord(1).requestId)
    expect(row?.trail[0].detail).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]', token: false, keyId: 'acme-1' })
    expect(row?.denial).toEqual({ detail: { password: '[redacted]', attempts: [{ method: 'key', apiKey: '[redacted]' }] } })
    const raw = new Database(file, { readonly: true })
    const text = JSON.stringify(raw.prepare('SELECT * FROM calls').all())
    raw.close()
    expect(text).not.toMatch(/hunter2|k-123|Bearer abc/)
  })
})

describe('durability', () => {
  it('keeps rows across close and reopen', async () => {
    const file = tempFile('restart.db')
    const first = createSqliteStore(file)
    for (let i = 0; i < 20; i++) first.append(makeRecord(i))
    await first.close()
    const second = track(createSqliteStore(file))
    expect(await second.query({ limit: 100 })).toHaveLength(20)
    second.append(makeRecord(20))
    await second.flush()
    expect((await second.query({ limit: 1 }))[0].requestId).toBe(makeRecord(20).requestId)
  })

  it('close writes rows still waiting for their batch', async () => {
    const file = tempFile('close-flush.db')
    const store = createSqliteStore(file, { batchMs: 60_000 })
    store.append(makeRecord(1))
    await store.close()
    const reader = track(createSqliteStore(file))
    expect(await reader.get(makeRecord(1).requestId)).not.toBeNull()
  })

  it('writes a batch as soon as batchSize rows are queued, before batchMs', async () => {
    const file = tempFile('batch-size.db')
    const written = new Promise<void>((resolve) => {
      const store = track(createSqliteStore(file, { batchMs: 60_000, batchSize: 10 }))
      for (let i = 0; i < 10; i++) store.append(makeRecord(i))
      const poll = (): void => {
        // Watches the writer's counter, driven by its own message; no timers involved.
        if (store.stats().written === 10) resolve()
        else setImmediate(poll)
      }
      poll()
    })
    await written
    const db = new Database(file, { readonly: true })
    expect(db.prepare('SELECT count(*) AS n FROM calls').get()).toEqual({ n: 10 })
    db.close()
  })

  it('keeps rows queued while the database is locked, and writes them once it is free', async () => {
    const file = tempFile('locked.db')
    const problems: StoreProblem[] = []
    let sawFailure!: () => void
    const failed = new Promise<void>((resolve) => { sawFailure = resolve })
    const store = track(createSqliteStore(file, {
      batchMs: 5, maxRetryMs: 20, busyTimeoutMs: 0,
      onProblem(problem) {
        problems.push(problem)
        if (problem.code === 'store.write-failed') sawFailure()
      },
    }))
    const blocker = new Database(file)
    blocker.exec('BEGIN IMMEDIATE')
    for (let i = 0; i < 10; i++) store.append(makeRecord(i))
    await failed
    expect(store.stats()).toMatchObject({ queued: 10, written: 0, dropped: 0 })
    expect(problems[0].message).toMatch(/locked|busy/i)
    expect(await store.query({})).toEqual([])
    blocker.exec('ROLLBACK')
    blocker.close()
    await store.flush()
    expect(await store.query({ limit: 100 })).toHaveLength(10)
    expect(store.stats()).toMatchObject({ queued: 0, written: 10, dropped: 0 })
    expect(store.stats().failures).toBeGreaterThan(0)
  })

  it('drops and reports rows beyond maxQueued while writes fail', async () => {
    const file = tempFile('full.db')
    const problems: StoreProblem[] = []
    const store = track(createSqliteStore(file, { batchMs: 5, batchSize: 5, maxQueued: 20, busyTimeoutMs: 0, onProblem: (p) => problems.push(p) }))
    const blocker = new Database(file)
    blocker.exec('BEGIN IMMEDIATE')
    for (let i = 0; i < 30; i++) store.append(makeRecord(i))
    expect(store.stats()).toMatchObject({ queued: 20, dropped: 10 })
    expect(problems.filter((p) => p.code === 'store.rows-dropped')).toHaveLength(1)
    blocker.exec('ROLLBACK')
    blocker.close()
    await store.flush()
    expect(await store.query({ limit: 100 })).toHaveLength(20)
  })

  it('warns through process warnings when no problem handler is given', async () => {
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve))
    const store = createSqliteStore(tempFile('warn.db'))
    await store.close()
    store.append(makeRecord(1))
    const warning = await warned
    expect(warning.message).toMatch(/after close\(\) are dropped/)
    expect((warning as Error & { code?: string }).code).toBe('store.rows-dropped')
  })

  it('restarts a writer that died and writes its batch exactly once', async () => {
    const file = tempFile('writer-died.db')
    const workers: Worker[] = []
    const problems: StoreProblem[] = []
    const store = track(createSqliteStore(file, { batchMs: 5, onWriterStart: (w) => workers.push(w), onProblem: (p) => problems.push(p) }))
    for (let i = 0; i < 5; i++) store.append(makeRecord(i))
    const flushed = store.flush()
    expect(workers).toHaveLength(1)
    await workers[0].terminate()
    await flushed
    expect(workers).toHaveLength(2)
    expect(problems.map((p) => p.code)).toContain('store.writer-exited')
    expect(await store.query({ limit: 100 })).toHaveLength(5)
    expect(store.stats()).toMatchObject({ queued: 0, dropped: 0 })
  })

  it('stores a record holding an uncloneable value as JSON, and drops only one with no JSON form', async () => {
    const problems: StoreProblem[] = []
    const store = track(createSqliteStore(tempFile('uncloneable.db'), { onProblem: (p) => problems.push(p) }))
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    store.append(makeRecord(1, { trail: [{ layer: 'authn', result: 'allow', ms: 1, detail: { hook: (() => 1) as never } }] }))
    store.append(makeRecord(2, { denial: cyclic as never }))
    store.append(makeRecord(3))
    await store.flush()
    expect((await store.query({})).map((r) => r.requestId)).toEqual([requestIdOf(3), requestIdOf(1)])
    expect((await store.get(requestIdOf(1)))?.trail[0].detail).toEqual({})
    expect(store.stats()).toMatchObject({ written: 2, dropped: 1, queued: 0 })
    expect(problems.map((p) => p.code)).toEqual(['store.rows-dropped'])
  })

  it('deletes calls older than the retention window when it writes', async () => {
    const store = track(createSqliteStore(tempFile('retention.db'), { retentionDays: 30 }))
    const day = 86_400_000
    store.append(makeRecord(1, { time: Date.now() - 31 * day }))
    store.append(makeRecord(2, { time: Date.now() - 29 * day }))
    store.append(makeRecord(3, { time: Date.now() }))
    await store.flush()
    expect((await store.query({})).map((r) => r.requestId)).toEqual([requestIdOf(3), requestIdOf(2)])
    expect(store.stats().pruned).toBe(1)
  })

  it('stores a malformed record with safe values instead of failing its batch', async () => {
    const store = track(createSqliteStore(tempFile('malformed.db'), { onProblem: () => undefined }))
    store.append(makeRecord(1, { time: Number.NaN, status: undefined as never, method: undefined as never }))
    store.append(makeRecord(2))
    await store.flush()
    const stored = await store.get(requestIdOf(1))
    expect(stored).toMatchObject({ status: 0, method: '' })
    expect(Number.isFinite(stored?.time)).toBe(true)
    expect(store.stats()).toMatchObject({ written: 2, dropped: 0 })
  })

  it('leaves out oversized details rather than storing megabytes per call', async () => {
    const store = track(createSqliteStore(tempFile('oversized.db')))
    const huge = 'x'.repeat(200_000)
    store.append(makeRecord(1, {
      trail: [{ layer: 'body', result: 'deny', rule: 'body.too-large', ms: 1, detail: { sample: huge } }],
      denial: { rule: 'body.too-large', remediation: 'Raise maxBytes.', detail: { sample: huge } },
    }))
    await store.flush()
    const stored = await store.get(requestIdOf(1))
    expect(stored?.trail).toEqual([{ layer: 'body', result: 'deny', rule: 'body.too-large', ms: 1, detailOmitted: true }])
    expect(stored?.denial).toEqual({ rule: 'body.too-large', remediation: 'Raise maxBytes.', detailOmitted: true })
  })

  it('never throws from append, even after close', async () => {
    const problems: StoreProblem[] = []
    const store = createSqliteStore(tempFile('after-close.db'), { onProblem: (p) => problems.push(p) })
    await store.close()
    expect(() => store.append(makeRecord(1))).not.toThrow()
    expect(store.stats().dropped).toBe(1)
    expect(problems.map((p) => p.code)).toEqual(['store.rows-dropped'])
  })
})

describe('openStore', () => {
  it('opens a sqlite: path relative to the config directory, creating the directory', async () => {
    const base = join(dir, 'project')
    const store = track(openStore('sqlite:./data/gatehouse.db', base))
    store.append(makeRecord(1))
    await store.flush()
    expect(existsSync(join(base, 'data', 'gatehouse.db'))).toBe(true)
  })

  it.each([
    ['sqlite:./data/g.db', '/etc/gh', '/etc/gh/data/g.db'],
    ['sqlite:/var/lib/g.db', '/etc/gh', '/var/lib/g.db'],
    ['sqlite:///var/lib/g.db', '/etc/gh', '/var/lib/g.db'],
  ])('resolves %s against %s', (url, base, file) => {
    expect(resolveStoreLocation(url, base)).toEqual({ kind: 'sqlite', file })
  })

  // openStore opens postgres:// URLs with the PostgreSQL store (postgres.test.ts); only the
  // file resolver refuses them.
  it.each(['postgres://db.example/gatehouse', 'postgresql://db.example/gatehouse'])('does not resolve %s to a file', (url) => {
    expect(() => resolveStoreLocation(url, dir)).toThrow(expect.objectContaining({ code: 'store.unsupported' }))
  })

  it.each([
    ['sqlite::memory:', 'store.unsupported', /in-memory/],
    ['sqlite:', 'store.invalid', /no file path/],
    ['mysql://db/x', 'store.invalid', /Unknown/],
  ])('refuses %s with %s', (url, code, message) => {
    let thrown: unknown
    try { openStore(url, dir) } catch (error) { thrown = error }
    expect(isGatewayError(thrown, code)).toBe(true)
    expect((thrown as Error).message).toMatch(message)
  })

  it('reports a file that is not a database as store.unreachable', async () => {
    const { writeFileSync } = await import('node:fs')
    const file = tempFile('not-a-db.db')
    writeFileSync(file, 'this is not sqlite, just text that is long enough to have a header'.repeat(20))
    let thrown: unknown
    try { createSqliteStore(file) } catch (error) { thrown = error }
    expect(isGatewayError(thrown, 'store.unreachable')).toBe(true)
  })
})

describe('SQLite call log with a reader thread (as the gateway runs it)', () => {
  it('answers queries, lookups and aggregates from the reader thread, off the caller’s event loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-reader-'))
    const store = createSqliteStore(join(dir, 'calls.db'), { batchMs: 5, readerWorker: true, eagerWriter: true })
    try {
      for (let i = 0; i < 120; i++) store.append(makeRecord(i))
      await store.flush()
      const newest = await store.query({ limit: 10 })
      expect(newest).toHaveLength(10)
      expect(newest[0].time).toBeGreaterThanOrEqual(newest[9].time)
      const one = await store.get(newest[3].requestId)
      expect(one?.requestId).toBe(newest[3].requestId)
      const since = Math.min(...(await store.query({ limit: 1000 })).map((r) => r.time))
      const rows = await store.aggregate!({ since, until: since + 86_400_000, bucketMs: 86_400_000 })
      expect(rows.reduce((sum, r) => sum + r.total, 0)).toBe(120)
    } finally {
      await store.close()
    }
  })
})
