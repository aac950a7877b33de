import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageError } from '../src/cli/args.js'
import { callsCommand } from '../src/cli/commands/calls.js'
import { whyCommand } from '../src/cli/commands/why.js'
import { createMemoryIo } from '../src/cli/io.js'
import { createSqliteStore } from '../src/store/sqlite.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import type { CallRecord } from '../src/store/types.js'

const now = Date.now()
const minute = 60_000

const deniedId = '01JDDENIED0000000000000001'
const allowedId = '01JDALLOWED000000000000002'
const upstreamId = '01JDUPSTREAM00000000000003'
const oldId = '01JDOLDCALL0000000000000004'
const noRouteId = '01JDNOROUTE0000000000000005'

function call(overrides: Partial<CallRecord>): CallRecord {
  return {
    time: now - minute,
    requestId: allowedId,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    route: 'orders-list',
    consumer: 'acme-app',
    tenant: 'acme',
    method: 'GET',
    path: '/orders',
    status: 200,
    decision: 'allow',
    layer: 'allow',
    rule: null,
    upstreamStatus: 200,
    upstreamMs: 3.2,
    totalMs: 4.1,
    requestBytes: 0,
    responseBytes: 321,
    clientIp: '127.0.0.1',
    upstreamTarget: 'http://127.0.0.1:3001',
    trail: [
      { layer: 'request-id', result: 'allow', ms: 0 },
      { layer: 'ip', result: 'allow', ms: 0.02 },
      { layer: 'authn', result: 'allow', ms: 0.3 },
      { layer: 'upstream', result: 'allow', ms: 3.2, detail: { status: 200, target: 'http://127.0.0.1:3001' } },
    ],
    denial: null,
    ...overrides,
  }
}

const records: CallRecord[] = [
  call({ requestId: allowedId, time: now - 3 * minute }),
  call({
    requestId: deniedId,
    time: now - 2 * minute,
    route: 'orders-create',
    method: 'POST',
    path: '/orders',
    status: 403,
    decision: 'authz',
    layer: 'authz',
    rule: 'missing-scope',
    upstreamStatus: null,
    upstreamMs: null,
    upstreamTarget: null,
    requestBytes: 42,
    trail: [
      { layer: 'request-id', result: 'allow', ms: 0 },
      { layer: 'ip', result: 'allow', ms: 0.02 },
      { layer: 'body', result: 'allow', ms: 0.1 },
      { layer: 'authn', result: 'allow', ms: 0.3 },
      { layer: 'authz', result: 'deny', rule: 'authz.missing-scope', ms: 0.05, detail: { missing: ['orders:write'] } },
    ],
    denial: {
      layer: 'authz',
      rule: 'authz.missing-scope',
      status: 403,
      title: 'Missing required scope',
      message: "Route 'orders-create' needs scope 'orders:write'.",
      remediation: "Grant the consumer 'acme-app' scope 'orders:write' in consumers[0].scopes.",
    },
  }),
  call({
    requestId: upstreamId,
    time: now - 1 * minute,
    route: 'orders-list',
    consumer: 'globex',
    status: 403,
    decision: 'upstream',
    layer: 'upstream',
    rule: 'status-403',
    upstreamStatus: 403,
    trail: [
      { layer: 'request-id', result: 'allow', ms: 0 },
      { layer: 'authn', result: 'allow', ms: 0.3 },
      { layer: 'upstream', result: 'deny', rule: 'upstream.status-403', ms: 5, detail: { status: 403, target: 'http://127.0.0.1:3001' } },
    ],
  }),
  call({ requestId: oldId, time: now - 3 * 3_600_000, path: '/orders/\u001b[2Jgone' }),
  call({
    requestId: noRouteId,
    time: now - 30_000,
    route: null,
    consumer: null,
    tenant: null,
    path: '/nowhere',
    status: 404,
    decision: 'gateway',
    layer: 'gateway',
    rule: 'no-route',
    upstreamStatus: null,
    upstreamMs: null,
    upstreamTarget: null,
    trail: [{ layer: 'request-id', result: 'allow', ms: 0 }],
    denial: { layer: 'gateway', rule: 'gateway.no-route', status: 404, message: 'No route matches GET /nowhere.', remediation: 'Add a route for GET /nowhere or fix the path.' },
  }),
]

let dir: string
let storeUrl: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'))
  mkdirSync(join(dir, 'data'))
  const store = createSqliteStore(join(dir, 'data', 'calls.db'))
  for (const record of records) store.append(record)
  await store.close()
  storeUrl = `sqlite:${join(dir, 'data', 'calls.db')}`
})
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

async function run(command: typeof callsCommand, args: string[]) {
  const io = createMemoryIo({}, dir)
  const code = await command.run(args, io)
  return { code, out: io.out, err: io.err }
}

describe('gatehouse calls', () => {
  it('lists calls newest first, one line each with status, route, consumer, decision and id', async () => {
    const { code, out } = await run(callsCommand, ['--store', storeUrl])
    expect(code).toBe(0)
    const lines = out.trimEnd().split('\n')
    expect(lines).toHaveLength(5)
    expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual([noRouteId, upstreamId, deniedId, allowedId, oldId])
    const denied = lines[2]
    expect(denied).toContain(new Date(now - 2 * minute).toISOString().slice(0, 19) + 'Z')
    expect(denied.split(/\s+/).slice(1, 7)).toEqual(['403', 'POST', '/orders', 'orders-create', 'acme-app', 'authz;missing-scope'])
    expect(lines[3]).toMatch(/ allow +4\.1ms +01JDALLOWED/)
    expect(lines[0]).toMatch(/ - +- +gateway;no-route /)
  })

  it('filters with --denied, --route, --consumer, --status and --limit', async () => {
    const ids = async (args: string[]) => (await run(callsCommand, ['--store', storeUrl, ...args])).out.trimEnd().split('\n').map((l) => l.split(/\s+/).at(-1))
    expect(await ids(['--denied'])).toEqual([noRouteId, upstreamId, deniedId])
    expect(await ids(['--route', 'orders-list'])).toEqual([upstreamId, allowedId, oldId])
    expect(await ids(['--consumer', 'globex'])).toEqual([upstreamId])
    expect(await ids(['--status', '403', '--limit', '1'])).toEqual([upstreamId])
  })

  it('takes --since as a duration back from now or as an ISO time', async () => {
    const { out } = await run(callsCommand, ['--store', storeUrl, '--since', '1h', '--json'])
    expect((JSON.parse(out) as CallRecord[]).map((r) => r.requestId)).not.toContain(oldId)
    const iso = new Date(now - 150_000).toISOString()
    const later = JSON.parse((await run(callsCommand, ['--store', storeUrl, '--since', iso, '--json'])).out) as CallRecord[]
    expect(later.map((r) => r.requestId)).toEqual([noRouteId, upstreamId, deniedId])
  })

  it('prints the stored records as a JSON array with --json', async () => {
    const { code, out } = await run(callsCommand, ['--store', storeUrl, '--denied', '--json'])
    expect(code).toBe(0)
    const parsed = JSON.parse(out) as CallRecord[]
    expect(parsed[2]).toEqual(records[1])
  })

  it('escapes terminal control characters from logged paths', async () => {
    const { out } = await run(callsCommand, ['--store', storeUrl, '--since', '1d'])
    expect(out).not.toContain('\u001b')
    expect(out).toContain('/orders/\\x1b[2Jgone')
  })

  it('finds the store through the config file given with -c, relative to that file', async () => {
    const configFile = join(dir, 'gatehouse.yaml')
    writeFileSync(configFile, 'store: sqlite:./data/calls.db\n')
    const io = createMemoryIo({}, '/')
    const code = await callsCommand.run(['-c', configFile, '--denied', '--json'], io)
    expect(io.err).toBe('')
    expect(code).toBe(0)
    expect((JSON.parse(io.out) as CallRecord[]).map((r) => r.requestId)).toEqual([noRouteId, upstreamId, deniedId])
  })

  it('still finds the store when the config names secrets this shell does not have', async () => {
    const configFile = join(dir, 'needs-env.yaml')
    writeFileSync(configFile, 'admin: { tokens: [ "${GATEHOUSE_ADMIN_TOKEN}" ] }\nstore: ${CALLS_STORE:-sqlite:./data/calls.db}\nconsumers:\n  - name: acme-app\n    keys: [ "env:NOT_SET_HERE" ]\n')
    const { code, out, err } = await run(callsCommand, ['-c', configFile, '--consumer', 'globex', '--json'])
    expect(err).toBe('')
    expect(code).toBe(0)
    expect((JSON.parse(out) as CallRecord[]).map((r) => r.requestId)).toEqual([upstreamId])
  })

  it('says the call log is off when the config turns it off', async () => {
    const configFile = join(dir, 'off.yaml')
    writeFileSync(configFile, 'store: off\n')
    const { code, err } = await run(callsCommand, ['-c', configFile])
    expect(code).toBe(2)
    expect(err).toMatch(/the call log is off/)
  })

  it('says so when the config file cannot be read', async () => {
    const { code, err } = await run(callsCommand, ['-c', join(dir, 'missing.yaml')])
    expect(code).toBe(2)
    expect(err).toMatch(/missing\.yaml:1:1 file not found/)
  })

  it('reports an empty list, not an error, before the gateway has logged anything', async () => {
    const { code, out, err } = await run(callsCommand, ['--store', 'sqlite:./nothing-yet/calls.db', '--json'])
    expect(code).toBe(0)
    expect(JSON.parse(out)).toEqual([])
    expect(err).toMatch(/no call log at .*nothing-yet/)
  })

  it('says which PostgreSQL it cannot reach, with exit 2', async () => {
    // PostgreSQL call logs are read in place (src/store/postgres.test.ts); port 1 refuses at once.
    const { main } = await import('../src/cli/main.js')
    const io = createMemoryIo({}, dir)
    expect(await main(['calls', '--store', 'postgres://gatehouse:secret-pw@127.0.0.1:1/gatehouse'], io)).toBe(2)
    expect(io.err).toMatch(/PostgreSQL at 127\.0\.0\.1:1\/gatehouse/)
    expect(io.err).not.toContain('secret-pw')
  })

  it.each([
    [['--since', 'yesterday'], /--since expects a duration/],
    [['--limit', '0'], /--limit must be between 1 and 1000/],
    [['--status', 'forbidden'], /--status expects a whole number/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('refuses bad usage %j', async (args, message) => {
    await expect(callsCommand.run(['--store', storeUrl, ...args], createMemoryIo())).rejects.toThrow(UsageError)
    await expect(callsCommand.run(['--store', storeUrl, ...args], createMemoryIo())).rejects.toThrow(message)
  })
})

describe('gatehouse why', () => {
  it('shows the denying layer, the layers it kept from running, the fix and the docs anchor', async () => {
    const { code, out } = await run(whyCommand, [deniedId, '--store', storeUrl])
    expect(code).toBe(0)
    const lines = out.split('\n')
    expect(lines[0]).toContain('POST /orders → 403')
    expect(lines[0]).toMatch(/route orders-create +consumer acme-app \(tenant acme\) +client 127\.0\.0\.1/)
    expect(lines[1]).toContain(`request ${deniedId}`)
    const rows = Object.fromEntries(lines.filter((l) => l.startsWith('  ')).map((l) => {
      const [layer, ...rest] = l.trim().split(/\s{2,}/)
      return [layer, rest.join(' ')]
    }))
    expect(Object.keys(rows)).toEqual(['request-id', 'ip', 'body', 'authn', 'authz', 'csrf', 'rate-limit', 'transform', 'upstream'])
    expect(rows.authn).toMatch(/^pass/)
    expect(rows.authz).toMatch(/^DENY .*authz\.missing-scope/)
    for (const layer of ['csrf', 'rate-limit', 'transform', 'upstream']) expect(rows[layer]).toBe('not reached')
    expect(out).toContain("why: Route 'orders-create' needs scope 'orders:write'.\n")
    expect(out).toContain("fix: Grant the consumer 'acme-app' scope 'orders:write' in consumers[0].scopes.\n")
    expect(out).toContain('see: docs/errors.md#authz-missing-scope\n')
  })

  it('accepts a unique prefix of the request id, in any case', async () => {
    const { code, out } = await run(whyCommand, [deniedId.slice(0, 10).toLowerCase(), '--store', storeUrl])
    expect(code).toBe(0)
    expect(out).toContain(`request ${deniedId}`)
  })

  it('shows an allowed call as passing every layer, with no fix', async () => {
    const { code, out } = await run(whyCommand, [allowedId, '--store', storeUrl])
    expect(code).toBe(0)
    expect(out).toMatch(/upstream +pass +3\.2ms +200 from http:\/\/127\.0\.0\.1:3001/)
    expect(out).not.toMatch(/DENY|not reached|fix:/)
  })

  it("says the upstream refused by itself when it was the upstream's own 403", async () => {
    const { out } = await run(whyCommand, [upstreamId, '--store', storeUrl])
    expect(out).toMatch(/upstream +DENY +5\.0ms +upstream\.status-403 +403 from/)
    expect(out).toMatch(/why: The upstream service answered 403 itself/)
    expect(out).toMatch(/fix: .*gatehouse doctor/)
    expect(out).not.toContain('see:')
  })

  it('shows a denial made before any layer ran (no route)', async () => {
    const { out } = await run(whyCommand, [noRouteId, '--store', storeUrl])
    expect(out).toMatch(/gateway +DENY +gateway\.no-route/)
    expect(out).toMatch(/upstream +not reached/)
    expect(out).toContain('see: docs/errors.md#gateway-no-route')
  })

  it('prints the record and its explanation with --json', async () => {
    const { code, out } = await run(whyCommand, [deniedId, '--store', storeUrl, '--json'])
    expect(code).toBe(0)
    const parsed = JSON.parse(out) as CallRecord & { explanation: { layers: { layer: string; verdict: string }[]; fix: string; see: string; rule: string } }
    expect(parsed.requestId).toBe(deniedId)
    expect(parsed.trail).toEqual(records[1].trail)
    expect(parsed.explanation.rule).toBe('authz.missing-scope')
    expect(parsed.explanation.see).toBe('docs/errors.md#authz-missing-scope')
    expect(parsed.explanation.layers.find((l) => l.layer === 'authz')?.verdict).toBe('DENY')
    expect(parsed.explanation.layers.at(-1)).toEqual({ layer: 'upstream', verdict: 'not reached' })
  })

  it('exits 1 for an unknown id and points at gatehouse calls', async () => {
    const { code, out, err } = await run(whyCommand, ['01JDNOSUCHCALL', '--store', storeUrl])
    expect(code).toBe(1)
    expect(out).toBe('')
    expect(err).toMatch(/no call with request id '01JDNOSUCHCALL'/)
    expect(err).toContain('gatehouse calls')
  })

  it('exits 1 for an ambiguous prefix', async () => {
    const { code, err } = await run(whyCommand, ['01JD', '--store', storeUrl])
    expect(code).toBe(1)
    expect(err).toMatch(/at least 8 characters/)
  })

  it('refuses a missing or extra request id', async () => {
    await expect(whyCommand.run(['--store', storeUrl], createMemoryIo())).rejects.toThrow(/missing the request id/)
    await expect(whyCommand.run(['a', 'b', '--store', storeUrl], createMemoryIo())).rejects.toThrow(UsageError)
  })
})

describe('colour', () => {
  it('colours the verdicts only when io.color is on', async () => {
    const plain = createMemoryIo({}, dir)
    await whyCommand.run([deniedId, '--store', storeUrl], plain)
    expect(plain.out).not.toContain('\u001b[')
    const coloured = createMemoryIo({}, dir)
    coloured.color = true
    await whyCommand.run([deniedId, '--store', storeUrl], coloured)
    expect(coloured.out).toContain('\u001b[31mDENY')
    const calls = createMemoryIo({}, dir)
    calls.color = true
    await callsCommand.run(['--store', storeUrl, '--denied'], calls)
    expect(calls.out).toContain('\u001b[33m403')
  })
})

describe('a denial logged by a running gateway', () => {
  let upstream: TestUpstream
  let gateway: TestGateway

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(`
listen: 127.0.0.1:0
store: sqlite:./log/calls.db
upstreams:
  orders: { targets: [ "${upstream.url}" ] }
consumers:
  - name: acme-app
    tenant: acme
    keys: [ "env:ACME_KEY" ]
    scopes: [ "orders:read" ]
routes:
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies:
      auth: { methods: [ key ] }
      scopes: [ "orders:write" ]
`, { env: { ACME_KEY: 'acme-secret-key-123' } })
  })
  afterAll(async () => {
    await gateway?.close()
    await upstream?.close()
  })

  it('is found by `why <X-Request-Id> -c <config>` with the denying layer, the fix, and no secret', async () => {
    const res = await request(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'x-api-key': 'acme-secret-key-123', 'content-type': 'application/json' },
      body: '{"item":1}',
    })
    await res.body.text()
    expect(res.statusCode).toBe(403)
    const requestId = String(res.headers['x-request-id'])
    await gateway.store!.flush()

    const why = createMemoryIo({}, '/')
    const code = await whyCommand.run([requestId, '-c', gateway.configFile], why)
    expect(why.err).toBe('')
    expect(code).toBe(0)
    expect(why.out).toContain('POST /orders → 403')
    expect(why.out).toMatch(/consumer acme-app/)
    expect(why.out).toMatch(/authn +pass/)
    expect(why.out).toMatch(/authz +DENY .*authz\.missing-scope/)
    expect(why.out).toMatch(/upstream +not reached/)
    expect(why.out).toMatch(/\nfix: .*orders:write/)
    expect(why.out).toContain('see: docs/errors.md#authz-missing-scope')
    expect(upstream.requests).toHaveLength(0)

    const calls = createMemoryIo({}, '/')
    expect(await callsCommand.run(['-c', gateway.configFile, '--denied', '--json'], calls)).toBe(0)
    const listed = JSON.parse(calls.out) as CallRecord[]
    expect(listed.map((r) => r.requestId)).toEqual([requestId])
    expect(calls.out).not.toContain('acme-secret-key-123')
  })
})
