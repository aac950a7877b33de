import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const adminToken = 'admin-token-0123456789abcdef'
const viewerToken = 'viewer-token-0123456789abcdef'
const acmeAdminToken = 'acme-admin-token-0123456789ab'

describe('admin API', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  const api = (path: string, token?: string) =>
    request(`${gateway.adminUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (res) => ({
      status: res.statusCode,
      headers: res.headers,
      body: (await res.body.json()) as Record<string, unknown>,
    }))

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(`
admin:
  tokens:
    - "${adminToken}"
    - { token: "${viewerToken}", role: viewer, name: dashboards }
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
upstreams: { api: { targets: [ "${upstream.url}" ] } }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ], scopes: [ read ] }
  - { name: globex-app, tenant: globex, keys: [ "sha256:${sha('globex-key')}" ], scopes: [ read ] }
routes:
  - { name: api, match: { path: /api/* }, upstream: api, policies: { auth: { methods: [ key ] }, scopes: [ write ] } }
`)
    for (const key of ['acme-key', 'globex-key']) {
      const res = await request(`${gateway.url}/api/x`, { headers: { 'x-api-key': key, 'x-request-id': `call-${key}` } })
      await res.body.dump()
    }
    await gateway.store!.flush()
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('refuses /api/ without a token: 401 problem+json with a Bearer challenge', async () => {
    const res = await api('/api/calls')
    expect(res.status).toBe(401)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse-admin"')
    const wrong = await api('/api/calls', 'not-a-token-at-all-xxxxxxxx')
    expect(wrong.status).toBe(401)
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('lists denied calls with filters', async () => {
    const res = await api('/api/calls?denied=true&route=api&limit=10', adminToken)
    expect(res.status).toBe(200)
    const calls = res.body.calls as { requestId: string; rule: string; tenant: string }[]
    expect(calls.map((c) => c.requestId).sort()).toEqual(['call-acme-key', 'call-globex-key'])
    expect(calls.every((c) => c.rule === 'missing-scope')).toBe(true)
  })

  it('pages back through older calls with until', async () => {
    const newest = (await api('/api/calls?limit=1', adminToken)).body.calls as { requestId: string; time: number }[]
    expect(newest).toHaveLength(1)
    const older = (await api(`/api/calls?limit=10&until=${new Date(newest[0].time).toISOString()}`, adminToken)).body.calls as { requestId: string; time: number }[]
    expect(older.every((c) => c.time < newest[0].time)).toBe(true)
    expect(older.map((c) => c.requestId)).not.toContain(newest[0].requestId)
    expect((await api('/api/calls?until=yesterday-ish', adminToken)).status).toBe(400)
  })

  it('answers 400 naming the field for a bad query', async () => {
    const res = await api('/api/calls?limit=lots', adminToken)
    expect(res.status).toBe(400)
    expect(String(res.body.detail)).toContain('limit')
  })

  it('shows one call with its trace explained', async () => {
    const res = await api('/api/calls/call-acme-key', viewerToken)
    expect(res.status).toBe(200)
    const explanation = res.body.explanation as { rule: string; fix: string }
    expect(explanation.rule).toBe('authz.missing-scope')
    expect(explanation.fix).toContain("scope 'write'")
  })

  it("keeps a tenant admin inside its tenant", async () => {
    const calls = (await api('/api/calls?tenant=globex', acmeAdminToken)).body.calls as { tenant: string }[]
    expect(calls.length).toBeGreaterThan(0)
    expect(calls.every((c) => c.tenant === 'acme')).toBe(true)
    expect((await api('/api/calls/call-globex-key', acmeAdminToken)).status).toBe(404)
    const consumers = (await api('/api/consumers', acmeAdminToken)).body.consumers as { name: string }[]
    expect(consumers.map((c) => c.name)).toEqual(['acme-app'])
  })

  it('never shows a key, only its fingerprint', async () => {
    const res = await api('/api/consumers', adminToken)
    const text = JSON.stringify(res.body)
    expect(text).not.toContain('acme-key')
    expect(text).not.toContain(sha('acme-key'))
    expect(text).toContain(sha('acme-key').slice(0, 8))
  })

  it('serves Prometheus metrics with requests by route, status and decision layer', async () => {
    const res = await request(`${gateway.adminUrl}/metrics`)
    const text = await res.body.text()
    expect(res.statusCode).toBe(200)
    expect(String(res.headers['content-type'])).toContain('text/plain')
    expect(text).toMatch(/gatehouse_requests_total\{[^}]*route="api"[^}]*status="403"[^}]*\} 2/)
    expect(text).toMatch(/gatehouse_denials_total\{[^}]*layer="authz"[^}]*rule="missing-scope"[^}]*\} 2/)
    expect(text).toContain('gatehouse_request_duration_seconds_bucket')
  })

  it('serves routes, upstream health and an OpenAPI document', async () => {
    expect(((await api('/api/routes', adminToken)).body.routes as { layers: string[] }[])[0].layers).toEqual(['authn', 'authz'])
    expect(((await api('/api/upstreams', adminToken)).body.upstreams as { targets: { healthy: boolean }[] }[])[0].targets[0].healthy).toBe(true)
    const openapi = await api('/openapi.json')
    expect(openapi.body.openapi).toBe('3.1.0')
    expect(Object.keys(openapi.body.paths as object)).toContain('/api/calls/{requestId}')
  })
})

describe('admin API: subscriptions', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await request(`${gateway.adminUrl}${path}`, {
      method: method as 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }
  }
  const order = async () => {
    const res = await request(`${gateway.url}/orders`, { headers: { 'x-api-key': 'acme-key' } })
    const body = (await res.body.json()) as { rule?: string }
    return { status: res.statusCode, rule: body.rule }
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(`
admin:
  tokens:
    - "${adminToken}"
    - { token: "${viewerToken}", role: viewer }
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
    - { token: "globex-admin-token-0123456789", role: tenant-admin, tenant: globex }
tenants: [ { name: acme, admins: [ "alice@acme.test" ] }, { name: globex } ]
apis: [ { name: orders-api, tenant: acme, routes: [ orders ], subscription: required } ]
subscriptions: [ { id: 12, consumer: acme-app, api: orders-api, state: pending } ]
upstreams: { api: { targets: [ "${upstream.url}" ] } }
consumers: [ { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ] } ]
routes:
  - { name: orders, match: { path: /orders }, upstream: api, policies: { auth: { methods: [ key ] }, subscription: {} } }
`)
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('a pending subscription is refused until its tenant admin approves it; viewers and other tenants cannot', async () => {
    expect(await order()).toEqual({ status: 403, rule: 'pending' })
    const queue = await call('GET', '/api/subscriptions?state=pending', viewerToken)
    expect((queue.body.subscriptions as { id: string }[]).map((s) => s.id)).toEqual(['12'])

    expect((await call('POST', '/api/subscriptions/12/approve', viewerToken, {})).status).toBe(403)
    expect((await call('POST', '/api/subscriptions/12/approve', 'globex-admin-token-0123456789', {})).status).toBe(403)
    expect(await order()).toEqual({ status: 403, rule: 'pending' })

    const approved = await call('POST', '/api/subscriptions/12/approve', acmeAdminToken, {})
    expect(approved.status).toBe(200)
    expect(await order()).toMatchObject({ status: 200 })

    const revoked = await call('POST', '/api/subscriptions/12/revoke', adminToken, { reason: 'contract ended' })
    expect(revoked.status).toBe(200)
    expect(await order()).toEqual({ status: 403, rule: 'revoked' })
    expect((await call('POST', '/api/subscriptions/12/approve', adminToken, {})).status).toBe(409)
  })

  it('validates bodies and names the field', async () => {
    const res = await call('POST', '/api/subscriptions', adminToken, { consumer: 'acme-app' })
    expect(res.status).toBe(400)
    expect(String(res.body.detail)).toContain('api')
  })

  it('writes every admin action to the audit log', async () => {
    const audit = await call('GET', '/api/audit', adminToken)
    const actions = (audit.body.entries as { action: string; actor: string }[]).map((e) => e.action)
    expect(actions).toContain('subscription.approve')
    expect(actions).toContain('subscription.revoke')
    expect((await call('GET', '/api/audit', viewerToken)).status).toBe(403)
  })
})
