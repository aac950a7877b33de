import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { startUpstream, type TestUpstream } from '../../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../../src/testing/start-gateway.js'

describe('close() with keep-alive clients', () => {
  let upstream: TestUpstream | undefined
  let gateway: TestGateway | undefined
  let closing: Promise<void> | undefined
  // A client that would keep its idle connection for a minute if the gateway let it.
  const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 })
  afterAll(async () => {
    await (closing ?? gateway?.close(100))
    await agent.close()
    await upstream?.close()
    if (gateway) rmSync(gateway.dir, { recursive: true, force: true })
  })

  it('closes a connection as soon as its in-flight answer ends, not after the keep-alive timeout', async () => {
    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    let arrived!: () => void
    const hasArrived = new Promise<void>((resolve) => { arrived = resolve })
    upstream = await startUpstream((_req, res) => {
      arrived()
      void released.then(() => res.end('ok'))
    })
    gateway = await startTestGateway(`
limits: { keepAliveTimeoutMs: 30000 }
upstreams: { api: { targets: [ "${upstream.url}" ], retries: 0 } }
routes: [ { name: api, match: { path: /api/* }, upstream: api } ]
`)
    const answer = request(`${gateway.url}/api/held`, { dispatcher: agent }).then(async (res) => {
      await res.body.dump()
      return res.statusCode
    })
    await hasArrived
    const startedAt = performance.now()
    closing = gateway.close()
    release()
    expect(await answer).toBe(200)
    await closing
    const ms = performance.now() - startedAt
    console.log(`[faults] close() with a keep-alive client: ${ms.toFixed(0)} ms (keep-alive timeout 30000 ms, grace 10000 ms)`)
    // Without the drain's idle sweep this waited out the 10 s grace (30 s keep-alive + Node's 1 s).
    expect(ms).toBeLessThan(5_000)
  })
})
