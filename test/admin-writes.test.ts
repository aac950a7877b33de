import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startGateway, type Gateway } from '../src/gateway/server.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const adminToken = 'admin-token-0123456789abcdef'
const viewerToken = 'viewer-token-0123456789abcdef'
const acmeAdminToken = 'acme-admin-token-0123456789ab'

describe('admin changes persist in the store and apply without restart', () => {
  let upstream: TestUpstream
  let dir: string
  let configFile: string
  let gateway: Gateway

  const start = () => startGateway({ configFile, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', watch: false, storeOptions: { batchMs: 10 }, env: process.env })
  const admin = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await request(`${gateway.adminUrl}${path}`, { method: method as 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }
  }
  const callWith = async (key: string) => {
    const res = await request(`${gateway.url}/orders`, { headers: { 'x-api-key': key } })
    const body = await res.body.text()
    return { status: res.statusCode, rule: res.statusCode >= 400 ? (JSON.parse(body) as { rule: string }).rule : undefined }
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-'))
    configFile = join(dir, 'gatehouse.yaml')
    writeFileSync(configFile, `
store: sqlite:./calls.db
admin:
  tokens:
    - "${adminToken}"
    - { token: "${viewerToken}", role: viewer }
    - { token: "${acmeAdminToken}", role: tenant-admin, tenant: acme }
tenants: [ { name: acme }, { name: globex } ]
apis: [ { name: orders-api, tenant: acme, routes: [ orders ], subscription: required } ]
upstreams: { api: { targets: [ "${upstream.url}" ] } }
consumers: [ { name: file-app, tenant: acme, keys: [ "sha256:${sha('file-key')}" ], scopes: [ orders:read ] } ]
routes:
  - { name: orders, match: { path: /orders }, upstream: api, policies: { auth: { methods: [ key ] }, subscription: {}, scopes: [ orders:read ] } }
`)
    gateway = await start()
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  let issuedKey = ''
  let fingerprint = ''

  it('creates a consumer and issues a key shown once; the key works at once', async () => {
    expect((await admin('POST', '/api/consumers', viewerToken, { name: 'new-app', tenant: 'acme' })).status).toBe(403)
    expect((await admin('POST', '/api/consumers', acmeAdminToken, { name: 'sneaky', tenant: 'globex' })).body.consumer).toMatchObject({ tenant: 'acme' })
    const created = await admin('POST', '/api/consumers', adminToken, { name: 'new-app', tenant: 'acme', scopes: ['orders:read'] })
    expect(created.status).toBe(201)
    expect((await admin('POST', '/api/consumers', adminToken, { name: 'new-app' })).status).toBe(409)

    const issued = await admin('POST', '/api/consumers/new-app/keys', adminToken)
    expect(issued.status).toBe(201)
    issuedKey = String(issued.body.key)
    fingerprint = String(issued.body.fingerprint)
    expect(issuedKey).toMatch(/^gh_[A-Za-z0-9_-]{32}$/)
    expect(fingerprint).toBe(sha(issuedKey).slice(0, 8))

    // Known at once (no restart), and refused by the subscription layer until approved.
    expect(await callWith(issuedKey)).toEqual({ status: 403, rule: 'missing' })
    const listed = JSON.stringify((await admin('GET', '/api/consumers', adminToken)).body)
    expect(listed).toContain(fingerprint)
    expect(listed).not.toContain(issuedKey)
  })

  it('keeps a subscription approval, and the consumer and key, across a restart', async () => {
    const requested = await admin('POST', '/api/subscriptions', adminToken, { consumer: 'new-app', api: 'orders-api' })
    const id = String((requested.body.subscription as { id: string }).id)
    expect((await admin('POST', `/api/subscriptions/${id}/approve`, acmeAdminToken, {})).status).toBe(200)
    expect((await callWith(issuedKey)).status).toBe(200)

    await gateway.close(100)
    gateway = await start()
    expect((await callWith(issuedKey)).status).toBe(200)
  })

  it('revokes an issued key; a key from the file must be changed in the file', async () => {
    expect((await admin('DELETE', `/api/consumers/file-app/keys/${sha('file-key').slice(0, 8)}`, adminToken)).status).toBe(409)
    expect((await admin('DELETE', `/api/consumers/new-app/keys/${fingerprint}`, adminToken)).status).toBe(200)
    expect(await callWith(issuedKey)).toEqual({ status: 401, rule: 'key-invalid' })
    await gateway.close(100)
    gateway = await start()
    expect(await callWith(issuedKey)).toEqual({ status: 401, rule: 'key-invalid' })
  })

  it('keeps an audit log of every change, with who made it, across restarts', async () => {
    const entries = (await admin('GET', '/api/audit', adminToken)).body.entries as { action: string; actor: string }[]
    expect(entries.map((e) => e.action)).toEqual(['key.revoke', 'subscription.approve', 'subscription.request', 'key.issue', 'consumer.create', 'consumer.create'])
    expect(entries.find((e) => e.action === 'subscription.approve')?.actor).toMatch(/^token:/)
  })
})
