import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { ulid } from 'ulid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeAllRedisClients } from '../src/policies/rate-limit/redis.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
// Unique per run: every Redis key of this file starts with gatehouse:rl:<this>.
const run = `e2e-${ulid().toLowerCase()}`

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body })
  const text = await res.body.text()
  let body: Record<string, unknown> = {}
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    body = { text }
  }
  return { status: res.statusCode, headers: res.headers, body }
}

function config(upstreamUrl: string, extra = '') {
  return `
explain: consumer
${extra}
upstreams: { app: { targets: [ "${upstreamUrl}" ] } }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ] }
routes:
  - name: profile-${run}
    match: { methods: [ POST ], path: /profile }
    upstream: app
    policies:
      csrf: { origins: [ "https://app.example.com" ], token: { cookie: csrf_token, header: x-csrf-token } }
  - name: search-${run}
    match: { path: /search }
    upstream: app
    policies:
      rateLimit: { limit: 3, window: 1m, algorithm: fixed-window, by: ip, store: memory }
  - name: orders-${run}
    match: { path: /v1/* }
    upstream: app
    policies:
      auth: { methods: [ key ] }
      transform:
        request:
          set: { x-consumer: '\${consumer}', x-tenant: '\${tenant}', x-request-id-copy: '\${requestId}' }
          remove: [ x-debug ]
          rename: { x-client-version: x-app-version }
        response: { set: { x-served-by: gatehouse }, remove: [ x-powered-by ] }
        rewrite: { from: '^/v1/(.*)$', to: '/internal/$1' }
`
}

describe('csrf, rate limit and transform through a real gateway', () => {
  let upstream: TestUpstream
  let gateway: TestGateway

  beforeAll(async () => {
    upstream = await startUpstream((req, res, body) => {
      res.setHeader('content-type', 'application/json')
      res.setHeader('x-powered-by', 'Express')
      res.end(JSON.stringify({ url: req.url, headers: req.headers, body: body.toString() }))
    })
    gateway = await startTestGateway(config(upstream.url))
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('refuses a cross-site cookie POST with 403 csrf and forwards a same-origin one with its token', async () => {
    const cookie = 'session=s1; csrf_token=tok-123'
    const forged = await call(`${gateway.url}/profile`, { method: 'POST', headers: { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: '{}' })
    expect(forged.status).toBe(403)
    expect(forged.headers['gatehouse-decision']).toBe('csrf;rule=origin-not-trusted')
    expect(forged.body).toMatchObject({ layer: 'csrf', rule: 'origin-not-trusted' })

    const noToken = await call(`${gateway.url}/profile`, { method: 'POST', headers: { cookie, origin: 'https://app.example.com' }, body: '{}' })
    expect(noToken.headers['gatehouse-decision']).toBe('csrf;rule=token-missing')

    const ok = await call(`${gateway.url}/profile`, { method: 'POST', headers: { cookie, origin: 'https://app.example.com', 'x-csrf-token': 'tok-123' }, body: '{}' })
    expect(ok.status).toBe(200)
    expect(ok.headers['gatehouse-decision']).toBe('allow')
  })

  it('answers 429 with Retry-After and RateLimit headers, and announces the quota on allowed answers', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.20' }
    const first = await call(`${gateway.url}/search`, { headers })
    expect(first.status).toBe(200)
    expect(first.headers['ratelimit-policy']).toBe('"default";q=3;w=60')
    expect(String(first.headers.ratelimit)).toMatch(/^"default";r=2;t=\d+$/)
    await call(`${gateway.url}/search`, { headers })
    await call(`${gateway.url}/search`, { headers })
    const refused = await call(`${gateway.url}/search`, { headers })
    expect(refused.status).toBe(429)
    expect(refused.headers['gatehouse-decision']).toBe('rate-limit;rule=exceeded')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(String(refused.headers.ratelimit)).toBe(`"default";r=0;t=${String(refused.headers['retry-after'])}`)
    expect(refused.body).toMatchObject({ layer: 'rate-limit', rule: 'exceeded', status: 429 })
  })

  it('propagates identity, strips spoofed and removed headers, renames, rewrites the path and edits the response', async () => {
    const res = await call(`${gateway.url}/v1/orders/7?expand=items`, {
      headers: { 'x-api-key': 'acme-key', 'x-consumer': 'admin', 'x-debug': 'true', 'x-client-version': '4.2' },
    })
    expect(res.status).toBe(200)
    const seen = upstream.requests.at(-1)
    expect(seen?.url).toBe('/internal/orders/7?expand=items')
    expect(seen?.headers['x-consumer']).toBe('acme-app')
    expect(seen?.headers['x-tenant']).toBe('acme')
    expect(seen?.headers['x-request-id-copy']).toBe(res.headers['x-request-id'])
    expect(seen?.headers['x-debug']).toBeUndefined()
    expect(seen?.headers['x-client-version']).toBeUndefined()
    expect(seen?.headers['x-app-version']).toBe('4.2')
    expect(res.headers['x-served-by']).toBe('gatehouse')
    expect(res.headers['x-powered-by']).toBeUndefined()
  })
})

describe('a rate limit shared by two gateway instances through Redis', () => {
  const redisUrl = 'redis://127.0.0.1:6379'
  const admin = new Redis(redisUrl)
  let upstream: TestUpstream
  let gateways: TestGateway[] = []

  function sharedConfig(upstreamUrl: string, redis: string, extra = '') {
    return `
redis: ${redis}
upstreams: { app: { targets: [ "${upstreamUrl}" ] } }
routes:
  - name: shared-${run}
    match: { path: /shared }
    upstream: app
    policies:
      rateLimit: { limit: 20, window: 1h, by: route${extra} }
`
  }

  beforeAll(async () => {
    upstream = await startUpstream()
    gateways = [await startTestGateway(sharedConfig(upstream.url, redisUrl)), await startTestGateway(sharedConfig(upstream.url, redisUrl))]
  })
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close(100)))
    await upstream.close()
    const keys = await admin.keys(`gatehouse:rl:*${run}*`)
    if (keys.length > 0) await admin.del(...keys)
    await closeAllRedisClients()
    admin.disconnect()
  })

  it('admits the shared limit across both instances, not twice it', async () => {
    const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => call(`${gateways[i % 2].url}/shared`).then((r) => r.status)))
    const admitted = statuses.filter((s) => s === 200).length
    // Exact with atomic scripts; +1 only if the run straddles an hour boundary of the sliding window.
    expect(admitted).toBeGreaterThanOrEqual(20)
    expect(admitted).toBeLessThanOrEqual(21)
    expect(statuses.filter((s) => s === 429).length).toBe(60 - admitted)
    expect(await admin.keys(`gatehouse:rl:shared-${run}:route:*`)).not.toHaveLength(0)
  })

  it('fails open when Redis is unreachable, noting it in the stored trail', async () => {
    const probe = createServer()
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok))
    const port = (probe.address() as AddressInfo).port
    await new Promise<void>((ok) => probe.close(() => ok()))
    const down = await startTestGateway(sharedConfig(upstream.url, `redis://127.0.0.1:${port}`).replace(`shared-${run}`, `down-${run}`))
    try {
      const started = performance.now()
      const res = await call(`${down.url}/shared`)
      expect(performance.now() - started).toBeLessThan(2000)
      expect(res.status).toBe(200)
      await down.store!.flush()
      const row = await down.store!.get(String(res.headers['x-request-id']))
      expect(row?.trail.find((t) => t.layer === 'rate-limit')).toMatchObject({ result: 'allow', detail: { store: 'unavailable', failOpen: true } })
    } finally {
      await down.close(100)
    }
  })

  it('answers 503 rate-limit.store-unavailable when configured to fail closed', async () => {
    const probe = createServer()
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok))
    const port = (probe.address() as AddressInfo).port
    await new Promise<void>((ok) => probe.close(() => ok()))
    const down = await startTestGateway(sharedConfig(upstream.url, `redis://127.0.0.1:${port}`, ', onStoreError: closed').replace(`shared-${run}`, `closed-${run}`))
    try {
      const res = await call(`${down.url}/shared`)
      expect(res.status).toBe(503)
      expect(res.headers['gatehouse-decision']).toBe('rate-limit;rule=store-unavailable')
      expect(res.headers['retry-after']).toBe('1')
    } finally {
      await down.close(100)
    }
  })
})
