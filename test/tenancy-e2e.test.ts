import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const consumer = (name: string, tenant: string, roles: string[] = [], plan = 'basic') =>
  `  - { name: ${name}, tenant: ${tenant}, keys: [ "sha256:${sha(`${name}-key`)}" ], roles: [ ${roles.join(', ')} ], attributes: { plan: ${plan} } }`

function configFor(upstreamUrl: string): string {
  return `
explain: consumer
upstreams: { orders: { targets: [ "${upstreamUrl}" ] } }
tenants:
  - { name: acme, admins: [ "alice@acme.test" ] }
  - { name: globex }
consumers:
${consumer('acme-app', 'acme')}
${consumer('acme-new', 'acme')}
${consumer('acme-old', 'acme')}
${consumer('acme-ok', 'acme', ['orders-writer'], 'gold')}
${consumer('acme-basic', 'acme', ['orders-writer'])}
${consumer('globex-app', 'globex', ['orders-writer'])}
apis:
  - { name: orders-api, tenant: acme, routes: [ orders-create, tenant-orders ], subscription: required }
subscriptions:
  - { id: 12, consumer: acme-app, api: orders-api, state: pending }
  - { id: 13, consumer: acme-old, api: orders-api, state: revoked }
  - { id: 14, consumer: acme-ok, api: orders-api, state: approved }
  - { id: 15, consumer: globex-app, api: orders-api, state: approved }
  - { id: 16, consumer: acme-basic, api: orders-api, state: approved }
routes:
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies:
      auth: { methods: [ key ] }
      subscription: {}
  - name: tenant-orders
    match: { methods: [ GET, PUT ], path: /tenants/:tenant/orders }
    upstream: orders
    policies:
      auth: { methods: [ key ] }
      subscription: {}
      authz:
        permissions: [ { role: orders-writer, methods: [ GET, PUT ], paths: [ "/tenants/:tenant/orders" ] } ]
        rules:
          - { name: own-tenant-only, allow: "identity.tenant == params.tenant" }
          - { name: gold-writes, deny: "request.method == 'PUT' && identity.attributes.plan != 'gold'", message: "Changing orders needs the gold plan." }
`
}

async function call(url: string, key: string, method: 'GET' | 'POST' | 'PUT' = 'POST') {
  const res = await request(url, { method, headers: { 'x-api-key': `${key}-key`, 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' })
  const text = await res.body.text()
  return { status: res.statusCode, decision: res.headers['gatehouse-decision'], body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

describe('tenants and subscriptions through a real gateway', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  let url: string

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(configFor(upstream.url))
    url = gateway.url
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('forwards a call with an approved subscription', async () => {
    const res = await call(`${url}/orders`, 'acme-ok')
    expect(res.status).toBe(200)
    expect(res.decision).toBe('allow')
  })

  it.each([
    ['acme-app', 'pending', 'approve subscription 12'],
    ['acme-new', 'missing', 'request one in the developer portal'],
    ['acme-old', 'revoked', 'was revoked'],
    ['globex-app', 'cross-tenant', "belongs to tenant 'acme' and is not shared"],
  ])('refuses %s with 403 subscription.%s and says what to do', async (who, rule, hint) => {
    const before = upstream.requests.length
    const res = await call(`${url}/orders`, who)
    expect(res.status).toBe(403)
    expect(res.decision).toBe(`subscription;rule=${rule}`)
    expect(res.body).toMatchObject({ layer: 'subscription', rule, status: 403 })
    expect(String(res.body.detail)).toContain(hint)
    expect(upstream.requests.length).toBe(before)
  })

  it('lets a pending subscriber in once a tenant admin approves, without a reload', async () => {
    expect((await call(`${url}/orders`, 'acme-app')).status).toBe(403)
    const registry = gateway.runtime().tenancy.subscriptions
    expect(registry.approve('12')).toMatchObject({ ok: true, subscription: { state: 'approved' } })
    expect((await call(`${url}/orders`, 'acme-app')).status).toBe(200)
    expect(registry.revoke('12').ok).toBe(true)
    const res = await call(`${url}/orders`, 'acme-app')
    expect([res.status, res.decision]).toEqual([403, 'subscription;rule=revoked'])
  })

  it('keeps a runtime approval across a config reload that did not touch that subscription', async () => {
    const registry = gateway.runtime().tenancy.subscriptions
    expect(registry.request('acme-new', 'orders-api')).toMatchObject({ ok: true, subscription: { id: '17', state: 'pending' } })
    expect(registry.approve('17').ok).toBe(true)
    // An unrelated edit: a new tenant.
    gateway.writeConfig(configFor(upstream.url).replace('  - { name: globex }', '  - { name: globex }\n  - { name: initech }'))
    const result = await gateway.reload()
    expect(result.ok).toBe(true)
    expect(gateway.runtime().tenancy.tenant('initech')).toBeDefined()
    expect((await call(`${url}/orders`, 'acme-new')).status).toBe(200)
  })

  it('applies permissions and attribute rules after the subscription check', async () => {
    expect((await call(`${url}/tenants/acme/orders`, 'acme-ok', 'GET')).status).toBe(200)
    const other = await call(`${url}/tenants/globex/orders`, 'acme-ok', 'PUT')
    expect([other.status, other.decision]).toEqual([403, 'authz;rule=rule-denied'])
    expect(other.body.detail).toBe("Refused by access rule 'own-tenant-only'.")
    expect((await call(`${url}/tenants/acme/orders`, 'acme-ok', 'PUT')).status).toBe(200)
    expect((await call(`${url}/tenants/acme/orders`, 'acme-basic', 'GET')).status).toBe(200)
    const basic = await call(`${url}/tenants/acme/orders`, 'acme-basic', 'PUT')
    expect([basic.status, basic.decision, basic.body.detail]).toEqual([403, 'authz;rule=rule-denied', 'Changing orders needs the gold plan.'])
    const none = await call(`${url}/tenants/acme/orders`, 'acme-app', 'GET')
    expect([none.status, none.decision]).toEqual([403, 'subscription;rule=revoked'])
  })
})
