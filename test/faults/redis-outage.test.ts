import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startTcpProxy, type TcpProxy } from '../../src/store/postgres-test-support.js'
import { startUpstream, type TestUpstream } from '../../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../../src/testing/start-gateway.js'

describe('Redis goes away and comes back (shared rate limits)', () => {
  let proxy: TcpProxy
  let upstream: TestUpstream
  let gateway: TestGateway
  const route = `outage-${Date.now().toString(36)}`
  const logLines: string[] = []
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done() } }))

  beforeAll(async () => {
    proxy = await startTcpProxy({ targetPort: 6379 })
    upstream = await startUpstream((_req, res) => res.end('ok'))
    gateway = await startTestGateway(`
redis: redis://127.0.0.1:${proxy.port}
upstreams: { api: { targets: [ "${upstream.url}" ] } }
routes:
  - { name: ${route}, match: { path: /limited }, upstream: api, policies: { rateLimit: { limit: 3, window: 1h, by: ip, store: redis, onStoreError: open } } }
`, { logger })
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
    await proxy.close()
  })

  const hit = async (id: string) => {
    const res = await request(`${gateway.url}/limited`, { headers: { 'x-request-id': id } })
    await res.body.dump()
    return res.statusCode
  }

  it('fails open while Redis is away (noted in the trace) and limits again without a restart', async () => {
    const before = [await hit('rl-1'), await hit('rl-2'), await hit('rl-3'), await hit('rl-4')]
    expect(before).toEqual([200, 200, 200, 429])

    await proxy.stop()
    const during = [await hit('rl-down-1'), await hit('rl-down-2')]
    expect(during).toEqual([200, 200])
    await gateway.store!.flush()
    const trail = (await gateway.store!.get('rl-down-2'))!.trail.find((t) => t.layer === 'rate-limit')
    expect(trail?.detail).toMatchObject({ failOpen: true })
    // One clear log line for the operator, not one per request.
    const warnings = logLines.filter((l) => l.includes('shared store unavailable'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('failing open')

    await proxy.start()
    const backAt = performance.now()
    let status = 0
    while (performance.now() - backAt < 10_000) {
      status = await hit(`rl-back-${Math.round(performance.now())}`)
      if (status === 429) break
      await new Promise((ok) => setTimeout(ok, 100))
    }
    const recoveredSeconds = (performance.now() - backAt) / 1000
    console.log(`Redis outage: failed open during it; limiting resumed ${recoveredSeconds.toFixed(2)} s after Redis returned (no restart)`)
    // The counters were in Redis all along: the limit resumes where it was.
    expect(status).toBe(429)
  })
})
