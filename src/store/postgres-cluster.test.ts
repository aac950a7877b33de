import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsCommand } from '../cli/commands/calls.js'
import { whyCommand } from '../cli/commands/why.js'
import { createMemoryIo } from '../cli/io.js'
import { startTestGateway, type TestGateway } from '../testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../testing/start-upstream.js'
import { createTestSchema, type TestSchema } from './postgres-test-support.js'
import type { CallRecord } from './types.js'

/** Two gateway instances sharing one PostgreSQL call log, as in cluster mode. */
describe('a cluster of two gateways on one PostgreSQL call log', () => {
  let schema: TestSchema
  let upstream: TestUpstream
  const gateways: TestGateway[] = []

  beforeAll(async () => {
    schema = await createTestSchema()
    upstream = await startUpstream()
    const config = `
listen: 127.0.0.1:0
store: "${schema.url()}"
upstreams:
  orders: { targets: [ "${upstream.url}" ] }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "env:ACME_KEY" ], scopes: [ "orders:read" ] }
routes:
  - name: orders-read
    match: { methods: [ GET ], path: /orders }
    upstream: orders
    policies: { auth: { methods: [ key ] }, scopes: [ "orders:read" ] }
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies: { auth: { methods: [ key ] }, scopes: [ "orders:write" ] }
`
    for (let i = 0; i < 2; i++) gateways.push(await startTestGateway(config, { env: { ACME_KEY: 'acme-secret-key-123' } }))
  })

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()))
    await upstream?.close()
    await schema?.drop()
  })

  it('logs calls from both instances where `calls` and `why` on either config find them', async () => {
    const [a, b] = gateways
    const denied = await request(`${a.url}/orders`, { method: 'POST', headers: { 'x-api-key': 'acme-secret-key-123' }, body: '{}' })
    await denied.body.text()
    const allowed = await request(`${b.url}/orders`, { headers: { 'x-api-key': 'acme-secret-key-123' } })
    await allowed.body.text()
    expect([denied.statusCode, allowed.statusCode]).toEqual([403, 200])
    await Promise.all([a.store!.flush(), b.store!.flush()])

    const why = createMemoryIo({}, '/')
    expect(await whyCommand.run([String(denied.headers['x-request-id']), '-c', b.configFile], why)).toBe(0)
    expect(why.out).toMatch(/authz +DENY .*authz\.missing-scope/)

    const calls = createMemoryIo({}, '/')
    expect(await callsCommand.run(['-c', a.configFile, '--json'], calls)).toBe(0)
    const listed = JSON.parse(calls.out) as CallRecord[]
    expect(listed.map((r) => [r.route, r.status]).sort()).toEqual([['orders-create', 403], ['orders-read', 200]])
    expect(calls.out).not.toContain('acme-secret-key-123')
    // Each instance keeps its spool beside its own config file.
    for (const gateway of gateways) expect(existsSync(join(gateway.dir, 'data', 'spool'))).toBe(true)
  })
})
