import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startGateway, type Gateway } from '../src/gateway/server.js'
import { createTestSchema, type TestSchema } from '../src/store/postgres-test-support.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const adminToken = 'cluster-admin-token-0123456789'

describe('an admin change on one instance is enforced on the others', () => {
  let schema: TestSchema
  let upstream: TestUpstream
  let a: Gateway
  let b: Gateway

  beforeAll(async () => {
    schema = await createTestSchema()
    upstream = await startUpstream()
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'))
    const configFile = join(dir, 'gatehouse.yaml')
    writeFileSync(configFile, `
store: "${schema.url()}"
redis: redis://127.0.0.1:6379
admin: { tokens: [ "${adminToken}" ] }
upstreams: { api: { targets: [ "${upstream.url}" ] } }
routes: [ { name: api, match: { path: /api }, upstream: api, policies: { auth: { methods: [ key ] } } } ]
`)
    const start = () => startGateway({ configFile, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', watch: false, storeOptions: { batchMs: 10 }, env: process.env })
    a = await start()
    b = await start()
  })
  afterAll(async () => {
    await a.close(100)
    await b.close(100)
    await upstream.close()
    await schema.drop()
  })

  it('a key issued on A is accepted by B within a second (Redis pub/sub, shared PostgreSQL state)', async () => {
    const post = async (path: string, body?: unknown) => {
      const res = await request(`${a.adminUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
      return (await res.body.json()) as Record<string, unknown>
    }
    await post('/api/consumers', { name: 'mobile-app' })
    const { key } = (await post('/api/consumers/mobile-app/keys')) as { key: string }
    const issuedAt = performance.now()
    let status = 0
    while (performance.now() - issuedAt < 3000) {
      const res = await request(`${b.url}/api`, { headers: { 'x-api-key': key } })
      await res.body.dump()
      status = res.statusCode
      if (status === 200) break
      await new Promise((ok) => setTimeout(ok, 20))
    }
    const convergedMs = performance.now() - issuedAt
    console.log(`admin change reached the other instance in ${convergedMs.toFixed(0)} ms`)
    expect(status).toBe(200)
    expect(convergedMs).toBeLessThan(1000)
  })
})
