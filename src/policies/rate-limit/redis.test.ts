import { once } from 'node:events'
import { createServer, type Server, type Socket, connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { ulid } from 'ulid'
import { afterAll, describe, expect, it } from 'vitest'
import type { Identity } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import type { Verdict } from '../define.js'
import { rateLimitPolicy } from './index.js'
import { closeAllRedisClients, getSharedRedis } from './redis.js'
import { RateLimitConfig } from './schema.js'

// The real Redis on this machine; every key of this run carries a unique route name.
const redisUrl = 'redis://127.0.0.1:6379'
const run = `test-${ulid().toLowerCase()}`
const admin = new Redis(redisUrl)
const acme: Identity = { consumer: 'acme-app', method: 'key', scopes: [] }

afterAll(async () => {
  const keys = await admin.keys(`gatehouse:rl:${run}*`)
  if (keys.length > 0) await admin.del(...keys)
  await closeAllRedisClients()
  admin.disconnect()
})

/** Two gateway instances: same Redis, same clock, nothing else shared. */
function twoInstances(route: string, raw: Record<string, unknown>, url = redisUrl) {
  const clock = fakeClock(Date.UTC(2026, 0, 1, 12, 0, 0))
  const config = RateLimitConfig.parse(raw)
  const a = rateLimitPolicy.compile(config, makeDeps({ clock, routeName: `${run}-${route}`, redisUrl: url, shared: new Map() }))
  const b = rateLimitPolicy.compile(config, makeDeps({ clock, routeName: `${run}-${route}`, redisUrl: url, shared: new Map() }))
  return { clock, a: (ctx = makeContext({ identity: acme })) => a(ctx), b: (ctx = makeContext({ identity: acme })) => b(ctx) }
}

const kinds = async (verdicts: (Verdict | Promise<Verdict>)[]) => (await Promise.all(verdicts)).map((v) => v.kind)

describe('rate-limit with the Redis store', () => {
  it('fixed window: two instances share one count', async () => {
    const { clock, a, b } = twoInstances('fixed', { limit: 3, window: 60, algorithm: 'fixed-window' })
    clock.advance(18_000)
    const first = await a()
    expect(first.kind === 'allow' && first.responseHeaders?.ratelimit).toBe('"default";r=2;t=42')
    expect(await kinds([b(), a()])).toEqual(['allow', 'allow'])
    const refused = await b()
    expect(refused.kind === 'deny' && refused.denial.headers?.['retry-after']).toBe('42')
    clock.advance(42_000)
    expect((await a()).kind).toBe('allow')
  })

  it('sliding window: the previous window weighs in, across instances', async () => {
    const { clock, a, b } = twoInstances('sliding', { limit: 10, window: 60 })
    for (let i = 0; i < 10; i++) expect((await (i % 2 ? a() : b())).kind).toBe('allow')
    expect((await a()).kind).toBe('deny')
    clock.advance(90_000)
    for (let i = 0; i < 5; i++) expect((await (i % 2 ? a() : b())).kind).toBe('allow')
    const refused = await b()
    expect(refused.kind === 'deny' && refused.denial.detail?.resetSeconds).toBe(1)
  })

  it('token bucket: the burst is shared and refills at the rate', async () => {
    const { clock, a, b } = twoInstances('bucket', { limit: 60, window: 60, algorithm: 'token-bucket', burst: 4 })
    expect(await kinds([a(), b(), a(), b()])).toEqual(['allow', 'allow', 'allow', 'allow'])
    expect((await a()).kind).toBe('deny')
    clock.advance(2_000)
    expect(await kinds([b()])).toEqual(['allow'])
    expect(await kinds([a()])).toEqual(['allow'])
    expect((await b()).kind).toBe('deny')
  })

  it('admits exactly the limit when two instances race (atomic scripts)', async () => {
    const { a, b } = twoInstances('race', { limit: 30, window: 60, algorithm: 'fixed-window' })
    const results = await kinds(Array.from({ length: 100 }, (_, i) => (i % 2 ? a() : b())))
    expect(results.filter((k) => k === 'allow')).toHaveLength(30)
  })

  it('falls back to EVAL when Redis lost its script cache', async () => {
    const { a } = twoInstances('noscript', { limit: 5, window: 60 })
    expect((await a()).kind).toBe('allow')
    await admin.script('FLUSH')
    expect((await a()).kind).toBe('allow')
  })
})

describe('rate-limit when Redis is unreachable', () => {
  async function closedPortUrl(): Promise<string> {
    const server = createServer()
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    const port = (server.address() as AddressInfo).port
    await new Promise<void>((ok) => server.close(() => ok()))
    return `redis://127.0.0.1:${port}`
  }

  it('fails open by default: allows, and the trace says the limit was not applied', async () => {
    const { a } = twoInstances('down-open', { limit: 1, window: 60, storeTimeoutMs: 100 }, await closedPortUrl())
    const started = performance.now()
    const verdicts = [await a(), await a(), await a()]
    expect(performance.now() - started).toBeLessThan(1000)
    for (const verdict of verdicts) {
      expect(verdict.kind).toBe('allow')
      expect(verdict.kind === 'allow' && verdict.detail).toMatchObject({ store: 'unavailable', failOpen: true })
    }
  })

  it('fails closed with 503 rate-limit.store-unavailable when configured', async () => {
    const { a } = twoInstances('down-closed', { limit: 1, window: 60, onStoreError: 'closed', storeTimeoutMs: 100 }, await closedPortUrl())
    const verdict = await a()
    if (verdict.kind !== 'deny') throw new Error('expected a denial')
    expect(verdict.denial.rule).toBe('rate-limit.store-unavailable')
    expect(verdict.denial.status).toBe(503)
    expect(verdict.denial.detail).toMatchObject({ store: 'unavailable', failOpen: false })
  })

  it('recovers without a restart once Redis is back', async () => {
    // A TCP relay in front of the real Redis that the test can cut and restore.
    const sockets = new Set<Socket>()
    const startRelay = async (port: number): Promise<Server> => {
      const relay = createServer((client) => {
        const upstream = connect(6379, '127.0.0.1')
        sockets.add(client).add(upstream)
        client.pipe(upstream).pipe(client)
        const end = () => { client.destroy(); upstream.destroy() }
        client.on('error', end).on('close', end)
        upstream.on('error', end).on('close', end)
      })
      await new Promise<void>((ok) => relay.listen(port, '127.0.0.1', ok))
      return relay
    }
    let relay = await startRelay(0)
    const port = (relay.address() as AddressInfo).port
    const url = `redis://127.0.0.1:${port}`
    const clock = fakeClock()
    const shared = new Map<string, unknown>()
    const evaluate = rateLimitPolicy.compile(RateLimitConfig.parse({ limit: 100, window: 60, onStoreError: 'closed' }), makeDeps({ clock, routeName: `${run}-recover`, redisUrl: url, shared }))
    const client = getSharedRedis(shared, url, 200).client
    // Nothing connects before the first request needs Redis.
    expect(client.status).toBe('wait')
    expect(await evaluate(makeContext({ identity: acme }))).toMatchObject({ kind: 'allow', responseHeaders: { ratelimit: expect.any(String) } })

    await new Promise<void>((ok) => { relay.close(() => ok()); for (const s of sockets) s.destroy() })
    const down = await evaluate(makeContext({ identity: acme }))
    expect(down.kind === 'deny' && down.denial.rule).toBe('rate-limit.store-unavailable')

    relay = await startRelay(port)
    await once(client, 'ready')
    const back = await evaluate(makeContext({ identity: acme }))
    expect(back.kind).toBe('allow')
    await new Promise<void>((ok) => { relay.close(() => ok()); for (const s of sockets) s.destroy() })
  })
})
