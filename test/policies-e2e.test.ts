import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { SignJWT } from 'jose'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const secret = 'e2e-jwt-secret-that-is-long-enough-32b'

function configFor(upstreamUrl: string, explain: string) {
  return `
explain: ${explain}
trustedProxies: [ "127.0.0.1" ]
upstreams: { orders: { targets: [ "${upstreamUrl}" ] } }
consumers:
  - { name: writer, tenant: acme, keys: [ "sha256:${sha('writer-key')}" ], scopes: [ "orders:read", "orders:write" ] }
  - { name: reader, tenant: acme, keys: [ "sha256:${sha('reader-key')}" ], scopes: [ "orders:read" ] }
routes:
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies:
      ip: { deny: [ "203.0.113.0/24" ] }
      cors: { origins: [ "https://app.example.com" ], methods: [ POST ], headers: [ content-type, x-api-key ] }
      body: { maxBytes: 1024, types: [ application/json ] }
      auth: { methods: [ key, jwt ], jwt: { secret: "${secret}", issuer: "https://issuer.test", audience: orders } }
      scopes: [ "orders:write" ]
`
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

describe('the pipeline in front of a real upstream', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  let url: string
  const json = { 'content-type': 'application/json' }

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(configFor(upstream.url, 'public'))
    url = `${gateway.url}/orders`
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('allows a key with the needed scope and forwards the body', async () => {
    const res = await call(url, { method: 'POST', headers: { ...json, 'x-api-key': 'writer-key' }, body: '{"sku":"a"}' })
    expect(res.status).toBe(200)
    expect(res.headers['gatehouse-decision']).toBe('allow')
    expect(res.body.body).toBe('{"sku":"a"}')
  })

  it('401 with WWW-Authenticate when no credentials are sent', async () => {
    const res = await call(url, { method: 'POST', headers: json, body: '{}' })
    expect(res.status).toBe(401)
    expect(String(res.headers['www-authenticate'])).toMatch(/ApiKey realm="gatehouse".*Bearer realm="gatehouse"/)
    expect(res.body).toMatchObject({ layer: 'authn', rule: 'missing-credentials' })
  })

  it('401 for a wrong key, 401 for an expired JWT', async () => {
    expect((await call(url, { method: 'POST', headers: { ...json, 'x-api-key': 'nope' }, body: '{}' })).body.rule).toBe('key-invalid')
    const expired = await new SignJWT({ scope: 'orders:write' }).setProtectedHeader({ alg: 'HS256' }).setSubject('writer')
      .setIssuer('https://issuer.test').setAudience('orders').setIssuedAt(1_600_000_000).setExpirationTime(1_600_000_600)
      .sign(new TextEncoder().encode(secret))
    const res = await call(url, { method: 'POST', headers: { ...json, authorization: `Bearer ${expired}` }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.body.rule).toBe('jwt-expired')
    expect(String(res.headers['www-authenticate'])).toContain('error="invalid_token"')
  })

  it('403 (not 401) when the caller is known but lacks the scope', async () => {
    const res = await call(url, { method: 'POST', headers: { ...json, 'x-api-key': 'reader-key' }, body: '{}' })
    expect(res.status).toBe(403)
    expect(res.headers['gatehouse-decision']).toBe('authz;rule=missing-scope')
    expect(res.body).toMatchObject({ type: '/problems/authz/missing-scope', layer: 'authz', rule: 'missing-scope', route: 'orders-create' })
  })

  it('accepts a valid JWT carrying the scope', async () => {
    const token = await new SignJWT({ scope: 'orders:write' }).setProtectedHeader({ alg: 'HS256' }).setSubject('partner')
      .setIssuer('https://issuer.test').setAudience('orders').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret))
    expect((await call(url, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: '{}' })).status).toBe(200)
  })

  it('413, 415 and 400 from the body layer before authn runs', async () => {
    const auth = { 'x-api-key': 'writer-key' }
    expect((await call(url, { method: 'POST', headers: { ...json, ...auth }, body: JSON.stringify({ x: 'y'.repeat(2000) }) })).status).toBe(413)
    expect((await call(url, { method: 'POST', headers: { 'content-type': 'text/xml', ...auth }, body: '<a/>' })).status).toBe(415)
    const malformed = await call(url, { method: 'POST', headers: { ...json, ...auth }, body: '{"a":' })
    expect(malformed.status).toBe(400)
    expect(malformed.body.rule).toBe('malformed-json')
  })

  it('403 for a denied client ip, resolved through a trusted proxy', async () => {
    const res = await call(url, { method: 'POST', headers: { ...json, 'x-api-key': 'writer-key', 'x-forwarded-for': '203.0.113.7' }, body: '{}' })
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ layer: 'ip', rule: 'denied' })
  })

  it('answers an allowed CORS preflight itself and names what a rejected one got wrong', async () => {
    const preflight = { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' }
    const ok = await request(url, { method: 'OPTIONS', headers: preflight })
    await ok.body.dump()
    expect(ok.statusCode).toBe(204)
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com')
    const badOrigin = await call(url, { method: 'OPTIONS', headers: { ...preflight, origin: 'https://evil.example' } })
    expect(badOrigin.status).toBe(403)
    expect(badOrigin.body.rule).toBe('origin-not-allowed')
    const badHeader = await call(url, { method: 'OPTIONS', headers: { ...preflight, 'access-control-request-headers': 'x-other' } })
    expect(badHeader.body.rule).toBe('header-not-allowed')
  })

  it('lets a browser read a denial: CORS headers ride on the 401 so the page sees why, not a CORS error', async () => {
    const res = await call(url, { method: 'POST', headers: { ...json, origin: 'https://app.example.com' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(String(res.headers['access-control-expose-headers']).toLowerCase()).toContain('gatehouse-decision')
  })

  it('public explain level never leaks specifics', async () => {
    const res = await call(url, { method: 'POST', headers: { ...json, 'x-api-key': 'reader-key' }, body: '{}' })
    expect(JSON.stringify(res.body)).not.toContain('orders:write')
    expect(res.body.trace).toBeUndefined()
    expect(res.body.requestId).toBe(res.headers['x-request-id'])
  })

  it('stores the full denial for admins even when the caller saw the public one', async () => {
    const res = await call(url, { method: 'POST', headers: { ...json, 'x-api-key': 'reader-key' }, body: '{}' })
    await gateway.store!.flush()
    const row = await gateway.store!.get(String(res.headers['x-request-id']))
    expect(row?.consumer).toBe('reader')
    expect(JSON.stringify(row?.denial)).toContain('orders:write')
    expect(JSON.stringify(row)).not.toContain('reader-key')
  })
})

describe('explain levels', () => {
  let upstream: TestUpstream
  beforeAll(async () => { upstream = await startUpstream() })
  afterAll(async () => { await upstream.close() })

  it.each([
    ['consumer', true, false],
    ['full', true, true],
  ])('%s: specific detail %s, operator remediation %s', async (level, specific, internals) => {
    const gateway = await startTestGateway(configFor(upstream.url, level))
    try {
      const res = await call(`${gateway.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'reader-key' }, body: '{}' })
      expect(String(res.body.detail).includes('orders:write')).toBe(specific)
      expect(String(res.body.remedy).includes('consumers[].scopes')).toBe(internals)
      expect(res.body.trace !== undefined).toBe(internals)
      // Before authn the caller is anonymous: consumer level falls back to the public detail.
      const anonymous = await call(`${gateway.url}/orders`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })
      expect(String(anonymous.body.detail).includes('text/plain')).toBe(level === 'full')
    } finally {
      await gateway.close(100)
    }
  })
})

describe('hideCredentials', () => {
  it("keeps the gateway's credentials away from the upstream when asked", async () => {
    const upstream = await startUpstream()
    const gateway = await startTestGateway(`
upstreams: { orders: { targets: [ "${upstream.url}" ] } }
consumers: [ { name: writer, keys: [ "sha256:${sha('writer-key')}" ] } ]
routes:
  - { name: hidden, match: { path: /hidden }, upstream: orders, policies: { auth: { methods: [ key ], hideCredentials: true } } }
  - { name: shown, match: { path: /shown }, upstream: orders, policies: { auth: { methods: [ key ] } } }
`)
    try {
      for (const path of ['/hidden', '/shown']) {
        const res = await request(`${gateway.url}${path}`, { headers: { 'x-api-key': 'writer-key' } })
        await res.body.dump()
        expect(res.statusCode).toBe(200)
      }
      expect(upstream.requests[0].headers['x-api-key']).toBeUndefined()
      expect(upstream.requests[1].headers['x-api-key']).toBe('writer-key')
    } finally {
      await gateway.close(100)
      await upstream.close()
    }
  })
})
