import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { startGateway, type Gateway } from '../src/gateway/server.js'
import { createTestSchema, type TestSchema } from '../src/store/postgres-test-support.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

describe('soak: mixed traffic across instances, every call in the shared log', () => {
  let schema: TestSchema
  let upstream: TestUpstream
  const gateways: Gateway[] = []

  beforeAll(async () => {
    schema = await createTestSchema()
    upstream = await startUpstream((_req, res) => res.end('ok'))
    const config = `
store: "${schema.url()}"
upstreams: { api: { targets: [ "${upstream.url}" ] } }
consumers: [ { name: app, keys: [ "sha256:${sha('soak-key')}" ], scopes: [ read ] } ]
routes:
  - { name: open, match: { path: /open }, upstream: api }
  - { name: keyed, match: { path: /keyed }, upstream: api, policies: { auth: { methods: [ key ] }, scopes: [ read ] } }
  - { name: write, match: { path: /write }, upstream: api, policies: { auth: { methods: [ key ] }, scopes: [ write ] } }
`
    for (let i = 0; i < 3; i++) {
      // Each instance in its own directory, as on separate machines: the spool lives beside the config.
      const configFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-soak-')), 'gatehouse.yaml')
      writeFileSync(configFile, config)
      gateways.push(await startGateway({ configFile, listen: '127.0.0.1:0', watch: false, storeOptions: { batchMs: 20 }, env: process.env }))
    }
  })
  afterAll(async () => {
    for (const g of gateways) await g.close(100)
    await upstream.close()
    await schema.drop()
  })

  it('sends 3,000 requests (allowed, 401, 403, 404) over three instances and finds exactly 3,000 rows', async () => {
    const total = 3000
    const kinds = [
      { path: '/open', headers: {}, status: 200 },
      { path: '/keyed', headers: { 'x-api-key': 'soak-key' }, status: 200 },
      { path: '/keyed', headers: {}, status: 401 },
      { path: '/write', headers: { 'x-api-key': 'soak-key' }, status: 403 },
      { path: '/nowhere', headers: {}, status: 404 },
    ]
    const dispatcher = new Agent({ connections: 16 })
    const seen = new Map<number, number>()
    const started = performance.now()
    let next = 0
    const worker = async () => {
      while (next < total) {
        const i = next++
        const kind = kinds[i % kinds.length]
        const res = await request(`${gateways[i % gateways.length].url}${kind.path}`, { headers: kind.headers, dispatcher })
        await res.body.dump()
        expect(res.statusCode).toBe(kind.status)
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    const seconds = (performance.now() - started) / 1000
    await dispatcher.close()
    for (const g of gateways) await g.store!.flush()
    const rows = await schema.query<{ n: string }>('SELECT count(*) AS n FROM calls')
    const byStatus = await schema.query<{ status: number; n: string }>('SELECT status, count(*) AS n FROM calls GROUP BY status ORDER BY status')
    console.log(`soak: ${total} requests in ${seconds.toFixed(1)} s (${Math.round(total / seconds)} req/s) over ${gateways.length} instances; rows ${rows[0].n}; by status ${byStatus.map((r) => `${r.status}:${r.n}`).join(' ')}`)
    expect(Number(rows[0].n)).toBe(total)
    for (const r of byStatus) expect(Number(r.n)).toBe(seen.get(r.status))
  })
})
