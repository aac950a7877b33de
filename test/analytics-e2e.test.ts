import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { fakeClock } from '../src/testing/fake-clock.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const adminToken = 'admin-token-0123456789abcdef'
const viewerToken = 'viewer-token-0123456789abcdef'
const acmeAdminToken = 'acme-admin-token-0123456789ab'
const globexAdminToken = 'globex-admin-token-0123456789'

function configYaml(upstreamUrl: string, extra = ''): string {
  return `
admin:
  tokens:
    - "${adminToken}"
    - { token: "${viewerToken}", role: viewer }
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
    - { token: "${globexAdminToken}", role: tenant-admin, tenant: globex }
upstreams: { orders: { targets: [ "${upstreamUrl}" ] } }
tenants: [ { name: acme }, { name: globex } ]
apis: [ { name: orders-api, tenant: acme, routes: [ orders ] } ]
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ], scopes: [ "orders:write" ] }
  - { name: acme-reader, tenant: acme, keys: [ "sha256:${sha('reader-key')}" ], scopes: [ "orders:read" ] }
  - { name: globex-app, tenant: globex, keys: [ "sha256:${sha('globex-key')}" ], scopes: [ "orders:write" ] }
routes:
  - { name: orders, match: { path: /orders }, upstream: orders, policies: { auth: { methods: [ key ] }, scopes: [ "orders:write" ] } }
${extra}`
}

describe('denial analytics through a real gateway', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  const clock = fakeClock(Date.now() - 90 * 60_000)

  const api = (path: string, token?: string) =>
    request(`${gateway.adminUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (res) => ({
      status: res.statusCode,
      body: (await res.body.json()) as Record<string, unknown>,
    }))

  async function send(key: string | null, times: number, path = '/orders'): Promise<number[]> {
    const statuses: number[] = []
    for (let i = 0; i < times; i++) {
      const res = await request(`${gateway.url}${path}`, { method: 'POST', headers: key ? { 'x-api-key': key } : {}, body: '{}' })
      await res.body.dump()
      statuses.push(res.statusCode)
    }
    return statuses
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(configYaml(upstream.url), { clock })
    // The previous hour: 5 calls, 1 denied.
    expect(await send('acme-key', 4)).toEqual([200, 200, 200, 200])
    expect(await send('reader-key', 1)).toEqual([403])
    // The last hour: 9 calls to orders, 5 denied (3 missing scope, 2 without a key), and one unrouted call.
    clock.set(Date.now() - 10 * 60_000)
    await send('acme-key', 2)
    expect(await send('reader-key', 3)).toEqual([403, 403, 403])
    expect(await send(null, 2)).toEqual([401, 401])
    await send('globex-key', 2)
    expect(await send('acme-key', 1, '/nowhere')).toEqual([404])
    await gateway.store!.flush()
  })

  afterAll(async () => {
    await gateway?.close(100)
    await upstream?.close()
  })

  it('reports denial rates per route against the previous period, in time buckets', async () => {
    const res = await api('/api/analytics/denials?since=1h&bucket=15m&by=route', adminToken)
    expect(res.status).toBe(200)
    const buckets = res.body.buckets as { total: number; denied: number; status: Record<string, number> }[]
    expect(buckets).toHaveLength(4)
    expect(buckets.reduce((n, b) => n + b.total, 0)).toBe(10)
    expect(buckets.reduce((n, b) => n + b.status['401'], 0)).toBe(2)
    expect(buckets.reduce((n, b) => n + b.status['403'], 0)).toBe(3)
    expect(res.body.groups).toEqual([
      { key: 'orders', total: 9, denied: 5, rate: 0.5556, previous: { total: 5, denied: 1, rate: 0.2 }, change: 0.3556, buckets: expect.any(Array) },
      { key: null, total: 1, denied: 0, rate: 0, previous: { total: 0, denied: 0, rate: 0 }, change: null, buckets: [0, 0, 0, 0] },
    ])
    // Each group's denials per bucket, aligned with the buckets (what the console stacks).
    const orders = (res.body.groups as { buckets: number[] }[])[0].buckets
    expect(orders).toHaveLength(4)
    expect(orders.reduce((a, b) => a + b, 0)).toBe(5)
    const top = res.body.top as { layer: string; rule: string; count: number }[]
    expect(top[0]).toEqual({ layer: 'authz', rule: 'missing-scope', count: 3 })
    expect(top[1]).toMatchObject({ layer: 'authn', count: 2 })
  })

  it('groups by consumer and filters by route', async () => {
    const res = await api('/api/analytics/denials?since=1h&bucket=1h&by=consumer&route=orders', viewerToken)
    expect(res.status).toBe(200)
    const groups = res.body.groups as { key: string | null; denied: number; total: number }[]
    expect(groups.map((g) => [g.key, g.denied, g.total])).toEqual([['acme-reader', 3, 3], [null, 2, 2], ['acme-app', 0, 2], ['globex-app', 0, 2]])
  })

  it("keeps a tenant admin's numbers inside its tenant, whatever it asks", async () => {
    const res = await api('/api/analytics/denials?since=1h&bucket=1h&by=tenant&tenant=globex', acmeAdminToken)
    expect(res.status).toBe(200)
    expect((res.body.groups as { key: string }[]).map((g) => g.key)).toEqual(['acme'])
    // acme-app 2, acme-reader 3; the unrouted call never got as far as knowing its tenant.
    expect((res.body.buckets as { total: number }[])[0].total).toBe(5)
    const globex = await api('/api/analytics/denials?since=1h&bucket=1h&by=consumer', globexAdminToken)
    expect(globex.body.groups).toEqual([{ key: 'globex-app', total: 2, denied: 0, rate: 0, previous: { total: 0, denied: 0, rate: 0 }, change: null, buckets: expect.any(Array) }])
    expect(globex.body.top).toEqual([])
  })

  it.each([
    ['?by=path', 'by'],
    ['?since=forever', 'since'],
    ['?since=1h&bucket=2h', 'bucket'],
    ['?since=30d&bucket=1m', 'buckets'],
  ])('answers 400 for %s', async (query, word) => {
    const res = await api(`/api/analytics/denials${query}`, adminToken)
    expect(res.status).toBe(400)
    expect(String(res.body.detail)).toContain(word)
  })

  it('needs an admin token', async () => {
    expect((await api('/api/analytics/denials')).status).toBe(401)
    expect((await api('/api/analytics/alerts')).status).toBe(401)
  })

  it('lists no alerts while alerts are not configured', async () => {
    expect((await api('/api/analytics/alerts', adminToken)).body).toEqual({ enabled: false, alerts: [] })
  })
})

describe('denial-spike alerts through a real gateway', () => {
  let upstream: TestUpstream
  let hook: TestUpstream
  let gateway: TestGateway
  const clock = fakeClock(Date.UTC(2026, 0, 1, 12))

  const api = (path: string, token: string) =>
    request(`${gateway.adminUrl}${path}`, { headers: { authorization: `Bearer ${token}` } }).then(async (res) => (await res.body.json()) as { enabled: boolean; alerts: Record<string, unknown>[] })

  async function send(key: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const res = await request(`${gateway.url}/orders`, { method: 'POST', headers: { 'x-api-key': key }, body: '{}' })
      await res.body.dump()
    }
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    let hits = 0
    // The receiver fails once, so the alert arrives on the retry.
    hook = await startUpstream((_req, res) => { res.statusCode = ++hits === 1 ? 500 : 200; res.end() })
    gateway = await startTestGateway(configYaml(upstream.url, `
alerts: { webhooks: [ "${hook.url}/gatehouse" ], windowSeconds: 10, baselineWindows: 3, checkIntervalSeconds: 3600, minDenials: 5, sensitivity: 3 }
`), { clock })
  })

  afterAll(async () => {
    await gateway?.close(100)
    await upstream?.close()
    await hook?.close()
  })

  it('POSTs an alert when the missing-scope rate of a route jumps, and lists it for admins of its tenant', async () => {
    // Three quiet windows: 1 denial in 10 calls each.
    for (let w = 0; w < 3; w++) {
      await send('acme-key', 9)
      await send('reader-key', 1)
      clock.advance(10_000)
    }
    expect(await gateway.denialAlerts!.check()).toEqual([])
    // Then 8 denials in 10 calls.
    await send('acme-key', 2)
    await send('reader-key', 8)
    clock.advance(5_000)
    await gateway.store!.flush()
    const [alert] = await gateway.denialAlerts!.check()
    expect(alert).toMatchObject({ type: 'gatehouse.denial-spike', route: 'orders', layer: 'authz', rule: 'missing-scope', tenant: 'acme', window: 10, count: 8, total: 10, rate: 0.8, baseline: 0.1 })
    expect(alert.deliveries).toMatchObject([{ ok: true, attempts: 2, status: 200 }])

    expect(hook.requests).toHaveLength(2)
    const posted = JSON.parse(hook.requests[1].body.toString('utf8')) as { requestIds: string[] }
    expect(posted).toMatchObject({ type: 'gatehouse.denial-spike', route: 'orders', layer: 'authz', rule: 'missing-scope', count: 8 })
    // The sampled ids are real denied calls an operator can look up with `gatehouse why`.
    expect(posted.requestIds.length).toBeGreaterThan(0)
    for (const id of posted.requestIds) expect((await gateway.store!.get(id))?.rule).toBe('missing-scope')

    const forAdmin = await api('/api/analytics/alerts', adminToken)
    expect(forAdmin.enabled).toBe(true)
    expect(forAdmin.alerts).toHaveLength(1)
    expect(forAdmin.alerts[0]).toMatchObject({ route: 'orders', count: 8 })
    expect((await api('/api/analytics/alerts', acmeAdminToken)).alerts).toHaveLength(1)
    expect((await api('/api/analytics/alerts', globexAdminToken)).alerts).toEqual([])
  })
})
