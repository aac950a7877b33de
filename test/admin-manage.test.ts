import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startGateway, type Gateway } from '../src/gateway/server.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const adminToken = 'admin-token-0123456789abcdef'
const viewerToken = 'viewer-token-0123456789abcdef'
const acmeAdminToken = 'acme-admin-token-0123456789ab'

describe('routes and upstreams managed through the admin API', () => {
  let upstream: TestUpstream
  let other: TestUpstream
  let gateway: TestGateway | Gateway
  let configFile: string

  const admin = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await request(`${gateway.adminUrl}${path}`, { method: method as 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> & { errors?: { field: string; message: string }[] } }
  }
  const call = async (path: string) => {
    const res = await request(`${gateway.url}${path}`)
    return { status: res.statusCode, body: await res.body.text() }
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    other = await startUpstream()
    const started = await startTestGateway(`
store: sqlite:./calls.db
admin:
  tokens:
    - "${adminToken}"
    - { token: "${viewerToken}", role: viewer, name: dashboard }
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
tenants: [ { name: acme } ]
apis: [ { name: orders-api, tenant: acme, routes: [ orders ] } ]
upstreams: { api: { targets: [ "${upstream.url}" ] } }
routes:
  - { name: orders, match: { path: /orders }, upstream: api }
`)
    gateway = started
    configFile = started.configFile
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
    await other.close()
  })

  it('GET /api/me tells each token its role, tenant and name', async () => {
    expect((await admin('GET', '/api/me', adminToken)).body).toMatchObject({ role: 'admin', tenant: null })
    expect((await admin('GET', '/api/me', viewerToken)).body).toEqual({ role: 'viewer', tenant: null, name: 'dashboard' })
    expect((await admin('GET', '/api/me', acmeAdminToken)).body).toMatchObject({ role: 'tenant-admin', tenant: 'acme' })
  })

  it('lists the new endpoints, with summaries, in /openapi.json; serves the console beside the API', async () => {
    const doc = (await (await request(`${gateway.adminUrl}/openapi.json`)).body.json()) as { paths: Record<string, Record<string, { summary: string }>> }
    for (const [path, method] of [['/api/me', 'get'], ['/api/routes', 'post'], ['/api/routes/{name}', 'put'], ['/api/routes/{name}', 'delete'], ['/api/upstreams', 'post'], ['/api/upstreams/{name}', 'put'], ['/api/upstreams/{name}', 'delete'], ['/api/config/export', 'get'], ['/api/config/import', 'post'], ['/api/calls/stream', 'get'], ['/portal/api/me', 'get'], ['/portal/api/apis', 'get'], ['/portal/api/apis/{name}/openapi.json', 'get'], ['/portal/api/subscriptions', 'post'], ['/portal/api/subscriptions', 'get'], ['/portal/api/calls', 'get']]) {
      expect(doc.paths[path]?.[method]?.summary, `${method} ${path}`).toMatch(/\w{5}/)
    }
    const page = await request(`${gateway.adminUrl}/calls`, { headers: { accept: 'text/html' } })
    // 200 once `npm run build` made dist/console, 503 problem+json before; secured either way.
    expect([200, 503]).toContain(page.statusCode)
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
    await page.body.dump()
    for (const path of ['/api/nope', '/portal/api/nope']) {
      const res = await request(`${gateway.adminUrl}${path}`, { headers: { accept: 'text/html' } })
      expect(res.statusCode, path).toBe(404)
      expect(res.headers['content-type'], path).toBe('application/problem+json')
      await res.body.dump()
    }
  })

  it('creates an upstream and a route that serve traffic at once; bad policies get 400 naming the field', async () => {
    const up = await admin('POST', '/api/upstreams', adminToken, { name: 'billing', targets: [other.url] })
    expect(up.status).toBe(201)
    expect(up.body.upstream).toMatchObject({ name: 'billing', balance: 'round-robin' })
    expect((await admin('POST', '/api/upstreams', adminToken, { name: 'billing', targets: [other.url] })).status).toBe(409)
    const badTarget = await admin('POST', '/api/upstreams', adminToken, { name: 'x', targets: ['ftp://nope'] })
    expect(badTarget.status).toBe(400)
    expect(badTarget.body.errors?.[0].field).toBe('targets.0')

    const bad = await admin('POST', '/api/routes', adminToken, { name: 'invoices', match: { path: '/invoices' }, upstream: 'billing', policies: { rateLimit: { limit: 'lots', window: '1m' } } })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.map((e) => e.field)).toContain('policies.rateLimit.limit')
    const unknownPolicy = await admin('POST', '/api/routes', adminToken, { name: 'invoices', match: { path: '/invoices' }, upstream: 'billing', policies: { firewall: {} } })
    expect(unknownPolicy.status).toBe(400)
    expect(unknownPolicy.body.detail).toContain('firewall')
    const unknownUpstream = await admin('POST', '/api/routes', adminToken, { name: 'invoices', match: { path: '/invoices' }, upstream: 'nowhere' })
    expect(unknownUpstream.status).toBe(409)
    expect(unknownUpstream.body.errors?.[0]).toMatchObject({ field: 'upstream' })
    expect((await call('/invoices')).status).toBe(404)

    const created = await admin('POST', '/api/routes', adminToken, { name: 'invoices', match: { methods: ['GET'], path: '/invoices' }, upstream: 'billing', policies: { ip: { allow: ['127.0.0.0/8'] } } })
    expect(created.status).toBe(201)
    expect(created.body.route).toMatchObject({ name: 'invoices', upstream: 'billing', layers: ['ip'] })
    const served = await call('/invoices')
    expect(served.status).toBe(200)
    expect(other.requests.at(-1)?.url).toBe('/invoices')
  })

  it('refuses conflicts with 409: the same name, the same method and path', async () => {
    expect((await admin('POST', '/api/routes', adminToken, { name: 'invoices', match: { path: '/other' }, upstream: 'billing' })).status).toBe(409)
    const clash = await admin('POST', '/api/routes', adminToken, { name: 'invoices-2', match: { methods: ['GET'], path: '/invoices' }, upstream: 'billing' })
    expect(clash.status).toBe(409)
    expect(clash.body.detail).toContain('already matches GET /invoices')
  })

  it('PUT replaces a route; the new policy applies to the next call', async () => {
    const wrongName = await admin('PUT', '/api/routes/invoices', adminToken, { name: 'other', match: { path: '/invoices' }, upstream: 'billing' })
    expect(wrongName.status).toBe(400)
    const replaced = await admin('PUT', '/api/routes/invoices', adminToken, { name: 'invoices', match: { methods: ['GET'], path: '/invoices' }, upstream: 'billing', policies: { ip: { deny: ['127.0.0.0/8'] }, rateLimit: { limit: 100, window: '1m' } } })
    expect(replaced.status).toBe(200)
    // What GET /api/routes shows (`config`) can be sent back as is: the console edits routes this way.
    const shown = ((await admin('GET', '/api/routes', adminToken)).body.routes as { name: string; config: Record<string, any> }[]).find((r) => r.name === 'invoices')!
    expect(shown.config.policies.rateLimit).toMatchObject({ limit: 100, window: 60 })
    const again = await admin('PUT', '/api/routes/invoices', adminToken, shown.config)
    expect(again.status).toBe(200)
    expect((again.body.route as { config: unknown }).config).toEqual(shown.config)
    const denied = await call('/invoices')
    expect(denied.status).toBe(403)
    expect(JSON.parse(denied.body)).toMatchObject({ layer: 'ip' })
  })

  it('only admin tokens change routes and upstreams', async () => {
    const route = { name: 'sneaky', match: { path: '/sneaky' }, upstream: 'api' }
    expect((await admin('POST', '/api/routes', viewerToken, route)).status).toBe(403)
    expect((await admin('POST', '/api/routes', acmeAdminToken, route)).status).toBe(403)
    expect((await admin('DELETE', '/api/upstreams/billing', acmeAdminToken)).status).toBe(403)
    expect((await call('/sneaky')).status).toBe(404)
  })

  it('deleting an upstream still used answers 409 naming the routes; a route in an API cannot be deleted', async () => {
    const inUse = await admin('DELETE', '/api/upstreams/billing', adminToken)
    expect(inUse.status).toBe(409)
    expect(inUse.body.detail).toContain("'invoices'")
    const listed = await admin('DELETE', '/api/routes/orders', adminToken)
    expect(listed.status).toBe(409)
    expect(listed.body.detail).toContain('orders-api')
    expect((await admin('DELETE', '/api/routes/nope', adminToken)).status).toBe(404)
  })

  it('changes survive a restart and are in the audit log; deletions too', async () => {
    await gateway.close(100)
    gateway = await startGateway({ configFile, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', watch: false, storeOptions: { batchMs: 10 }, env: process.env })
    expect((await call('/invoices')).status).toBe(403)
    const routes = (await admin('GET', '/api/routes', adminToken)).body.routes as { name: string }[]
    expect(routes.map((r) => r.name)).toEqual(['orders', 'invoices'])

    expect((await admin('DELETE', '/api/routes/invoices', adminToken)).status).toBe(200)
    expect((await admin('DELETE', '/api/upstreams/billing', adminToken)).status).toBe(200)
    expect((await call('/invoices')).status).toBe(404)
    const upstreams = (await admin('GET', '/api/upstreams', adminToken)).body.upstreams as { name: string; config: Record<string, unknown> }[]
    expect(upstreams.map((u) => u.name)).toEqual(['api'])
    // What GET shows as `config` can be sent back with PUT unchanged.
    expect(upstreams[0].config).toMatchObject({ name: 'api', targets: [upstream.url], retries: 1 })
    expect((await admin('PUT', '/api/upstreams/api', adminToken, upstreams[0].config)).status).toBe(200)

    // A file upstream can be deleted too once unused, and stays deleted after a restart.
    await gateway.close(100)
    gateway = await startGateway({ configFile, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', watch: false, storeOptions: { batchMs: 10 }, env: process.env })
    expect((await call('/invoices')).status).toBe(404)
    expect((await call('/orders')).status).toBe(200)

    const audit = (await admin('GET', '/api/audit', adminToken)).body.entries as { action: string; target: string }[]
    expect(audit.map((e) => `${e.action} ${e.target}`)).toEqual(expect.arrayContaining(['upstream.create billing', 'route.create invoices', 'route.replace invoices', 'route.delete invoices', 'upstream.delete billing']))
  }, 60_000) // restarts the gateway: slow on a loaded machine
})
