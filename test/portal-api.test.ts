import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startGateway, type Gateway } from '../src/gateway/server.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const adminToken = 'admin-token-0123456789abcdef'
const acmeAdminToken = 'acme-admin-token-0123456789ab'
const globexAdminToken = 'globex-admin-token-0123456789'

type Json = Record<string, any>

describe('developer portal: a consumer signs in with its key, subscribes, and reads its own denials', () => {
  let upstream: TestUpstream
  let gateway: TestGateway | Gateway
  let configFile: string

  const portal = async (method: string, path: string, key: string | undefined, body?: unknown, how: 'x-api-key' | 'bearer' = 'x-api-key') => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (key !== undefined) headers[how === 'x-api-key' ? 'x-api-key' : 'authorization'] = how === 'x-api-key' ? key : `Bearer ${key}`
    const res = await request(`${gateway.adminUrl}${path}`, { method: method as 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.statusCode, type: String(res.headers['content-type']), body: (await res.body.json()) as Json }
  }
  const admin = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await request(`${gateway.adminUrl}${path}`, { method: method as 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.statusCode, body: (await res.body.json()) as Json }
  }
  const call = async (key: string) => {
    const res = await request(`${gateway.url}/orders`, { headers: { 'x-api-key': key } })
    const text = await res.body.text()
    return { status: res.statusCode, body: res.statusCode >= 400 ? (JSON.parse(text) as Json) : {}, requestId: String(res.headers['x-request-id']) }
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    const started = await startTestGateway(`
store: sqlite:./calls.db
explain: public
admin:
  tokens:
    - "${adminToken}"
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
    - { token: "${globexAdminToken}", role: tenant-admin, tenant: globex }
tenants: [ { name: acme, admins: [ ops@acme.test ] }, { name: globex } ]
apis:
  - { name: orders-api, tenant: acme, routes: [ orders ], description: "Orders placed with acme" }
  - { name: catalog-api, tenant: globex, routes: [ catalog ], subscription: open, sharedWith: [ acme ], openapi: catalog.yaml }
  - { name: secret-api, tenant: globex, routes: [ secret ] }
upstreams: { api: { targets: [ "${upstream.url}" ] } }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ], scopes: [ orders:read ] }
  - { name: other-app, tenant: acme, keys: [ "sha256:${sha('other-key')}" ], scopes: [ orders:read ] }
routes:
  - { name: orders, match: { methods: [ GET ], path: /orders }, upstream: api, policies: { auth: { methods: [ key ] }, subscription: {}, scopes: [ orders:read ] } }
  - { name: catalog, match: { methods: [ GET ], path: "/catalog/:sku" }, upstream: api, policies: { auth: { methods: [ key ] }, subscription: {} } }
  - { name: secret, match: { path: /secret }, upstream: api, policies: { auth: { methods: [ key ] }, subscription: {} } }
`)
    gateway = started
    configFile = started.configFile
    writeFileSync(join(started.dir, 'catalog.yaml'), 'openapi: 3.1.0\ninfo: { title: Catalog, version: "2.0" }\npaths:\n  /catalog/{sku}:\n    get: { summary: One item }\n')
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('answers 401 problem+json without a valid key, and knows the consumer by X-API-Key or Bearer', async () => {
    const none = await portal('GET', '/portal/api/me', undefined)
    expect(none.status).toBe(401)
    expect(none.type).toContain('application/problem+json')
    expect((await portal('GET', '/portal/api/me', 'wrong-key')).status).toBe(401)
    // An admin token is not a consumer key.
    expect((await portal('GET', '/portal/api/me', adminToken, undefined, 'bearer')).status).toBe(401)
    const me = await portal('GET', '/portal/api/me', 'acme-key')
    expect(me.body).toEqual({ consumer: 'acme-app', tenant: 'acme', scopes: ['orders:read'], keys: [{ fingerprint: sha('acme-key').slice(0, 8) }] })
    expect((await portal('GET', '/portal/api/me', 'acme-key', undefined, 'bearer')).body.consumer).toBe('acme-app')
  })

  it("lists its tenant's APIs and those shared with it, never another tenant's private one", async () => {
    const { body } = await portal('GET', '/portal/api/apis', 'acme-key')
    expect(body.apis.map((a: Json) => a.name)).toEqual(['orders-api', 'catalog-api'])
    expect(body.apis[0]).toEqual({ name: 'orders-api', tenant: 'acme', description: 'Orders placed with acme', subscription: 'required', state: 'none', routes: [{ name: 'orders', methods: ['GET'], path: '/orders' }] })
    expect(body.apis[1]).toMatchObject({ name: 'catalog-api', tenant: 'globex', subscription: 'open', description: null })
  })

  it('serves an OpenAPI document per API: the named file, else one generated from the routes; 404 for hidden APIs', async () => {
    const generated = await portal('GET', '/portal/api/apis/orders-api/openapi.json', 'acme-key')
    expect(generated.status).toBe(200)
    expect(generated.body).toMatchObject({ openapi: '3.1.0', info: { title: 'orders-api', description: 'Orders placed with acme' } })
    expect(generated.body.paths['/orders'].get).toMatchObject({ security: [{ apiKey: [] }], 'x-required-scopes': ['orders:read'] })
    expect(generated.body.components.securitySchemes.apiKey).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key', description: 'Your consumer API key.' })
    const fromFile = await portal('GET', '/portal/api/apis/catalog-api/openapi.json', 'acme-key')
    expect(fromFile.body).toEqual({ openapi: '3.1.0', info: { title: 'Catalog', version: '2.0' }, paths: { '/catalog/{sku}': { get: { summary: 'One item' } } } })
    expect((await portal('GET', '/portal/api/apis/secret-api/openapi.json', 'acme-key')).status).toBe(404)
    expect((await portal('GET', '/portal/api/apis/nope/openapi.json', 'acme-key')).status).toBe(404)
  })

  it('end to end: denied, requests a subscription, a tenant admin approves it, the next call passes', async () => {
    const other = await call('other-key') // another consumer's denial, which acme-app must never see
    expect(other.status).toBe(403)
    const before = await call('acme-key')
    expect(before.status).toBe(403)
    expect(before.body).toMatchObject({ layer: 'subscription', rule: 'missing' })

    expect((await portal('POST', '/portal/api/subscriptions', 'acme-key', { api: 'secret-api' })).status).toBe(404)
    const requested = await portal('POST', '/portal/api/subscriptions', 'acme-key', { api: 'orders-api' })
    expect(requested.status).toBe(201)
    expect(requested.body.subscription).toMatchObject({ api: 'orders-api', state: 'pending' })
    const id = String(requested.body.subscription.id)
    const again = await portal('POST', '/portal/api/subscriptions', 'acme-key', { api: 'orders-api' })
    expect(again.status).toBe(200)
    expect(again.body.subscription.id).toBe(id)
    expect((await portal('GET', '/portal/api/subscriptions', 'acme-key')).body.subscriptions).toEqual([expect.objectContaining({ id, api: 'orders-api', state: 'pending' })])
    expect((await portal('GET', '/portal/api/subscriptions', 'other-key')).body.subscriptions).toEqual([])
    expect((await portal('GET', '/portal/api/apis', 'acme-key')).body.apis[0].state).toBe('pending')

    // The approval queue: acme's admin sees it, globex's does not and may not approve it.
    const queue = await admin('GET', '/api/subscriptions?state=pending', acmeAdminToken)
    expect(queue.body.subscriptions).toEqual([expect.objectContaining({ id, consumer: 'acme-app', api: 'orders-api' })])
    expect((await admin('GET', '/api/subscriptions?state=pending', globexAdminToken)).body.subscriptions).toEqual([])
    expect((await admin('POST', `/api/subscriptions/${id}/approve`, globexAdminToken)).status).toBe(403)
    expect((await call('acme-key')).status).toBe(403)

    expect((await admin('POST', `/api/subscriptions/${id}/approve`, acmeAdminToken)).status).toBe(200)
    expect((await call('acme-key')).status).toBe(200)
    expect((await portal('GET', '/portal/api/apis', 'acme-key')).body.apis[0].state).toBe('approved')

    // Persisted in the admin state: still approved after a restart.
    await gateway.store!.flush()
    await gateway.close(100)
    gateway = await startGateway({ configFile, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', watch: false, storeOptions: { batchMs: 10 }, env: process.env })
    expect((await call('acme-key')).status).toBe(200)
  }, 60_000) // restarts the gateway: slow on a loaded machine

  it("shows its own calls at the consumer explain level: no trail, no operator remediation, no other consumer's calls", async () => {
    await gateway.store!.flush()
    const { status, body } = await portal('GET', '/portal/api/calls?denied=true', 'acme-key')
    expect(status).toBe(200)
    expect(body.calls.length).toBeGreaterThanOrEqual(2)
    const denial = body.calls.find((c: Json) => c.rule === 'missing')
    expect(Object.keys(denial).sort()).toEqual(['detail', 'layer', 'method', 'path', 'remedy', 'requestId', 'rule', 'status', 'time', 'title'])
    expect(denial).toMatchObject({ method: 'GET', path: '/orders', status: 403, layer: 'subscription' })
    // The consumer level gives the specific message even though the gateway runs explain: public.
    expect(denial.detail).toContain('orders-api')
    const stored = (await admin('GET', `/api/calls/${denial.requestId}`, adminToken)).body.call as Json
    expect(stored.denial.remediation).toBeTruthy()
    const text = JSON.stringify(body)
    expect(text).not.toContain(stored.denial.remediation)
    expect(text).not.toContain('"trail"')
    expect(text).not.toContain('other-app')
    expect(text).not.toContain('clientIp')
    expect(body.calls.every((c: Json) => c.status >= 400)).toBe(true)
    const all = await portal('GET', '/portal/api/calls?limit=10', 'acme-key')
    expect(all.body.calls.some((c: Json) => c.status === 200)).toBe(true)
    const others = await portal('GET', '/portal/api/calls', 'other-key')
    expect(others.body.calls.map((c: Json) => c.requestId)).not.toContain(denial.requestId)
    expect((await portal('GET', '/portal/api/calls?limit=5000', 'acme-key')).status).toBe(400)
  })
})
