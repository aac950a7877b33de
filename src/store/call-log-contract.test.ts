import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from './postgres.js'
import { createTestSchema, makeCallRecord, type TestSchema } from './postgres-test-support.js'
import { createSqliteStore } from './sqlite.js'
import type { AggregateQuery, CallLogStore, CallQuery, CallRecord } from './types.js'

/**
 * The same calls written to both stores must read back the same: a cluster moving from the
 * embedded SQLite log to PostgreSQL keeps every `calls` filter and `why` lookup meaning what it meant.
 */
describe('the call-log contract on SQLite and PostgreSQL alike', () => {
  let dir: string
  let schema: TestSchema
  let sqlite: CallLogStore
  let postgres: CallLogStore
  const baseTime = Date.UTC(2026, 0, 15, 12)
  const records: CallRecord[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-contract-'))
    schema = await createTestSchema()
    sqlite = createSqliteStore(join(dir, 'calls.db'), { batchMs: 5 })
    postgres = createPostgresStore(schema.url(), { spoolDir: join(dir, 'spool'), batchMs: 5, onProblem: () => undefined })
    for (let i = 0; i < 600; i++) {
      // Every third call shares its millisecond with the one before: ties order by append order.
      const time = baseTime - Math.floor(i / 3) * 1000
      records.push(makeCallRecord(i, time, { time, tenant: i % 7 === 0 ? 'globex' : 'acme', status: [200, 201, 403, 401, 429, 502][i % 6] }))
    }
    records.push(makeCallRecord(9999, baseTime, { requestId: 'ab%_*?[x]-wildcards', path: '/ünïcødé/😀' }))
    for (const record of records) {
      sqlite.append(record)
      postgres.append(record)
    }
    await Promise.all([sqlite.flush(), postgres.flush()])
  })

  afterAll(async () => {
    await Promise.all([sqlite?.close(), postgres?.close()])
    await schema?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each<[string, CallQuery]>([
    ['defaults', {}],
    ['all of them', { limit: 1000 }],
    ['denied', { denied: true, limit: 1000 }],
    ['route and consumer', { route: 'users', consumer: 'acme', limit: 1000 }],
    ['tenant', { tenant: 'globex', limit: 1000 }],
    ['layer', { layer: 'upstream', limit: 20 }],
    ['status', { status: 429, limit: 1000 }],
    ['a time window', { since: baseTime - 50_000, until: baseTime - 20_000, limit: 1000 }],
    ['an empty window', { since: baseTime, until: baseTime }],
    ['a fractional limit and times', { limit: 7.9, since: baseTime - 10_000.5 }],
    ['an unknown route', { route: 'nope' }],
  ])('answers %s the same', async (_name, query) => {
    const [fromSqlite, fromPostgres] = await Promise.all([sqlite.query(query), postgres.query(query)])
    expect(fromSqlite.length > 0).toBe(query.route !== 'nope' && query.until !== baseTime)
    expect(fromPostgres).toEqual(fromSqlite)
  })

  it.each<[string, string, string | null]>([
    ['a full id', makeCallRecord(123, 0).requestId, makeCallRecord(123, 0).requestId],
    ['a lower-case id', makeCallRecord(123, 0).requestId.toLowerCase(), makeCallRecord(123, 0).requestId],
    ['a prefix shared by ten calls', '01JTEST000000012', null],
    ['a unique prefix holding wildcard characters', 'ab%_*?[x', 'ab%_*?[x]-wildcards'],
    ['wildcards that would match if they were patterns', 'ab%%%%%%', null],
    ['a prefix under 8 characters', 'ab%_*?[', null],
    ['an unknown id', 'NO-SUCH-CALL', null],
  ])('gets by %s the same', async (_name, id, found) => {
    const [fromSqlite, fromPostgres] = await Promise.all([sqlite.get(id), postgres.get(id)])
    expect(fromSqlite?.requestId ?? null).toBe(found)
    expect(fromPostgres).toEqual(fromSqlite)
  })

  it.each<[string, AggregateQuery]>([
    ['per bucket', { since: baseTime - 200_000, until: baseTime + 1, bucketMs: 30_000 }],
    ['per route', { since: baseTime - 200_000, until: baseTime + 1, bucketMs: 200_001, by: ['route'] }],
    ['per tenant and consumer', { since: baseTime - 120_000, until: baseTime, bucketMs: 60_000, by: ['tenant', 'consumer'] }],
    ['denials per layer and rule', { since: baseTime - 200_000, until: baseTime + 1, bucketMs: 200_001, by: ['layer', 'rule'], deniedOnly: true }],
    ['one route of one tenant', { since: baseTime - 200_000, until: baseTime + 1, bucketMs: 10_000, route: 'users', tenant: 'acme' }],
    ['an empty span', { since: baseTime, until: baseTime, bucketMs: 1000 }],
  ])('aggregates %s the same', async (_name, query) => {
    const [fromSqlite, fromPostgres] = await Promise.all([sqlite.aggregate!(query), postgres.aggregate!(query)])
    expect(fromPostgres).toEqual(fromSqlite)
    // The same numbers a plain filter over the records gives.
    const inSpan = records.filter((r) => r.time >= query.since && r.time < query.until
      && (query.route === undefined || r.route === query.route) && (query.tenant === undefined || r.tenant === query.tenant)
      && (!query.deniedOnly || [401, 403, 429].includes(r.status)))
    expect(fromSqlite.reduce((n, row) => n + row.total, 0)).toBe(inSpan.length)
    expect(fromSqlite.reduce((n, row) => n + row.status429, 0)).toBe(inSpan.filter((r) => r.status === 429).length)
    expect(fromSqlite.reduce((n, row) => n + row.denied, 0)).toBe(inSpan.filter((r) => [401, 403, 429].includes(r.status)).length)
    for (const row of fromSqlite) {
      expect((row.bucket - query.since) % query.bucketMs).toBe(0)
      expect(row.keys).toHaveLength(query.by?.length ?? 0)
    }
  })
})
