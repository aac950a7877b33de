import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isGatewayError } from '../core/errors.js'
import { openStore } from './open-store.js'
import { buildCallQuery, createPostgresStore, type PostgresCallLogStore } from './postgres.js'
import { applyPostgresMigrations } from './postgres-migrations/apply.js'
import { postgresMigrations } from './postgres-migrations/index.js'
import { createTestSchema, makeCallRecord, type TestSchema } from './postgres-test-support.js'
import type { CallQuery, CallRecord } from './types.js'
import pg from 'pg'
import { callsCommand } from '../cli/commands/calls.js'
import { whyCommand } from '../cli/commands/why.js'
import { createMemoryIo } from '../cli/io.js'

let schema: TestSchema
let tempDir: string
const opened: PostgresCallLogStore[] = []

function openTestStore(name: string, url = schema.url()): PostgresCallLogStore {
  const store = createPostgresStore(url, { spoolDir: join(tempDir, name), batchMs: 5, onProblem: () => undefined })
  opened.push(store)
  return store
}

beforeAll(async () => {
  schema = await createTestSchema()
  tempDir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'))
})

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
  await schema.drop()
  rmSync(tempDir, { recursive: true, force: true })
})

describe('PostgreSQL call log', () => {
  const baseTime = Date.now()
  const records = Array.from({ length: 2000 }, (_, index) => makeCallRecord(index, baseTime))
  let store: PostgresCallLogStore

  /** What the contract says a query returns, computed from the records themselves. */
  function expected(query: CallQuery): string[] {
    return records
      .filter((r) => !query.denied || r.status >= 400)
      .filter((r) => query.route === undefined || r.route === query.route)
      .filter((r) => query.consumer === undefined || r.consumer === query.consumer)
      .filter((r) => query.tenant === undefined || r.tenant === query.tenant)
      .filter((r) => query.layer === undefined || r.layer === query.layer)
      .filter((r) => query.status === undefined || r.status === query.status)
      .filter((r) => query.since === undefined || r.time >= query.since)
      .filter((r) => query.until === undefined || r.time < query.until)
      .sort((a, b) => b.time - a.time)
      .slice(0, query.limit ?? 50)
      .map((r) => r.requestId)
  }

  beforeAll(async () => {
    store = openTestStore('main')
    for (const record of records) store.append(record)
    await store.flush()
  })

  it('commits 2,000 appended records once each, in batches', async () => {
    const [{ count }] = await schema.query<{ count: string }>('SELECT count(*) FROM calls')
    expect(Number(count)).toBe(2000)
    expect(store.stats()).toMatchObject({ queued: 0, written: 2000, dropped: 0, failures: 0, spooled: 0 })
  })

  it.each<[string, CallQuery]>([
    ['no filter', {}],
    ['denied', { denied: true, limit: 1000 }],
    ['route', { route: 'billing', limit: 200 }],
    ['consumer', { consumer: 'globex', limit: 1000 }],
    ['tenant', { tenant: 'acme', limit: 30 }],
    ['layer', { layer: 'authz', limit: 500 }],
    ['status', { status: 200, limit: 10 }],
    ['since', { since: baseTime - 100_000, limit: 1000 }],
    ['until', { until: baseTime - 1_900_000, limit: 1000 }],
    ['since and until with a route', { since: baseTime - 500_000, until: baseTime - 100_000, route: 'orders', limit: 1000 }],
    ['denied for one consumer', { denied: true, consumer: 'acme', limit: 7 }],
  ])('answers a query by %s, newest first', async (_name, query) => {
    const rows = await store.query(query)
    expect(rows.map((r) => r.requestId)).toEqual(expected(query))
  })

  it('clamps the limit to 1000', async () => {
    expect(await store.query({ limit: 5000 })).toHaveLength(1000)
    expect(await store.query({ limit: 0 })).toHaveLength(1)
  })

  it('returns records as they were appended', async () => {
    const [row] = await store.query({ route: records[4].route ?? undefined, status: 403, until: records[4].time + 1, limit: 1 })
    expect(row).toEqual(records[4])
  })

  it('gets a call by full id, lower-case id and a unique prefix of at least 8 characters', async () => {
    const id = records[1234].requestId
    expect((await store.get(id))?.path).toBe('/v1/items/1234')
    expect((await store.get(id.toLowerCase()))?.requestId).toBe(id)
    expect(await store.get(id.slice(0, id.length - 1))).toBeNull() // ten ids share this prefix
    expect((await store.get('01JTEST0000001234'))?.requestId).toBe(id)
    expect(await store.get('01JTEST')).toBeNull()
    expect(await store.get('01JTEST9999999999')).toBeNull()
    expect(await store.get('')).toBeNull()
  })

  it('finds a call by an 8-character prefix when it is unique', async () => {
    const unique = makeCallRecord(0, baseTime, { requestId: 'ZZPREFIX-unique-id' })
    store.append(unique)
    await store.flush()
    expect((await store.get('zzprefix'))?.requestId).toBe('ZZPREFIX-unique-id')
  })

  it('never stores a secret-named field and stores text PostgreSQL would otherwise refuse', async () => {
    const record = makeCallRecord(0, baseTime, {
      requestId: 'SECRETS-0001',
      path: '/nul\u0000byte',
      trail: [{ layer: 'authn', result: 'deny', ms: 1, detail: { authorization: 'Bearer abc.def', note: 'bad \u0000 and \ud800 here', tokenPresent: true } }],
      denial: { message: 'no', detail: { password: 'hunter2' } },
    })
    store.append(record)
    await store.flush()
    const [raw] = await schema.query<{ trail: string; denial: string; path: string }>(
      "SELECT trail::text AS trail, denial::text AS denial, path FROM calls WHERE request_id = 'SECRETS-0001'")
    expect(raw.trail).not.toContain('abc.def')
    expect(raw.denial).not.toContain('hunter2')
    expect(raw.path).toBe('/nulbyte')
    const stored = await store.get('SECRETS-0001')
    expect(stored?.trail[0].detail).toEqual({ authorization: '[redacted]', note: 'bad  and \ufffd here', tokenPresent: true })
  })

  it('lets two instances write to one database and read each other\'s calls', async () => {
    const first = openTestStore('instance-a')
    const second = openTestStore('instance-b')
    const time = baseTime + 3_600_000
    for (let i = 0; i < 300; i++) {
      first.append(makeCallRecord(i, time, { requestId: `INSTANCE-A-${i}`, route: 'cluster' }))
      second.append(makeCallRecord(i, time, { requestId: `INSTANCE-B-${i}`, route: 'cluster' }))
    }
    await Promise.all([first.flush(), second.flush()])
    for (const reader of [first, second]) {
      const rows = await reader.query({ route: 'cluster', limit: 1000 })
      expect(rows).toHaveLength(600)
      expect(new Set(rows.map((r) => r.requestId.slice(0, 10)))).toEqual(new Set(['INSTANCE-A', 'INSTANCE-B']))
    }
    expect((await second.get('INSTANCE-A-7'))?.route).toBe('cluster')
  })

  it('creates monthly partitions ahead and keeps far-off rows in the default partition', async () => {
    const old = makeCallRecord(0, Date.UTC(2019, 5, 1), { requestId: 'OLD-CALL-2019' })
    store.append(old)
    await store.flush()
    const partitions = await schema.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'calls'::regclass")
    const now = new Date()
    const month = (offset: number): string => {
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1))
      return `calls_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`
    }
    expect(partitions.map((p) => p.name)).toEqual(expect.arrayContaining(['calls_default', month(0), month(1), month(2)]))
    const [where] = await schema.query<{ partition: string }>("SELECT tableoid::regclass::text AS partition FROM calls WHERE request_id = 'OLD-CALL-2019'")
    expect(where.partition).toBe('calls_default')
    expect((await store.get('OLD-CALL-2019'))?.time).toBe(old.time)
  })

  it.each<[string, CallQuery]>([
    ['everything', {}],
    ['denied', { denied: true }],
    ['a route', { route: 'orders', limit: 100 }],
    ['a consumer since an hour ago', { consumer: 'acme', since: baseTime - 3_600_000 }],
  ])('reads the newest calls for %s from indexes without sorting the table', async (_name, query) => {
    const { sql, params } = buildCallQuery(query)
    // The test table is small enough that sorting it is cheapest; with sorts priced out, the
    // planner shows whether an index-ordered plan exists at all (at scale it is the only sane one).
    await schema.query('SET enable_sort = off')
    const plan = await schema.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)
    await schema.query('RESET enable_sort')
    const text = plan.map((line) => line['QUERY PLAN']).join('\n')
    expect(text).toMatch(/Index Scan Backward/)
    // A full Sort node would read every matching row first; an Incremental Sort only orders
    // the ties within one millisecond.
    expect(text).not.toMatch(/(^|->\s*)Sort\s+\(cost/m)
  })

  it('plans a query over a recent window on that month\'s partition through an index', async () => {
    await schema.query('ANALYZE calls')
    const plan = await schema.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT * FROM calls WHERE route = 'orders' AND time >= ${baseTime - 60_000} AND time < ${baseTime + 1} ORDER BY time DESC, id DESC LIMIT 50`)
    const text = plan.map((line) => line['QUERY PLAN']).join('\n')
    expect(text).not.toContain('calls_default')
    // Pruned to this month's partition (two when the window crosses a month boundary).
    expect(new Set(text.match(/calls_p\d{6}/g)).size).toBeLessThanOrEqual(2)
    expect(text).toMatch(/Index Scan/)
  })
})

describe('PostgreSQL retention', () => {
  it('removes calls older than retentionDays, dropping whole months that are past it', async () => {
    const own = await createTestSchema()
    try {
      const store = createPostgresStore(own.url(), { spoolDir: join(tempDir, 'retention'), batchMs: 5, retentionDays: 30, onProblem: () => undefined })
      opened.push(store)
      const now = Date.now()
      const ages = [0, 1, 29, 45, 100, 200, 400, 2000]
      ages.forEach((days, i) => store.append(makeCallRecord(i, now, { time: now - days * 86_400_000, requestId: `AGE-${days}` })))
      await store.flush()
      const kept = await own.query<{ request_id: string }>('SELECT request_id FROM calls ORDER BY time DESC')
      expect(kept.map((r) => r.request_id)).toEqual(['AGE-0', 'AGE-1', 'AGE-29'])
      expect(store.stats().pruned).toBe(5)
      const month = new Date(now - 100 * 86_400_000)
      const gone = `calls_p${month.getUTCFullYear()}${String(month.getUTCMonth() + 1).padStart(2, '0')}`
      const [{ exists }] = await own.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [gone])
      expect(exists).toBe(false)
    } finally {
      await own.drop()
    }
  })
})

describe('PostgreSQL migrations', () => {
  it('apply once when two instances start at the same moment, and again changes nothing', async () => {
    const fresh = await createTestSchema()
    try {
      const a = openTestStore('migrate-a', fresh.url())
      const b = openTestStore('migrate-b', fresh.url())
      await Promise.all([a.ready(), b.ready()])
      const rows = await fresh.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
      expect(rows.map((r) => r.version)).toEqual(postgresMigrations.map((m) => m.version))
      const client = new pg.Client({ connectionString: fresh.url() })
      await client.connect()
      try {
        expect(await applyPostgresMigrations(client)).toEqual([])
      } finally {
        await client.end()
      }
      await Promise.all([a.close(), b.close()])
    } finally {
      await fresh.drop()
    }
  })

  it('reports an unreachable database from ready() as store.unreachable', async () => {
    const store = createPostgresStore('postgres://postgres@127.0.0.1:1/test', { spoolDir: join(tempDir, 'unreachable'), connectTimeoutMs: 500, onProblem: () => undefined })
    opened.push(store)
    const error = await store.ready().then(() => null, (e: unknown) => e)
    expect(isGatewayError(error, 'store.unreachable')).toBe(true)
    await expect(store.query({})).rejects.toMatchObject({ code: 'store.unreachable' })
  })
})

describe('openStore with a postgres:// URL', () => {
  it('opens the PostgreSQL store with its spool next to the config file', async () => {
    const baseDir = join(tempDir, 'config-dir')
    const store = openStore(schema.url(), baseDir, { batchMs: 5 }) as PostgresCallLogStore
    opened.push(store)
    expect(store.spoolDir).toBe(join(baseDir, 'data', 'spool'))
    const record: CallRecord = makeCallRecord(0, Date.now(), { requestId: 'OPEN-STORE-1' })
    store.append(record)
    await store.flush()
    expect((await store.get('OPEN-STORE-1'))?.requestId).toBe('OPEN-STORE-1')
  })

  it('serves `gatehouse calls` and `gatehouse why` from the cluster\'s database', async () => {
    const callsIo = createMemoryIo()
    expect(await callsCommand.run(['--store', schema.url(), '--route', 'billing', '--denied', '--limit', '3', '--json'], callsIo)).toBe(0)
    const listed = JSON.parse(callsIo.out) as CallRecord[]
    expect(listed).toHaveLength(3)
    expect(listed.every((r) => r.route === 'billing' && r.status >= 400)).toBe(true)
    const whyIo = createMemoryIo()
    expect(await whyCommand.run([listed[0].requestId.toLowerCase(), '--store', schema.url(), '--json'], whyIo)).toBe(0)
    expect(JSON.parse(whyIo.out)).toMatchObject({ requestId: listed[0].requestId, layer: 'authz' })
  })

  it('reads an empty cluster database as an empty log, not an error', async () => {
    const fresh = await createTestSchema()
    try {
      const io = createMemoryIo()
      expect(await callsCommand.run(['--store', fresh.url(), '--json'], io)).toBe(0)
      expect(JSON.parse(io.out)).toEqual([])
    } finally {
      await fresh.drop()
    }
  })

  it('refuses a URL it cannot parse', () => {
    expect(() => openStore('postgres://user:p@ss word@host:x/db', tempDir)).toThrow(expect.objectContaining({ code: 'store.invalid' }))
  })
})
