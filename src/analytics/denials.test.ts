import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../store/postgres.js'
import { createTestSchema, type TestSchema } from '../store/postgres-test-support.js'
import { createSqliteStore } from '../store/sqlite.js'
import type { CallLogStore, CallRecord } from '../store/types.js'
import { buildDenialReport, parseDurationMs } from './denials.js'

const hour = 3_600_000
const until = Date.UTC(2026, 2, 10, 12)

function call(i: number, time: number, fields: Partial<CallRecord>): CallRecord {
  return {
    time, requestId: `01JREPORT${String(i).padStart(8, '0')}`, traceId: `t${i}`, route: 'orders', consumer: 'acme-app', tenant: 'acme',
    method: 'POST', path: '/orders', status: 200, decision: 'allow', layer: 'upstream', rule: null, upstreamStatus: 200,
    upstreamMs: 1, totalMs: 2, requestBytes: 0, responseBytes: 0, clientIp: '127.0.0.1', upstreamTarget: null, trail: [], denial: null,
    ...fields,
  }
}

/**
 * Two hours of traffic: the previous hour has 10 calls to orders (1 denied) and none to users;
 * the last hour 20 calls to orders (8 denied: 5 missing-scope, 2 unauthenticated, 1 rate limit),
 * 4 to users (all 403 by the WAF) and 3 calls of another tenant.
 */
function traffic(): CallRecord[] {
  const rows: CallRecord[] = []
  let i = 0
  for (let k = 0; k < 10; k++) rows.push(call(i++, until - 2 * hour + k * 60_000, k === 0 ? { status: 403, layer: 'authz', rule: 'missing-scope' } : {}))
  for (let k = 0; k < 20; k++) {
    const time = until - hour + k * 60_000 // minutes 0..19 of the last hour: the first 20-minute bucket
    const denial: Partial<CallRecord> = k < 5 ? { status: 403, layer: 'authz', rule: 'missing-scope', consumer: 'other-app' }
      : k < 7 ? { status: 401, layer: 'authn', rule: 'missing-credentials' }
        : k < 8 ? { status: 429, layer: 'rate-limit', rule: 'exceeded' } : {}
    rows.push(call(i++, time, denial))
  }
  for (let k = 0; k < 4; k++) rows.push(call(i++, until - 10 * 60_000 + k, { route: 'users', status: 403, layer: 'waf', rule: 'sqli' }))
  for (let k = 0; k < 3; k++) rows.push(call(i++, until - 30 * 60_000, { tenant: 'globex', route: 'billing', status: 403, layer: 'ip', rule: 'denied' }))
  // Outside both periods, and exactly at `until` (exclusive): never counted.
  rows.push(call(i++, until - 3 * hour, { status: 403, layer: 'authz', rule: 'missing-scope' }))
  rows.push(call(i++, until, { status: 403, layer: 'authz', rule: 'missing-scope' }))
  return rows
}

describe.each(['sqlite', 'postgres'] as const)('the denial report on %s', (kind) => {
  let dir: string
  let schema: TestSchema | undefined
  let store: CallLogStore

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-report-'))
    if (kind === 'sqlite') {
      store = createSqliteStore(join(dir, 'calls.db'), { batchMs: 5 })
    } else {
      schema = await createTestSchema()
      store = createPostgresStore(schema.url(), { spoolDir: join(dir, 'spool'), batchMs: 5, onProblem: () => undefined })
    }
    for (const record of traffic()) store.append(record)
    await store.flush()
  })

  afterAll(async () => {
    await store?.close()
    await schema?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('counts 401/403/429 per bucket, listing empty buckets', async () => {
    const report = await buildDenialReport(store, { until, spanMs: hour, bucketMs: 20 * 60_000, by: 'route' })
    expect(report.since).toBe(new Date(until - hour).toISOString())
    expect(report.buckets).toEqual([
      { start: new Date(until - hour).toISOString(), total: 20, denied: 8, status: { 401: 2, 403: 5, 429: 1 }, rate: 0.4 },
      { start: new Date(until - 40 * 60_000).toISOString(), total: 3, denied: 3, status: { 401: 0, 403: 3, 429: 0 }, rate: 1 },
      { start: new Date(until - 20 * 60_000).toISOString(), total: 4, denied: 4, status: { 401: 0, 403: 4, 429: 0 }, rate: 1 },
    ])
  })

  it('compares each route with the previous period of the same length', async () => {
    const report = await buildDenialReport(store, { until, spanMs: hour, bucketMs: hour, by: 'route' })
    expect(report.groups).toEqual([
      { key: 'orders', total: 20, denied: 8, rate: 0.4, previous: { total: 10, denied: 1, rate: 0.1 }, change: 0.3, buckets: [8] },
      { key: 'users', total: 4, denied: 4, rate: 1, previous: { total: 0, denied: 0, rate: 0 }, change: null, buckets: [4] },
      { key: 'billing', total: 3, denied: 3, rate: 1, previous: { total: 0, denied: 0, rate: 0 }, change: null, buckets: [3] },
    ])
  })

  it('gives each group its denials per bucket, for stacked charts', async () => {
    const report = await buildDenialReport(store, { until, spanMs: hour, bucketMs: 20 * 60_000, by: 'route' })
    const byKey = Object.fromEntries(report.groups.map((g) => [g.key, g.buckets]))
    expect(byKey.orders).toHaveLength(report.buckets.length)
    // Summed over groups, each bucket's denials add up to the bucket's own count.
    report.buckets.forEach((bucket, i) => expect(report.groups.reduce((sum, g) => sum + g.buckets[i], 0)).toBe(bucket.denied))
    for (const group of report.groups) expect(group.buckets.reduce((a, b) => a + b, 0)).toBe(group.denied)
  })

  it('ranks the top denial reasons by layer and rule', async () => {
    const report = await buildDenialReport(store, { until, spanMs: hour, bucketMs: hour, by: 'layer' })
    expect(report.top).toEqual([
      { layer: 'authz', rule: 'missing-scope', count: 5 },
      { layer: 'waf', rule: 'sqli', count: 4 },
      { layer: 'ip', rule: 'denied', count: 3 },
      { layer: 'authn', rule: 'missing-credentials', count: 2 },
      { layer: 'rate-limit', rule: 'exceeded', count: 1 },
    ])
  })

  it('scopes every number to one tenant, and filters by consumer', async () => {
    const acme = await buildDenialReport(store, { until, spanMs: hour, bucketMs: hour, by: 'tenant', tenant: 'acme' })
    expect(acme.groups.map((g) => g.key)).toEqual(['acme'])
    expect(acme.top.some((t) => t.layer === 'ip')).toBe(false)
    expect(acme.buckets[0].total).toBe(24)
    const other = await buildDenialReport(store, { until, spanMs: hour, bucketMs: hour, by: 'consumer', consumer: 'other-app' })
    expect(other.groups).toEqual([{ key: 'other-app', total: 5, denied: 5, rate: 1, previous: { total: 0, denied: 0, rate: 0 }, change: null, buckets: [5] }])
  })

  it('lists a group that had calls only in the previous period', async () => {
    const report = await buildDenialReport(store, { until: until - hour, spanMs: hour / 2, bucketMs: hour / 2, by: 'rule' })
    // The half hour before it held the previous hour's 10 calls, one denied by missing-scope.
    expect(report.groups).toEqual([
      { key: 'missing-scope', total: 0, denied: 0, rate: 0, previous: { total: 1, denied: 1, rate: 1 }, change: -1, buckets: [0] },
      { key: null, total: 0, denied: 0, rate: 0, previous: { total: 9, denied: 0, rate: 0 }, change: 0, buckets: [0] },
    ])
  })
})

describe('parseDurationMs', () => {
  it.each([['90s', 90_000], ['15m', 900_000], ['24h', 86_400_000], ['7d', 604_800_000]])('reads %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms)
  })
  it.each(['', '0h', '1w', '1.5h', '-1h', '401d', '1h ', '9999999h'])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined()
  })
})
