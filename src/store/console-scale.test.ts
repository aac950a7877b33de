import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDenialReport } from '../analytics/denials.js'
import { applyMigrations, insertCallSql, recordToRow } from './sqlite-schema.js'
import { createSqliteReads, type SqliteReads } from './sqlite-reads.js'
import type { AggregateQuery, CallLogStore, CallQuery, CallRecord } from './types.js'

// The console's queries on a big call log must walk an index, never read every row: a full scan
// of a million wide rows (trails, denials) takes most of a second and holds the reader thread.
// `bench/console.js` measures the timings on a million calls; this checks the query plans.

const rowCount = 200_000
const now = Date.UTC(2026, 5, 1)
const spanMs = 30 * 864e5
const routes = ['orders-list', 'order-get', 'orders-create', 'invoices', 'search', 'health']
const consumers = ['acme-app', 'acme-batch', 'globex-app', 'initech-app', 'hooli-app', null]
const tenantOf = (consumer: string | null) => consumer === null ? null : consumer.split('-')[0]
/** [status, layer, rule]: mostly allowed, some of every denial, a rare WAF block. */
const outcomes: [number, string, string | null][] = [
  ...Array.from({ length: 16 }, (): [number, string, string | null] => [200, 'upstream', null]),
  [401, 'authn', 'missing-credentials'], [403, 'authz', 'missing-scope'], [429, 'rate-limit', 'limit-exceeded'],
  [403, 'upstream', 'status-403'], [502, 'upstream', 'upstream-unreachable'],
]

function recordOf(i: number): CallRecord {
  const [status, layer, rule] = i % 997 === 0 ? [403, 'waf', 'sqli'] : outcomes[(i * 8) % outcomes.length]
  const consumer = consumers[(i * 13) % consumers.length]
  return {
    time: now - spanMs + Math.floor((i * spanMs) / rowCount),
    requestId: `01JX${String(i).padStart(22, '0')}`,
    traceId: `trace-${i}`,
    route: routes[(i * 5) % routes.length],
    consumer,
    tenant: tenantOf(consumer),
    method: 'GET',
    path: '/orders',
    status,
    decision: layer === 'upstream' && status < 400 ? 'allow' : layer,
    layer,
    rule,
    upstreamStatus: layer === 'upstream' ? status : null,
    upstreamMs: layer === 'upstream' ? 2 : null,
    totalMs: 3,
    requestBytes: 0,
    responseBytes: 100,
    clientIp: '10.0.0.1',
    upstreamTarget: layer === 'upstream' ? 'http://127.0.0.1:3001' : null,
    trail: [{ layer: 'authn', result: 'allow', ms: 0.1 }, { layer, result: status < 400 ? 'allow' : 'deny', ms: 0.1, ...(rule ? { rule } : {}) }],
    denial: status >= 400 && layer !== 'upstream' ? { layer, rule: `${layer}.${rule}`, status, remediation: 'see the docs' } : null,
  }
}

let dir: string
let db: Database.Database
let reads: SqliteReads
const records: CallRecord[] = []
/** A statement the reads ran: its SQL and the parameters it was run with. */
interface Ran {
  sql: string
  args: unknown[]
}
/** Statements the reads ran since the last `take()`. */
let seen: Ran[] = []
const take = () => {
  const ran = seen
  seen = []
  return ran
}

/** EXPLAIN QUERY PLAN of one statement with its parameters, one line per step. */
function planOf({ sql, args }: Ran): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((row) => row.detail)
}

/**
 * The plans of the statements `run` runs that read calls. The look-ups that pick an index (is
 * it there, how many calls a value has, up to a cap) are checked here to stay off any scan.
 */
function plansOf(run: () => unknown): string[][] {
  take()
  run()
  const ran = take()
  for (const lookup of ran.filter((r) => !/^SELECT (\*|CAST)/.test(r.sql))) {
    const plan = planOf(lookup)
    expect(plan.filter((step) => step.startsWith('SCAN calls')), `${lookup.sql}: ${plan.join(' | ')}`).toEqual([])
  }
  return ran.filter((r) => /^SELECT (\*|CAST)/.test(r.sql)).map(planOf)
}

/** Prepares like the store does, noting each run of the statement. */
function recording(sql: string): Database.Statement {
  const statement = db.prepare(sql)
  const all = statement.all.bind(statement)
  const get = statement.get.bind(statement)
  return Object.assign(statement, {
    all: (...args: unknown[]) => {
      seen.push({ sql, args })
      return all(...args)
    },
    get: (...args: unknown[]) => {
      seen.push({ sql, args })
      return get(...args)
    },
  })
}

/**
 * A plan that may read every row of the table: a table scan, a sort of every match to find the
 * newest, or (with a filter) a walk of an index that cannot check the filter, so a filter that
 * matches nothing reads every row through it.
 */
function readsEverything(plan: string[], filtered: boolean): boolean {
  return plan.some((step) => /^SCAN calls$/.test(step) || step.includes('TEMP B-TREE FOR ORDER BY') ||
    (filtered && /^SCAN calls USING INDEX (?!calls_console\b)/.test(step)))
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-console-scale-'))
  const file = join(dir, 'calls.db')
  const writer = new Database(file)
  writer.pragma('journal_mode = WAL')
  writer.pragma('synchronous = OFF')
  applyMigrations(writer)
  const insert = writer.prepare(insertCallSql)
  // recordToRow once per outcome (its JSON and redaction are the slow part), then the fields
  // that vary per call: every column the store writes is still there.
  const templates = new Map<string, ReturnType<typeof recordToRow>>()
  writer.transaction(() => {
    for (let i = 0; i < rowCount; i++) {
      const record = recordOf(i)
      records.push(record)
      const key = `${record.status} ${record.layer}`
      let template = templates.get(key)
      if (!template) templates.set(key, template = recordToRow(record))
      insert.run({ ...template, time: record.time, request_id: record.requestId, trace_id: record.traceId, route: record.route, consumer: record.consumer, tenant: record.tenant })
    }
  })()
  writer.close()
  db = new Database(file, { readonly: true })
  reads = createSqliteReads(recording)
}, 60_000)

afterAll(() => {
  db?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** What a call list must answer, found the slow way. */
function expected(q: CallQuery): string[] {
  return records
    .filter((r) =>
      (!q.denied || r.status >= 400) && (q.route === undefined || r.route === q.route) &&
      (q.consumer === undefined || r.consumer === q.consumer) && (q.tenant === undefined || r.tenant === q.tenant) &&
      (q.layer === undefined || r.layer === q.layer) && (q.status === undefined || r.status === q.status) &&
      (q.since === undefined || r.time >= q.since) && (q.until === undefined || r.time < q.until))
    .sort((a, b) => b.time - a.time || (a.requestId < b.requestId ? 1 : -1))
    .slice(0, q.limit ?? 50)
    .map((r) => r.requestId)
}

describe('console queries on a 200k-call log', () => {
  it('has the index that covers the console filters and the denial report', () => {
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls'").all() as { name: string }[]).map((r) => r.name)
    expect(indexes).toContain('calls_console')
  })

  // Each filter of the call explorer, alone and together, as a console or a tenant admin sends it.
  const lists: [string, CallQuery][] = [
    ['newest calls', {}],
    ['denied', { denied: true }],
    ['a route', { route: 'search' }],
    ['a consumer', { consumer: 'globex-app' }],
    ['a status', { status: 429 }],
    ['a rare layer', { layer: 'waf' }],
    ['a layer nothing logged', { layer: 'csrf' }],
    ['a tenant (tenant admin)', { tenant: 'acme' }],
    ['a tenant admin filtering denied calls of a layer', { tenant: 'acme', denied: true, layer: 'authz' }],
    ['a consumer and a rare layer', { consumer: 'hooli-app', layer: 'waf' }],
    ['a frequent status and a route that never has it', { status: 200, route: 'no-such-route' }],
    ['the last hour', { since: now - 36e5 }],
    ['denied on a route in the last week', { denied: true, route: 'invoices', since: now - 7 * 864e5 }],
    ['the spike checker sample', { route: 'search', layer: 'authz', denied: true, since: now - 36e5, until: now, limit: 200 }],
  ]
  it.each(lists)('the call list of %s walks an index newest first and answers correctly', (_name, q) => {
    let answer: CallRecord[] = []
    const [plan] = plansOf(() => { answer = reads.query(q) })
    const filtered = Object.keys(q).some((key) => !['since', 'until', 'limit'].includes(key))
    expect(plan, plan.join(' | ')).toSatisfy((p: string[]) => !readsEverything(p, filtered))
    expect(plan.join(' | ')).toMatch(/USING (COVERING )?INDEX calls_/)
    expect(answer.map((r) => r.requestId)).toEqual(expected(q))
  })

  it('checks combined filters on the console index, not through one value of a frequent column', () => {
    for (const q of [{ tenant: 'acme', layer: 'waf' }, { status: 200, tenant: 'nobody' }, { denied: true }, { layer: 'upstream', consumer: 'acme-app' }, { route: 'search', status: 403 }]) {
      const [plan] = plansOf(() => reads.query(q))
      expect(plan.join(' | '), JSON.stringify(q)).toMatch(/^SCAN calls USING INDEX calls_console$/)
    }
  })

  it('walks the own index of a rare route, consumer or status combined with other filters', () => {
    // Status 502 is under 5% of the log: its rows are fewer than a pass over the console index.
    for (const q of [{ status: 502, layer: 'upstream' }, { status: 502, tenant: 'acme', denied: true }, { status: 200, consumer: 'nobody', since: now - 864e5 }]) {
      let answer: CallRecord[] = []
      const [plan] = plansOf(() => { answer = reads.query(q) })
      expect(plan.join(' | '), JSON.stringify(q)).toMatch(/^SEARCH calls USING INDEX calls_(status|consumer)_time \((status|consumer)=\?/)
      expect(answer.map((r) => r.requestId)).toEqual(expected(q))
    }
  })

  it('finds one call by id, typed in lower case, or by a prefix through the request-id index', () => {
    const id = records[123_456].requestId
    const plans = plansOf(() => {
      expect(reads.get(id)?.requestId).toBe(id)
      expect(reads.get(id.toLowerCase())?.requestId).toBe(id)
      // A prefix shared by ten calls names none of them.
      expect(reads.get(id.slice(0, 25))).toBeNull()
    })
    expect(plans.length).toBeGreaterThan(0)
    for (const plan of plans) expect(plan.join(' | ')).toMatch(/SEARCH calls USING INDEX calls_request_id/)
  })

  // The dashboard's report over 1 h, 24 h and 7 d (three aggregates each), filtered as a tenant
  // admin's or a route's, and the spike checker's aggregate.
  const reports: [string, { spanMs: number; bucketMs: number; by: 'route' | 'layer' | 'rule' | 'consumer'; route?: string; tenant?: string }][] = [
    ['1 h by layer', { spanMs: 36e5, bucketMs: 6e4, by: 'layer' }],
    ['24 h by route', { spanMs: 864e5, bucketMs: 36e5, by: 'route' }],
    ['24 h by rule for a tenant admin', { spanMs: 864e5, bucketMs: 36e5, by: 'rule', tenant: 'acme' }],
    ['7 d by layer', { spanMs: 7 * 864e5, bucketMs: 6 * 36e5, by: 'layer' }],
    ['7 d by consumer on one route', { spanMs: 7 * 864e5, bucketMs: 864e5, by: 'consumer', route: 'search' }],
  ]
  it.each(reports)('the denial report of %s reads a time range of an index, never the rows', async (_name, options) => {
    const aggregates: AggregateQuery[] = []
    const store: CallLogStore = {
      append: () => undefined,
      query: async () => [],
      get: async () => null,
      flush: async () => undefined,
      close: async () => undefined,
      aggregate: async (q) => {
        aggregates.push(q)
        return reads.aggregate(q)
      },
    }
    take()
    const report = await buildDenialReport(store, { until: now, ...options })
    const plans = take().map(planOf)
    expect(aggregates).toHaveLength(3)
    expect(plans).toHaveLength(3)
    for (const plan of plans) {
      const text = plan.join(' | ')
      expect(text).toMatch(/^SEARCH calls USING COVERING INDEX calls_console \(time>\? AND time<\?\)/)
    }
    const inSpan = records.filter((r) => r.time >= now - options.spanMs && r.time < now &&
      (options.route === undefined || r.route === options.route) && (options.tenant === undefined || r.tenant === options.tenant))
    expect(report.buckets.reduce((sum, b) => sum + b.total, 0)).toBe(inSpan.length)
    expect(report.buckets.reduce((sum, b) => sum + b.denied, 0)).toBe(inSpan.filter((r) => [401, 403, 429].includes(r.status)).length)
  })

  it('the spike checker groups the last window by route and layer from the index alone', () => {
    const [plan] = plansOf(() => reads.aggregate({ since: now - 5 * 6e4, until: now, bucketMs: 5 * 6e4, by: ['route', 'layer'] }))
    expect(plan.join(' | ')).toMatch(/^SEARCH calls USING COVERING INDEX calls_console \(time>\? AND time<\?\)/)
  })
})
