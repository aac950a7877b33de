import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { adminEndpoints } from '../src/admin/server.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const adminToken = 'admin-token-0123456789abcdef'
const viewerToken = 'viewer-token-0123456789abcdef'
const acmeAdminToken = 'acme-admin-token-0123456789ab'

type Json = Record<string, any>

/** Reads server-sent events from an open response until `until` holds or the time is up. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const res = await request(url, { headers, signal: controller.signal })
  const events: { event: string; data: Json }[] = []
  let buffer = ''
  let raw = ''
  const pump = (async () => {
    try {
      for await (const chunk of res.body) {
        buffer += chunk.toString()
        raw += chunk.toString()
        let end: number
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.+)$/m.exec(block)?.[1]
          const data = /^data: (.+)$/m.exec(block)?.[1]
          if (event && data) events.push({ event, data: JSON.parse(data) as Json })
        }
      }
    } catch {
      // aborted by close()
    }
  })()
  return {
    status: res.statusCode,
    headers: res.headers,
    events,
    raw: () => raw,
    async waitFor(until: () => boolean, ms = 3000) {
      const end = Date.now() + ms
      while (!until() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      return until()
    },
    async close() {
      controller.abort()
      await pump
    },
  }
}

describe('roles: a viewer changes nothing, a tenant admin sees only its tenant', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  const admin = async (method: string, path: string, token: string, body?: unknown, contentType = 'application/json') => {
    const res = await request(`${gateway.adminUrl}${path}`, { method: method as 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
    const text = await res.body.text()
    return { status: res.statusCode, text, json: () => JSON.parse(text) as Json }
  }
  const call = async (path: string, key: string) => {
    const res = await request(`${gateway.url}${path}`, { headers: { 'x-api-key': key } })
    await res.body.dump()
    return { status: res.statusCode, requestId: String(res.headers['x-request-id']) }
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(`
store: sqlite:./calls.db
admin:
  tokens:
    - "${adminToken}"
    - { token: "${viewerToken}", role: viewer }
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
tenants: [ { name: acme }, { name: globex } ]
apis:
  - { name: acme-api, tenant: acme, routes: [ acme ] }
  - { name: globex-api, tenant: globex, routes: [ globex ] }
upstreams: { api: { targets: [ "${upstream.url}" ] } }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ] }
  - { name: globex-app, tenant: globex, keys: [ "sha256:${sha('globex-key')}" ] }
subscriptions:
  - { id: 1, consumer: acme-app, api: acme-api, state: pending }
  - { id: 2, consumer: globex-app, api: globex-api, state: pending }
routes:
  - { name: acme, match: { path: /acme }, upstream: api, policies: { auth: { methods: [ key ] }, subscription: {} } }
  - { name: globex, match: { path: /globex }, upstream: api, policies: { auth: { methods: [ key ] }, subscription: {} } }
`)
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  const snapshot = async () => {
    const parts = await Promise.all(['/api/routes', '/api/upstreams', '/api/consumers', '/api/subscriptions', '/api/tenants', '/api/audit'].map((p) => admin('GET', p, adminToken)))
    // Upstream health carries live counters; compare the config-like parts only.
    return parts.map((p) => p.text.replace(/"targets":\[[^\]]*\]/g, ''))
  }

  it('a viewer gets 403 on every write endpoint, including the new ones, and nothing changes', async () => {
    const before = await snapshot()
    const samples: Record<string, unknown> = {
      'POST /api/routes': { name: 'v', match: { path: '/v' }, upstream: 'api' },
      'PUT /api/routes/:name': { name: 'acme', match: { path: '/acme' }, upstream: 'api' },
      'POST /api/upstreams': { name: 'v', targets: [upstream.url] },
      'PUT /api/upstreams/:name': { targets: [upstream.url] },
      'POST /api/consumers': { name: 'v' },
      'POST /api/subscriptions': { consumer: 'acme-app', api: 'acme-api' },
      'POST /api/config/import': 'routes: []\n',
    }
    const writes = adminEndpoints.filter((e) => e.action === 'write')
    expect(writes.map((e) => `${e.method} ${e.path}`)).toEqual(expect.arrayContaining(['POST /api/routes', 'PUT /api/routes/:name', 'DELETE /api/routes/:name', 'POST /api/upstreams', 'PUT /api/upstreams/:name', 'DELETE /api/upstreams/:name', 'POST /api/config/import']))
    for (const endpoint of writes) {
      const path = endpoint.path.replace(':name', endpoint.path.includes('upstreams') ? 'api' : endpoint.path.includes('consumers') ? 'acme-app' : 'acme').replace(':id', '1').replace(':fingerprint', sha('acme-key').slice(0, 8))
      const key = `${endpoint.method} ${endpoint.path}`
      const res = await admin(endpoint.method, path, viewerToken, samples[key], endpoint.textBody ? 'application/yaml' : 'application/json')
      expect(res.status, key).toBe(403)
      expect(res.json().title, key).toBe('Not permitted')
    }
    expect(writes.length).toBeGreaterThanOrEqual(14)
    expect(await snapshot()).toEqual(before)
    expect((await call('/v', 'acme-key')).status).toBe(404)
  })

  it("a tenant admin sees only its tenant's consumers, subscriptions, calls and analytics, and may not export", async () => {
    const acmeCall = await call('/acme', 'acme-key')
    const globexCall = await call('/globex', 'globex-key')
    expect(globexCall.status).toBe(403)
    await gateway.store!.flush()

    await expect(admin('GET', '/api/consumers', acmeAdminToken).then((r) => r.json().consumers.map((c: Json) => c.name))).resolves.toEqual(['acme-app'])
    expect((await admin('GET', '/api/subscriptions', acmeAdminToken)).json().subscriptions.map((s: Json) => s.api)).toEqual(['acme-api'])
    expect((await admin('GET', '/api/tenants', acmeAdminToken)).json().tenants.map((t: Json) => t.name)).toEqual(['acme'])
    const calls = (await admin('GET', '/api/calls?tenant=globex', acmeAdminToken)).json().calls as Json[]
    expect(calls.map((c) => c.requestId)).toEqual([acmeCall.requestId])
    expect((await admin('GET', `/api/calls/${globexCall.requestId}`, acmeAdminToken)).status).toBe(404)
    expect((await admin('GET', `/api/calls/${globexCall.requestId}`, adminToken)).status).toBe(200)
    const analytics = await admin('GET', '/api/analytics/denials?by=consumer&tenant=globex', acmeAdminToken)
    expect(analytics.status).toBe(200)
    expect(analytics.text).not.toContain('globex-app')
    expect((await admin('GET', '/api/analytics/denials?by=consumer', adminToken)).text).toContain('globex-app')

    expect((await admin('GET', '/api/config/export', acmeAdminToken)).status).toBe(403)
    expect((await admin('GET', '/api/config/export', viewerToken)).status).toBe(403)
    expect((await admin('GET', '/api/audit', acmeAdminToken)).status).toBe(403)
    // Changes to another tenant's things are refused.
    expect((await admin('POST', '/api/subscriptions/2/approve', acmeAdminToken)).status).toBe(403)
    expect((await admin('POST', '/api/consumers/globex-app/keys', acmeAdminToken)).status).toBe(403)
    expect((await admin('POST', '/api/subscriptions', acmeAdminToken, { consumer: 'globex-app', api: 'globex-api' })).status).toBe(403)
  })

  it("live tail: server-sent events with filters; a tenant admin's stream carries its tenant's calls only", async () => {
    const all = await openStream(`${gateway.adminUrl}/api/calls/stream`, { authorization: `Bearer ${adminToken}` })
    expect(all.status).toBe(200)
    expect(String(all.headers['content-type'])).toContain('text/event-stream')
    const deniedOnly = await openStream(`${gateway.adminUrl}/api/calls/stream?denied=true&access_token=${viewerToken}`)
    expect(deniedOnly.status).toBe(200)
    const acme = await openStream(`${gateway.adminUrl}/api/calls/stream?tenant=globex&access_token=${acmeAdminToken}`)
    expect(acme.status).toBe(200)

    const allowed = await call('/acme', 'acme-key')
    const denied = await call('/globex', 'globex-key')
    expect(await all.waitFor(() => all.events.length >= 2)).toBe(true)
    expect(all.events.map((e) => e.data.requestId)).toEqual([allowed.requestId, denied.requestId])
    expect(all.events[1]).toMatchObject({ event: 'call', data: { route: 'globex', consumer: 'globex-app', tenant: 'globex', status: 403, layer: 'subscription' } })
    expect(await deniedOnly.waitFor(() => deniedOnly.events.length >= 2)).toBe(true)
    expect(deniedOnly.events.every((e) => e.data.status >= 400)).toBe(true)
    expect(await acme.waitFor(() => acme.events.length >= 1)).toBe(true)
    await new Promise((r) => setTimeout(r, 100))
    expect(acme.events.map((e) => e.data.requestId)).toContain(allowed.requestId)
    expect(acme.events.map((e) => e.data.tenant)).toEqual(acme.events.map(() => 'acme'))
    expect(acme.events.map((e) => e.data.requestId)).not.toContain(denied.requestId)
    await Promise.all([all.close(), deniedOnly.close(), acme.close()])

    // The query token is accepted on the stream only; a bad one is refused.
    expect((await request(`${gateway.adminUrl}/api/calls?access_token=${adminToken}`)).statusCode).toBe(401)
    const refused = await request(`${gateway.adminUrl}/api/calls/stream?access_token=not-a-token-at-all`)
    expect(refused.statusCode).toBe(401)
    await refused.body.dump()
  })
})
