import { createServer } from 'node:net'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

async function upstreamNamed(name: string, status = 200): Promise<TestUpstream> {
  const u = await startUpstream((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' })
    res.end(name)
  })
  cleanup.push(() => u.close())
  return u
}

async function gatewayWith(yaml: string): Promise<TestGateway> {
  const g = await startTestGateway(yaml)
  cleanup.push(() => g.close(100))
  return g
}

/** A port with nothing listening: bind, read the port, close. */
async function deadPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((ok) => server.close(() => ok()))
  return port
}

async function get(url: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await request(url, { method: method as 'GET' })
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers }
}

describe('upstream failures are never 403', () => {
  it('answers 502 problem+json when the upstream refuses connections', async () => {
    const port = await deadPort()
    const g = await gatewayWith(`
upstreams: { api: { targets: [ "http://127.0.0.1:${port}" ], retries: 0 } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const res = await get(`${g.url}/x`)
    expect(res.status).toBe(502)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['gatehouse-decision']).toBe('upstream;rule=connect-failed')
    expect(JSON.parse(res.body)).toMatchObject({ layer: 'upstream', rule: 'connect-failed', status: 502 })
  })

  it('answers 504 when the upstream does not answer in time', async () => {
    const silent = await startUpstream(() => { /* never answers */ })
    cleanup.push(() => silent.close())
    const g = await gatewayWith(`
upstreams: { slow: { targets: [ "${silent.url}" ], readTimeoutMs: 200, retries: 0 } }
routes: [ { name: slow, match: { path: /* }, upstream: slow } ]`)
    const res = await get(`${g.url}/x`)
    expect(res.status).toBe(504)
    expect(JSON.parse(res.body)).toMatchObject({ layer: 'upstream', rule: 'timeout' })
  })

  it('answers 503 when active health checks have marked every target down', async () => {
    const sick = await upstreamNamed('sick', 500)
    const g = await gatewayWith(`
upstreams:
  api:
    targets: [ "${sick.url}" ]
    healthCheck: { path: /health, intervalMs: 60000, unhealthyThreshold: 1 }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const group = g.runtime().upstreams.get('api')!
    await group.probeAll()
    expect(group.health()[0].down).toBe(true)
    const res = await get(`${g.url}/x`)
    expect(res.status).toBe(503)
    expect(JSON.parse(res.body)).toMatchObject({ layer: 'upstream', rule: 'unavailable' })
  })
})

describe('load balancing and health', () => {
  it('round-robins across targets', async () => {
    const a = await upstreamNamed('a')
    const b = await upstreamNamed('b')
    const g = await gatewayWith(`
upstreams: { api: { targets: [ "${a.url}", "${b.url}" ] } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const seen: string[] = []
    for (let i = 0; i < 6; i++) seen.push((await get(`${g.url}/x`)).body)
    expect(seen.filter((s) => s === 'a')).toHaveLength(3)
    expect(seen.filter((s) => s === 'b')).toHaveLength(3)
  })

  it('splits by weight, smoothly', async () => {
    const a = await upstreamNamed('a')
    const b = await upstreamNamed('b')
    const g = await gatewayWith(`
upstreams: { api: { balance: weighted, targets: [ { url: "${a.url}", weight: 3 }, { url: "${b.url}", weight: 1 } ] } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const seen: string[] = []
    for (let i = 0; i < 8; i++) seen.push((await get(`${g.url}/x`)).body)
    expect(seen.filter((s) => s === 'a')).toHaveLength(6)
    expect(seen.filter((s) => s === 'b')).toHaveLength(2)
    // Smooth: never three b's... and never four a's in a row.
    expect(seen.join('')).not.toContain('aaaa')
  })

  it('sends to the target with the fewest requests in flight', async () => {
    let release: () => void = () => undefined
    const held = new Promise<void>((ok) => { release = ok })
    const slow = await startUpstream((_req, res) => { void held.then(() => res.end('slow')) })
    cleanup.push(() => slow.close())
    const fast = await upstreamNamed('fast')
    const g = await gatewayWith(`
upstreams: { api: { balance: least-connections, targets: [ "${slow.url}", "${fast.url}" ] } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const pending = get(`${g.url}/first`)
    await new Promise((ok) => setTimeout(ok, 50))
    const seen: string[] = []
    for (let i = 0; i < 3; i++) seen.push((await get(`${g.url}/x`)).body)
    expect(seen).toEqual(['fast', 'fast', 'fast'])
    release()
    expect((await pending).body).toBe('slow')
  })

  it('retries an idempotent request on another target when a connection fails, never a POST', async () => {
    const port = await deadPort()
    const b = await upstreamNamed('b')
    const g = await gatewayWith(`
upstreams: { api: { targets: [ "http://127.0.0.1:${port}", "${b.url}" ], retries: 1, passive: { failures: 100 } } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const results: number[] = []
    for (let i = 0; i < 4; i++) results.push((await get(`${g.url}/x`)).status)
    expect(results).toEqual([200, 200, 200, 200])
    const posts: number[] = []
    for (let i = 0; i < 4; i++) {
      const res = await request(`${g.url}/x`, { method: 'POST', body: 'a=1', headers: { 'content-type': 'text/plain' } })
      await res.body.dump()
      posts.push(res.statusCode)
    }
    // Round-robin alternates: the POSTs that hit the dead target fail instead of being replayed.
    expect(posts.filter((s) => s === 502)).toHaveLength(2)
    expect(b.requests.filter((r) => r.method === 'POST')).toHaveLength(2)
  })

  it('ejects a failing target passively so it is not sent request after request', async () => {
    const port = await deadPort()
    const b = await upstreamNamed('b')
    const g = await gatewayWith(`
upstreams: { api: { targets: [ "http://127.0.0.1:${port}", "${b.url}" ], retries: 1, passive: { failures: 1, ejectMs: 60000 } } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    for (let i = 0; i < 5; i++) expect((await get(`${g.url}/x`)).status).toBe(200)
    const health = g.runtime().upstreams.get('api')!.health()
    expect(health.find((h) => h.origin.endsWith(`:${port}`))?.ejected).toBe(true)
    expect(b.requests).toHaveLength(5)
  })

  it('does not blame the upstream when the client hangs up mid-request', async () => {
    let release: () => void = () => undefined
    const held = new Promise<void>((ok) => { release = ok })
    const slow = await startUpstream((req, res) => {
      if (req.url === '/slow') void held.then(() => res.end('late'))
      else res.end('ok')
    })
    cleanup.push(() => slow.close())
    const g = await gatewayWith(`
upstreams: { api: { targets: [ "${slow.url}" ], passive: { failures: 1, ejectMs: 60000 } } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const controller = new AbortController()
    const pending = request(`${g.url}/slow`, { signal: controller.signal, headers: { 'x-request-id': 'hung-up' } }).catch(() => undefined)
    await new Promise((ok) => setTimeout(ok, 100))
    controller.abort()
    await pending
    await new Promise((ok) => setTimeout(ok, 50))
    release()
    expect(g.runtime().upstreams.get('api')!.health()[0].ejected).toBe(false)
    expect((await get(`${g.url}/fast`)).body).toBe('ok')
    await g.store!.flush()
    expect(await g.store!.get('hung-up')).toMatchObject({ status: 499, decision: 'client-closed' })
  })

  it('brings a target back when active checks see it healthy again', async () => {
    let healthy = false
    const flappy = await startUpstream((req, res) => {
      res.writeHead(req.url === '/health' && !healthy ? 503 : 200)
      res.end('flappy')
    })
    cleanup.push(() => flappy.close())
    const g = await gatewayWith(`
upstreams:
  api:
    targets: [ "${flappy.url}" ]
    healthCheck: { path: /health, intervalMs: 60000, unhealthyThreshold: 1, healthyThreshold: 2 }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const group = g.runtime().upstreams.get('api')!
    await group.probeAll()
    expect((await get(`${g.url}/x`)).status).toBe(503)
    healthy = true
    await group.probeAll()
    expect(group.health()[0].down).toBe(true)
    await group.probeAll()
    expect(group.health()[0].down).toBe(false)
    expect((await get(`${g.url}/x`)).body).toBe('flappy')
  })
})

describe('streaming', () => {
  it('streams the response: the first chunk arrives before the upstream finishes', async () => {
    let finish: () => void = () => undefined
    const done = new Promise<void>((ok) => { finish = ok })
    const streamer = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first-chunk\n')
      void done.then(() => res.end('last-chunk\n'))
    })
    cleanup.push(() => streamer.close())
    const g = await gatewayWith(`
upstreams: { api: { targets: [ "${streamer.url}" ] } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]`)
    const res = await request(`${g.url}/stream`)
    const iterator = res.body[Symbol.asyncIterator]()
    const first = await iterator.next()
    expect(Buffer.from(first.value as Buffer).toString()).toBe('first-chunk\n')
    finish()
    let rest = ''
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest += Buffer.from(r.value as Buffer).toString()
    expect(rest).toBe('last-chunk\n')
  })

  it('streams a large request body to the upstream without buffering it whole', async () => {
    const sink = await startUpstream((_req, res, body) => res.end(String(body.length)))
    cleanup.push(() => sink.close())
    const g = await gatewayWith(`
upstreams: { api: { targets: [ "${sink.url}" ] } }
routes: [ { name: upload, match: { path: /upload }, upstream: api } ]`)
    const size = 8 * 1024 * 1024
    async function* chunks() {
      const chunk = Buffer.alloc(64 * 1024, 97)
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk
    }
    const res = await request(`${g.url}/upload`, { method: 'POST', body: Readable.from(chunks()), headers: { 'content-type': 'application/octet-stream' } })
    expect(await res.body.text()).toBe(String(size))
  })
})
