import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { parse } from 'yaml'
import { startGateway, type Gateway } from '../src/gateway/server.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const adminToken = 'admin-token-0123456789abcdef'
const viewerToken = 'viewer-token-0123456789abcdef'
const acmeAdminToken = 'acme-admin-token-0123456789ab'
const tokens = `
admin:
  tokens:
    - "${adminToken}"
    - { token: "${viewerToken}", role: viewer }
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
`
const sections = ['upstreams', 'consumers', 'tenants', 'apis', 'subscriptions', 'routes'] as const

describe('config export and import (YAML)', () => {
  let upstream: TestUpstream
  let source: TestGateway
  let target: TestGateway | Gateway
  let targetFile: string

  const admin = async (gateway: Gateway, method: string, path: string, token: string, body?: unknown, contentType = 'application/json') => {
    const res = await request(`${gateway.adminUrl}${path}`, { method: method as 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
    const text = await res.body.text()
    return { status: res.statusCode, type: String(res.headers['content-type']), text, json: () => JSON.parse(text) as Record<string, any> }
  }
  const exported = async (gateway: Gateway) => {
    const res = await admin(gateway, 'GET', '/api/config/export', adminToken)
    expect(res.status).toBe(200)
    return res.text
  }
  const pick = (yaml: string) => {
    const doc = parse(yaml) as Record<string, unknown>
    return Object.fromEntries(sections.map((s) => [s, doc[s]]))
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    source = await startTestGateway(`
store: sqlite:./calls.db
redis: "redis://:hunter2-secret@127.0.0.1:6399"
${tokens}
tenants: [ { name: acme, admins: [ ops@acme.test ] }, { name: globex } ]
apis: [ { name: orders-api, tenant: acme, routes: [ orders ], description: Orders of acme } ]
upstreams: { api: { targets: [ "${upstream.url}" ], retries: 2 } }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ], scopes: [ orders:read ], attributes: { plan: gold } }
subscriptions: [ { id: 1, consumer: acme-app, api: orders-api } ]
routes:
  - name: orders
    match: { methods: [ GET ], path: /orders }
    upstream: api
    policies: { auth: { methods: [ key ] }, subscription: {}, scopes: [ orders:read ], rateLimit: { limit: 100, window: 1m } }
`)
    // Admin changes on top of the file: a route, an upstream, a consumer and its key.
    expect((await admin(source, 'POST', '/api/upstreams', adminToken, { name: 'reports', targets: [upstream.url] })).status).toBe(201)
    expect((await admin(source, 'POST', '/api/routes', adminToken, { name: 'reports', match: { path: '/reports/:id' }, upstream: 'reports', policies: { ip: { allow: ['127.0.0.0/8'] } } })).status).toBe(201)
    expect((await admin(source, 'POST', '/api/consumers', adminToken, { name: 'globex-app', tenant: 'globex', scopes: ['orders:read'] })).status).toBe(201)
    expect((await admin(source, 'POST', '/api/consumers/globex-app/keys', adminToken)).status).toBe(201)

    target = await startTestGateway(`
store: sqlite:./calls.db
${tokens}
upstreams: { old: { targets: [ "${upstream.url}" ] } }
routes: [ { name: legacy, match: { path: /legacy }, upstream: old } ]
`)
    targetFile = (target as TestGateway).configFile
  })
  afterAll(async () => {
    await source.close(100)
    await target.close(100)
    await upstream.close()
  })

  it('exports the running config (file + admin changes) as YAML with admin tokens and URL passwords redacted', async () => {
    const res = await admin(source, 'GET', '/api/config/export', adminToken)
    expect(res.type).toContain('application/yaml')
    expect(res.text).not.toContain(adminToken)
    expect(res.text).not.toContain(viewerToken)
    expect(res.text).not.toContain('hunter2')
    const doc = parse(res.text) as Record<string, any>
    expect(doc.admin.tokens).toEqual(['[redacted-admin-token]', { token: '[redacted-admin-token]', role: 'viewer' }, { token: '[redacted-admin-token]', role: 'tenant-admin', tenant: 'acme' }])
    expect(Object.keys(doc.upstreams)).toEqual(['api', 'reports'])
    expect(doc.routes.map((r: { name: string }) => r.name)).toEqual(['orders', 'reports'])
    expect(doc.consumers.find((c: { name: string }) => c.name === 'globex-app').keys[0]).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(doc.apis[0]).toMatchObject({ name: 'orders-api', description: 'Orders of acme' })
  })

  it('only admin tokens may export or import', async () => {
    expect((await admin(source, 'GET', '/api/config/export', viewerToken)).status).toBe(403)
    expect((await admin(source, 'GET', '/api/config/export', acmeAdminToken)).status).toBe(403)
    const yaml = await exported(source)
    expect((await admin(target, 'POST', '/api/config/import', viewerToken, yaml, 'application/yaml')).status).toBe(403)
    expect((await admin(target, 'POST', '/api/config/import', acmeAdminToken, yaml, 'application/yaml')).status).toBe(403)
    expect((await admin(target, 'POST', '/api/config/import', adminToken, yaml, 'application/json')).status).toBe(415)
  })

  it('refuses an invalid document with each problem located (line, col, field), changing nothing', async () => {
    const bad = `upstreams: { u: { targets: [ "http://127.0.0.1:1" ] } }\nroutes:\n  - name: x\n    match: { path: nope }\n    upstream: missing\n`
    const res = await admin(target, 'POST', '/api/config/import', adminToken, bad, 'text/yaml')
    expect(res.status).toBe(400)
    const errors = res.json().errors as { line: number; col: number; field: string; message: string }[]
    expect(errors).toEqual(expect.arrayContaining([
      expect.objectContaining({ line: 4, field: 'routes[0].match.path' }),
      expect.objectContaining({ line: 5, field: 'routes[0].upstream' }),
    ]))
    expect(errors.every((e) => e.col > 0)).toBe(true)
    const broken = await admin(target, 'POST', '/api/config/import', adminToken, 'routes: [ {', 'application/yaml')
    expect(broken.status).toBe(400)
    expect(broken.json().errors[0].message).toMatch(/^YAML/)
    expect(pick(await exported(target)).routes).toEqual([expect.objectContaining({ name: 'legacy' })])
  })

  it('dryRun reports what would change and changes nothing', async () => {
    const res = await admin(target, 'POST', '/api/config/import?dryRun=true', adminToken, await exported(source), 'application/yaml')
    expect(res.status).toBe(200)
    const body = res.json()
    expect(body.wouldApply).toEqual({
      upstreams: { created: 2, changed: 0, deleted: 1 },
      routes: { created: 2, changed: 0, deleted: 1 },
      tenants: { created: 2, changed: 0, deleted: 0 },
      apis: { created: 1, changed: 0, deleted: 0 },
      consumers: { created: 2, changed: 0, deleted: 0 },
      subscriptions: { created: 1, changed: 0, deleted: 0 },
    })
    expect(body.ignored).toEqual(expect.arrayContaining(['listen', 'admin', 'store', 'redis']))
    expect((await request(`${target.url}/legacy`)).statusCode).toBe(200)
  })

  it('round trip: importing the export gives the same running config, applied at once and kept after a restart', async () => {
    const yaml = await exported(source)
    const res = await admin(target, 'POST', '/api/config/import', adminToken, yaml, 'application/yaml')
    expect(res.status).toBe(200)
    expect(res.json().changes).toBe(12)
    expect(pick(await exported(target))).toEqual(pick(yaml))

    // Applied without a restart: the old route is gone, the imported ones serve with their policies.
    expect((await request(`${target.url}/legacy`)).statusCode).toBe(404)
    const ok = await request(`${target.url}/orders`, { headers: { 'x-api-key': 'acme-key' } })
    expect(ok.statusCode).toBe(200)
    await ok.body.dump()
    const noKey = await request(`${target.url}/orders`)
    expect(noKey.statusCode).toBe(401)
    await noKey.body.dump()

    // Importing the same document again changes nothing.
    expect((await admin(target, 'POST', '/api/config/import', adminToken, yaml, 'application/yaml')).json().changes).toBe(0)
    expect((await admin(source, 'POST', '/api/config/import', adminToken, yaml, 'application/yaml')).json().changes).toBe(0)

    await target.close(100)
    target = await startGateway({ configFile: targetFile, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', watch: false, storeOptions: { batchMs: 10 }, env: process.env })
    expect(pick(await exported(target))).toEqual(pick(yaml))
    const audit = (await admin(target, 'GET', '/api/audit', adminToken)).json().entries as { action: string }[]
    expect(audit.map((e) => e.action)).toContain('config.import')
  }, 60_000) // restarts the gateway: slow on a loaded machine
})
