import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { main } from '../../src/cli/main.js'
import { createMemoryIo } from '../../src/cli/io.js'
import { createTestSchema, type TestSchema } from '../../src/store/postgres-test-support.js'
import { startUpstream, type TestUpstream } from '../../src/testing/start-upstream.js'
import { spawnGateway, type GatewayProcess } from './spawn-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const adminToken = 'cluster-process-admin-token-01'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address() as { port: number }
  await new Promise<void>((ok) => server.close(() => ok()))
  return port
}

describe('a cluster of gateway processes on PostgreSQL and Redis', () => {
  let schema: TestSchema
  let upstream: TestUpstream
  let configFile: string
  const processes: GatewayProcess[] = []
  const adminPorts: number[] = []
  let sent = 0

  beforeAll(async () => {
    schema = await createTestSchema()
    upstream = await startUpstream((_req, res) => res.end('ok'))
    configFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-cluster-proc-')), 'gatehouse.yaml')
    writeFileSync(configFile, `
store: "${schema.url()}"
redis: redis://127.0.0.1:6379
admin: { listen: "127.0.0.1:\${ADMIN_PORT}", tokens: [ "${adminToken}" ] }
upstreams: { api: { targets: [ "${upstream.url}" ] } }
consumers: [ { name: app, keys: [ "sha256:${sha('cluster-key')}" ] } ]
routes:
  - { name: ${schema.name}-limited, match: { path: /limited }, upstream: api, policies: { auth: { methods: [ key ] }, rateLimit: { limit: 10, window: 1h, by: consumer, store: redis } } }
  - { name: open, match: { path: /open }, upstream: api, policies: { auth: { methods: [ key ] } } }
`)
    for (let i = 0; i < 2; i++) {
      const port = await freePort()
      adminPorts.push(port)
      processes.push(await spawnGateway(configFile, { ADMIN_PORT: String(port), GATEHOUSE_LOG_LEVEL: 'warn' }))
    }
  }, 60_000)
  afterAll(async () => {
    for (const p of processes) {
      p.child.kill('SIGTERM')
      await p.exited
    }
    await upstream.close()
    await schema.drop()
  })

  const get = async (url: string, key: string) => {
    sent++
    const res = await request(url, { headers: { 'x-api-key': key } })
    await res.body.dump()
    return res.statusCode
  }

  it('holds one shared rate limit across both processes', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) statuses.push(await get(`${processes[i % 2].url}/limited`, 'cluster-key'))
    const admitted = statuses.filter((s) => s === 200).length
    console.log(`shared limit 10 over 2 processes: admitted ${admitted} of 30`)
    expect(admitted).toBeGreaterThanOrEqual(10)
    expect(admitted).toBeLessThanOrEqual(11)
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - admitted)
  })

  it('enforces an admin change made on one process on the other within a second', async () => {
    const post = async (path: string, body?: unknown) => {
      const res = await request(`http://127.0.0.1:${adminPorts[0]}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
      return (await res.body.json()) as Record<string, unknown>
    }
    await post('/api/consumers', { name: 'late-app' })
    const { key } = (await post('/api/consumers/late-app/keys')) as { key: string }
    const issued = performance.now()
    let status = 0
    while (performance.now() - issued < 3000) {
      status = await get(`${processes[1].url}/open`, key)
      if (status === 200) break
      await new Promise((ok) => setTimeout(ok, 20))
    }
    const ms = performance.now() - issued
    console.log(`admin change reached the other process in ${ms.toFixed(0)} ms`)
    expect(status).toBe(200)
    expect(ms).toBeLessThan(1000)
  })

  it('lets `gatehouse calls` read every process’s calls together', async () => {
    // Rows are written in 50 ms batches; give both processes a moment.
    let calls: unknown[] = []
    for (let i = 0; i < 50 && calls.length < sent; i++) {
      const io = createMemoryIo({ ...process.env, ADMIN_PORT: '1' }, process.cwd())
      expect(await main(['calls', '-c', configFile, '--limit', '1000', '--json'], io)).toBe(0)
      calls = JSON.parse(io.out) as unknown[]
      if (calls.length < sent) await new Promise((ok) => setTimeout(ok, 100))
    }
    console.log(`gatehouse calls found ${calls.length} of ${sent} requests sent to the two processes`)
    expect(calls.length).toBe(sent)
  })
})
