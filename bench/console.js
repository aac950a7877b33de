// `npm run bench:console` (after `npm run build`): is the admin console still responsive with a
// million calls in the log? Seeds a SQLite call log with 1,000,000 realistic calls over 30 days,
// starts a real gateway (admin API on, reader worker) with a demo upstream, then prints
//   1. p50/p95 of every query the console makes (call list with each filter, call by id,
//      denial analytics over 1 h, 24 h and 7 d), and
//   2. gateway latency and throughput with the console idle and with it hammered.
// Bounded: each console query stops after BENCH_CALLS calls (default 20) or 15 s; load phases
// last BENCH_LOAD_SECONDS in all (default 6, idle and hammered alternating). Env BENCH_ROWS (default 1,000,000) and BENCH_DB (a file
// to seed once and reuse between runs; migrations still run on it) help when iterating.
// `--compare` first runs everything without the `calls_console` index (as the log was before
// migration 3), then with it, on the same file in the same run, so the two are comparable.
import { createServer } from 'node:http'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { Pool } from 'undici'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = (path) => import(join(root, 'dist', path))
const { applyMigrations, insertCallSql } = await dist('store/sqlite-schema.js')
const { startGateway } = await dist('gateway/server.js')
const { consoleIndexesMigration } = await dist('store/migrations/003-console-indexes.js')
const compare = process.argv.includes('--compare')

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000)
const callsPerQuery = Number(process.env.BENCH_CALLS ?? 20)
const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? 6)
const days = 30
const work = mkdtempSync(join(tmpdir(), 'gatehouse-console-bench-'))
const dbFile = process.env.BENCH_DB ?? join(work, 'calls.db')
const adminToken = 'console-bench-admin-token-0123456789'
const tenantToken = 'console-bench-tenant-token-0123456789'
const now = Date.now()

// ---- a deterministic PRNG, so every run seeds the same log ----
let seed = 0x9e3779b9
function rand() {
  seed ^= seed << 13; seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5; seed >>>= 0
  return seed / 0x100000000
}
const pick = (list) => list[Math.floor(rand() * list.length)]
/** Picks from [value, weight] pairs. */
function weighted(pairs) {
  const total = pairs.reduce((sum, [, w]) => sum + w, 0)
  let r = rand() * total
  for (const [value, w] of pairs) {
    r -= w
    if (r < 0) return value
  }
  return pairs[pairs.length - 1][0]
}

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** A ULID-shaped id: 10 chars of time, 16 random, like the gateway's request ids. */
function requestId(time) {
  let out = ''
  let t = time
  for (let i = 0; i < 10; i++) {
    out = crockford[t % 32] + out
    t = Math.floor(t / 32)
  }
  for (let i = 0; i < 16; i++) out += crockford[Math.floor(rand() * 32)]
  return out
}

// ---- what the seeded traffic looks like ----
const tenants = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark']
const consumers = tenants.flatMap((tenant) => Array.from({ length: 6 }, (_, i) => ({ name: `${tenant}-app-${i}`, tenant })))
const routes = ['orders-list', 'order-get', 'orders-create', 'invoices', 'invoice-get', 'customers', 'customer-get',
  'search', 'reports', 'webhooks', 'health', 'legacy-admin']
const layers = ['request-id', 'ip', 'cors', 'body', 'waf', 'authn', 'subscription', 'authz', 'csrf', 'rate-limit', 'transform']
/** [status, layer, rule, weight]: what decided and why. Allowed calls are `upstream`/null. */
const outcomes = [
  [200, 'upstream', null, 760],
  [201, 'upstream', null, 40],
  [401, 'authn', 'missing-credentials', 30],
  [401, 'authn', 'unknown-key', 20],
  [401, 'authn', 'expired-token', 10],
  [403, 'authz', 'missing-scope', 35],
  [403, 'ip', 'ip-not-allowed', 12],
  [403, 'cors', 'origin-not-allowed', 8],
  [403, 'subscription', 'no-subscription', 15],
  [403, 'csrf', 'missing-token', 4],
  [403, 'waf', 'sqli', 1],
  [403, 'upstream', 'status-403', 10],
  [429, 'rate-limit', 'limit-exceeded', 40],
  [404, 'gateway', 'no-route', 10],
  [500, 'upstream', 'status-500', 3],
  [502, 'upstream', 'upstream-unreachable', 1],
  [503, 'upstream', 'no-healthy-target', 1],
].map(([status, layer, rule, w]) => [{ status, layer, rule }, w])

function trailFor(outcome) {
  const trail = [{ layer: 'request-id', result: 'allow', ms: 0.01 }, { layer: 'ip', result: 'skip', ms: 0.01 }]
  const stop = layers.indexOf(outcome.layer)
  for (const layer of ['cors', 'authn', 'subscription', 'authz', 'rate-limit']) {
    if (stop >= 0 && layers.indexOf(layer) >= stop) break
    trail.push({ layer, result: 'allow', ms: 0.05, ...(layer === 'authn' ? { detail: { method: 'key' } } : {}) })
  }
  if (outcome.rule && outcome.layer !== 'upstream' && outcome.layer !== 'gateway') {
    trail.push({ layer: outcome.layer, result: 'deny', rule: `${outcome.layer}.${outcome.rule}`, ms: 0.08, detail: { reason: outcome.rule } })
  }
  return JSON.stringify(trail)
}
const trails = new Map(outcomes.map(([o]) => [o, trailFor(o)]))

function seedLog() {
  const db = new Database(dbFile)
  db.pragma('journal_mode = WAL')
  applyMigrations(db)
  const have = db.prepare('SELECT COUNT(*) AS n FROM calls').get().n
  if (have >= rows) {
    db.close()
    return { seeded: 0, ms: 0, reused: have }
  }
  db.pragma('synchronous = OFF')
  const insert = db.prepare(insertCallSql)
  const started = performance.now()
  const span = days * 864e5
  const first = now - span
  const step = span / rows
  const insertMany = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      // Even spread with jitter, in time order (as the gateway writes them); a daily rhythm.
      const time = Math.floor(first + i * step + rand() * step)
      const outcome = weighted(outcomes)
      const consumer = outcome.status === 401 || rand() < 0.03 ? null : pick(consumers)
      const route = outcome.layer === 'gateway' ? null : weighted(routes.map((r, k) => [r, 12 - k]))
      const denied = outcome.status >= 400
      insert.run({
        time,
        request_id: requestId(time),
        trace_id: requestId(time).toLowerCase() + '000000',
        route,
        consumer: consumer?.name ?? null,
        tenant: consumer?.tenant ?? null,
        method: route === 'orders-create' ? 'POST' : 'GET',
        path: route ? `/${route.replace('-', '/')}/${Math.floor(rand() * 5000)}` : '/nowhere',
        status: outcome.status,
        decision: outcome.layer === 'upstream' ? (denied ? 'upstream' : 'allow') : outcome.layer,
        layer: outcome.layer,
        rule: outcome.rule,
        upstream_status: outcome.layer === 'upstream' ? outcome.status : null,
        upstream_ms: outcome.layer === 'upstream' ? Math.round(rand() * 4000) / 100 : null,
        total_ms: Math.round(rand() * 5000) / 100,
        request_bytes: route === 'orders-create' ? 300 : 0,
        response_bytes: Math.floor(rand() * 4000),
        client_ip: `10.0.${Math.floor(rand() * 4)}.${Math.floor(rand() * 250)}`,
        upstream_target: outcome.layer === 'upstream' ? 'http://127.0.0.1:3001' : null,
        trail: trails.get(outcome),
        denial: denied && outcome.layer !== 'upstream'
          ? JSON.stringify({ status: outcome.status, layer: outcome.layer, rule: `${outcome.layer}.${outcome.rule}`, message: 'denied', remediation: 'see the docs' })
          : null,
        ai: null,
      })
    }
  })
  for (let from = have; from < rows; from += 50_000) insertMany(from, Math.min(rows, from + 50_000))
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return { seeded: rows - have, ms: performance.now() - started, reused: have }
}

// ---- measuring ----
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
const fmt = (ms) => (Number.isNaN(ms) ? '-' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1))

async function timeQuery(pool, path, token = adminToken) {
  const started = performance.now()
  const res = await pool.request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } })
  const body = await res.body.text()
  const ms = performance.now() - started
  if (res.statusCode !== 200 && res.statusCode !== 404) throw new Error(`${path}: ${res.statusCode} ${body.slice(0, 200)}`)
  return { ms, status: res.statusCode, body }
}

async function measureConsole(admin, cases) {
  const results = []
  for (const { name, path, token, expect } of cases) {
    const times = []
    let note = ''
    const stopAt = performance.now() + 15_000
    for (let i = 0; i < callsPerQuery && performance.now() < stopAt; i++) {
      const { ms, body } = await timeQuery(admin, typeof path === 'function' ? path(i) : path, token)
      times.push(ms)
      if (i === 0 && expect) note = expect(JSON.parse(body))
    }
    times.sort((a, b) => a - b)
    results.push({ name, n: times.length, p50: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1], note })
  }
  return results
}

/** `connections` loops of requests to the gateway for `seconds`; latency percentiles and req/s. */
async function load(gatewayUrl, seconds, connections = 16) {
  const pool = new Pool(gatewayUrl, { connections, pipelining: 1 })
  const times = []
  let errors = 0
  const until = performance.now() + seconds * 1000
  const paths = ['/orders', '/orders/42', '/invoices']
  await Promise.all(Array.from({ length: connections }, async (_, k) => {
    let i = k
    while (performance.now() < until) {
      const started = performance.now()
      try {
        const res = await pool.request({ method: 'GET', path: paths[i++ % paths.length], headers: { 'x-api-key': 'bench-key' } })
        await res.body.dump()
        if (res.statusCode !== 200) errors++
      } catch {
        errors++
      }
      times.push(performance.now() - started)
    }
  }))
  await pool.close()
  return { times, seconds, errors }
}

/** Percentiles and req/s over several load runs taken together. */
function merged(runs) {
  const times = runs.flatMap((r) => r.times).sort((a, b) => a - b)
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0)
  const errors = runs.reduce((sum, r) => sum + r.errors, 0)
  return { rps: times.length / seconds, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), errors }
}

/** Keeps `parallel` console clients busy with the heavy queries until stopped. */
function hammer(admin, paths, parallel = 2) {
  let running = true
  let done = 0
  const loops = Array.from({ length: parallel }, async (_, k) => {
    let i = k
    while (running) {
      await timeQuery(admin, paths[i++ % paths.length])
      done++
    }
  })
  return async () => {
    running = false
    await Promise.all(loops)
    return done
  }
}

// ---- run ----
console.log(`seeding ${rows.toLocaleString('en')} calls over ${days} days into ${dbFile} ...`)
const seeding = seedLog()
console.log(seeding.seeded > 0
  ? `seeded ${seeding.seeded.toLocaleString('en')} rows in ${(seeding.ms / 1000).toFixed(1)} s`
  : `reusing ${seeding.reused.toLocaleString('en')} rows`)
const probe = new Database(dbFile, { readonly: true })
const sample = probe.prepare('SELECT request_id FROM calls WHERE id % 50000 = 7 ORDER BY id').all().map((r) => r.request_id)
probe.close()

const upstream = createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end('{"ok":true}')
})
await new Promise((ok) => upstream.listen(0, '127.0.0.1', ok))
const keyHash = (await import('node:crypto')).createHash('sha256').update('bench-key').digest('hex')
const configFile = join(work, 'gatehouse.yaml')
writeFileSync(configFile, `store: sqlite:${dbFile}
admin:
  tokens:
    - "${adminToken}"
    - { token: "${tenantToken}", role: tenant-admin, tenant: acme }
upstreams: { orders: { targets: [ "http://127.0.0.1:${upstream.address().port}" ] } }
consumers: [ { name: acme-app-0, tenant: acme, keys: [ "sha256:${keyHash}" ], scopes: [ read ] } ]
routes:
  - { name: orders-list, match: { methods: [ GET ], path: /orders }, upstream: orders, policies: { auth: { methods: [ key ] }, scopes: [ read ] } }
  - { name: order-get, match: { methods: [ GET ], path: /orders/:id }, upstream: orders, policies: { auth: { methods: [ key ] }, scopes: [ read ] } }
  - { name: invoices, match: { methods: [ GET ], path: /invoices }, upstream: orders, policies: { auth: { methods: [ key ] }, scopes: [ read ] } }
`)
const count = (body) => `${body.calls.length} rows`
const report = (body) => `${body.buckets.length} buckets, ${body.groups.length} groups, top ${body.top[0]?.layer ?? '-'}/${body.top[0]?.rule ?? '-'}`
const cases = [
  { name: 'calls: newest 50', path: '/api/calls', expect: count },
  { name: 'calls: denied', path: '/api/calls?denied=true', expect: count },
  { name: 'calls: route', path: '/api/calls?route=customers', expect: count },
  { name: 'calls: consumer', path: '/api/calls?consumer=globex-app-3', expect: count },
  { name: 'calls: layer authz', path: '/api/calls?layer=authz', expect: count },
  { name: 'calls: layer waf (rare)', path: '/api/calls?layer=waf', expect: count },
  { name: 'calls: status 403', path: '/api/calls?status=403', expect: count },
  { name: 'calls: status 503 (rare)', path: '/api/calls?status=503', expect: count },
  { name: 'calls: since 1h', path: '/api/calls?since=1h', expect: count },
  { name: 'calls: denied+route+since 7d', path: '/api/calls?denied=true&route=search&since=7d', expect: count },
  { name: 'calls: consumer+layer (rare)', path: '/api/calls?consumer=hooli-app-1&layer=csrf', expect: count },
  { name: 'calls: tenant admin, denied', path: '/api/calls?denied=true', token: tenantToken, expect: count },
  { name: 'calls: tenant admin, waf', path: '/api/calls?layer=waf', token: tenantToken, expect: count },
  { name: 'calls: no match', path: '/api/calls?layer=nothing-logs-this', expect: count },
  { name: 'call by id', path: (i) => `/api/calls/${sample[i % sample.length]}` },
  { name: 'call by id prefix (lower case)', path: (i) => `/api/calls/${sample[i % sample.length].slice(0, 12).toLowerCase()}` },
  { name: 'call by id, unknown', path: (i) => `/api/calls/01ZZZZZZZZZZZZZZZZZZZZZZ${i % 10}` },
  { name: 'denials 1h by layer (1m)', path: '/api/analytics/denials?since=1h&bucket=1m&by=layer', expect: report },
  { name: 'denials 24h by route (1h)', path: '/api/analytics/denials?since=24h&bucket=1h&by=route', expect: report },
  { name: 'denials 24h by rule (1h)', path: '/api/analytics/denials?since=24h&bucket=1h&by=rule', expect: report },
  { name: 'denials 24h by layer (5m)', path: '/api/analytics/denials?since=24h&bucket=5m&by=layer', expect: report },
  { name: 'denials 24h tenant admin', path: '/api/analytics/denials?since=24h&bucket=1h&by=consumer', token: tenantToken, expect: report },
  { name: 'denials 7d by layer (6h)', path: '/api/analytics/denials?since=7d&bucket=6h&by=layer', expect: report },
  { name: 'denials 7d by rule (1h)', path: '/api/analytics/denials?since=7d&bucket=1h&by=rule', expect: report },
  { name: 'denials 7d by route, route filter', path: '/api/analytics/denials?since=7d&bucket=1d&by=consumer&route=orders-list', expect: report },
]

const load1 = () => loadavg()[0].toFixed(1)

/** Starts the gateway on the log, measures every console query, then the gateway with the console idle and hammered. */
async function measure(label) {
  const openStarted = performance.now()
  const gateway = await startGateway({ configFile, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', watch: false })
  const openMs = performance.now() - openStarted
  const admin = new Pool(gateway.adminUrl, { connections: 4 })
  try {
    console.log(`\n== ${label} ==  (gateway up in ${openMs.toFixed(0)} ms, migrations included; load average ${load1()})`)
    // One warm-up pass: the reader thread starts and SQLite's page cache fills, as on a console in use.
    for (const c of cases) await timeQuery(admin, typeof c.path === 'function' ? c.path(0) : c.path, c.token)
    const results = await measureConsole(admin, cases)
    const width = Math.max(...results.map((r) => r.name.length))
    console.log(`${'console query'.padEnd(width)}    n   p50 ms   p95 ms   max ms  answer`)
    for (const r of results) {
      console.log(`${r.name.padEnd(width)}  ${String(r.n).padStart(3)}  ${fmt(r.p50).padStart(7)}  ${fmt(r.p95).padStart(7)}  ${fmt(r.max).padStart(7)}  ${r.note}`)
    }

    await load(gateway.url, 1) // warm-up
    // Idle and hammered phases alternate, three of each, so a change in the machine's other load
    // (a shared CI box) falls on both rather than on one.
    const idleRuns = []
    const busyRuns = []
    let consoleCalls = 0
    for (let round = 0; round < 3; round++) {
      idleRuns.push(await load(gateway.url, loadSeconds / 3))
      const stop = hammer(admin, [
        '/api/analytics/denials?since=24h&bucket=1h&by=route',
        '/api/calls?denied=true',
        '/api/analytics/denials?since=7d&bucket=6h&by=layer',
        '/api/calls?layer=waf',
        `/api/calls/${sample[3]}`,
        '/api/calls?consumer=hooli-app-1&layer=csrf',
        '/api/analytics/denials?since=1h&bucket=1m&by=layer',
      ])
      busyRuns.push(await load(gateway.url, loadSeconds / 3))
      consoleCalls += await stop()
    }
    const idle = merged(idleRuns)
    const busy = merged(busyRuns)
    console.log(`\ngateway GET (16 connections, ${loadSeconds} s each)   req/s   p50 ms   p95 ms   p99 ms  errors`)
    for (const [name, r] of [['console idle', idle], [`console hammered (${consoleCalls} queries)`, busy]]) {
      console.log(`${name.padEnd(44)}  ${r.rps.toFixed(0).padStart(6)}  ${fmt(r.p50).padStart(7)}  ${fmt(r.p95).padStart(7)}  ${fmt(r.p99).padStart(7)}  ${r.errors}`)
    }
    console.log(`under console load: p50 ×${(busy.p50 / idle.p50).toFixed(2)}, p95 ×${(busy.p95 / idle.p95).toFixed(2)}, req/s ×${(busy.rps / idle.rps).toFixed(2)}  (load average ${load1()})`)
  } finally {
    await admin.close()
    await gateway.close(1000)
  }
}

/** Runs `sql` on the log with a write connection of its own (the gateway is stopped meanwhile). */
function onLog(sql) {
  const db = new Database(dbFile)
  const started = performance.now()
  db.exec(sql)
  db.close()
  return performance.now() - started
}

try {
  if (compare) {
    onLog('DROP INDEX IF EXISTS calls_console')
    await measure('without the calls_console index (before)')
    console.log(`\n(calls_console rebuilt on ${rows.toLocaleString('en')} calls in ${(onLog(consoleIndexesMigration.sql) / 1000).toFixed(1)} s)`)
  }
  await measure(compare ? 'with the calls_console index (after)' : 'console on a million calls')
} finally {
  await new Promise((ok) => upstream.close(ok))
  if (!process.env.BENCH_DB) rmSync(work, { recursive: true, force: true })
  else if (existsSync(work)) rmSync(work, { recursive: true, force: true })
}
