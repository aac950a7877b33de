import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    let data = ''
    socket.on('data', (c) => { data += c.toString('latin1') })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
    socket.setTimeout(5000, () => { socket.destroy(); resolve(data) })
  })
}

describe('gateway proxying to a real upstream', () => {
  let upstream: TestUpstream
  let denier: TestUpstream
  let gateway: TestGateway

  beforeAll(async () => {
    upstream = await startUpstream()
    denier = await startUpstream((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/html', server: 'nginx' })
      res.end('<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>nginx</center></body></html>')
    })
    gateway = await startTestGateway(`
listen: 127.0.0.1:0
explain: full
upstreams:
  orders: { targets: [ "${upstream.url}" ] }
  legacy: { targets: [ "${denier.url}" ] }
routes:
  - name: orders
    match: { path: /orders/* }
    upstream: orders
  - name: order-by-id
    match: { methods: [ GET, DELETE ], path: /items/:id }
    upstream: orders
  - name: admin
    match: { path: /admin }
    upstream: orders
  - name: legacy
    match: { path: /legacy/* }
    upstream: legacy
    stripPrefix: /legacy
`)
  })
  afterAll(async () => {
    await gateway.close()
    await upstream.close()
    await denier.close()
  })

  it('forwards an allowed request and marks it allow with a request id', async () => {
    const res = await request(`${gateway.url}/orders/42?expand=lines`, { headers: { 'x-custom': 'yes' } })
    const body = (await res.body.json()) as { url: string; headers: Record<string, string> }
    expect(res.statusCode).toBe(200)
    expect(res.headers['gatehouse-decision']).toBe('allow')
    expect(res.headers['x-request-id']).toMatch(/^[0-9A-Z]{26}$/)
    expect(body.url).toBe('/orders/42?expand=lines')
    expect(body.headers['x-custom']).toBe('yes')
    expect(body.headers['x-request-id']).toBe(res.headers['x-request-id'])
    expect(body.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(body.headers['x-forwarded-proto']).toBe('http')
    expect(body.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
  })

  it('keeps an incoming X-Request-Id and traceparent', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const res = await request(`${gateway.url}/orders/1`, { headers: { 'x-request-id': 'client-id-123', traceparent } })
    const body = (await res.body.json()) as { headers: Record<string, string> }
    expect(res.headers['x-request-id']).toBe('client-id-123')
    expect(body.headers.traceparent).toBe(traceparent)
  })

  it('replaces an incoming X-Request-Id that is not a plausible id', async () => {
    const res = await request(`${gateway.url}/orders/1`, { headers: { 'x-request-id': 'a b\tc<script>' } })
    await res.body.dump()
    expect(res.headers['x-request-id']).toMatch(/^[0-9A-Z]{26}$/)
  })

  it('removes hop-by-hop headers, including those named in Connection', async () => {
    const res = await rawRequest(gateway.port, 'GET /orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close, x-secret-hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n\r\n')
    const json = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '')) as { headers: Record<string, string> }
    expect(json.headers['x-secret-hop']).toBeUndefined()
    expect(json.headers['keep-alive']).toBeUndefined()
    expect(json.headers.te).toBeUndefined()
  })

  it('answers 404 problem+json when no route matches', async () => {
    const res = await request(`${gateway.url}/nowhere`)
    const body = (await res.body.json()) as Record<string, unknown>
    expect(res.statusCode).toBe(404)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['gatehouse-decision']).toBe('gateway;rule=no-route')
    expect(body).toMatchObject({ type: '/problems/gateway/no-route', status: 404, layer: 'gateway', rule: 'no-route' })
    expect(body.requestId).toBe(res.headers['x-request-id'])
  })

  it('answers 405 with Allow when the path exists for other methods', async () => {
    const res = await request(`${gateway.url}/items/7`, { method: 'POST', body: '{}' })
    const body = (await res.body.json()) as Record<string, unknown>
    expect(res.statusCode).toBe(405)
    expect(res.headers.allow).toContain('GET')
    expect(res.headers.allow).toContain('DELETE')
    expect(body.rule).toBe('method-not-allowed')
  })

  it('normalises the path so policies and upstream see the same one', async () => {
    const res = await request(`${gateway.url}/orders/x/..//%61dmin/./y`)
    const body = (await res.body.json()) as { url: string }
    expect(body.url).toBe('/orders/admin/y')
    const admin = await request(`${gateway.url}/orders/../%61dmin`)
    const adminBody = (await admin.body.json()) as { url: string }
    expect(adminBody.url).toBe('/admin')
  })

  it('refuses a path that climbs above the root or has bad escapes with 400', async () => {
    const up = await rawRequest(gateway.port, 'GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(up).toMatch(/^HTTP\/1.1 400/)
    expect(up).toContain('"rule":"bad-path"')
    const bad = await rawRequest(gateway.port, 'GET /orders/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(bad).toMatch(/^HTTP\/1.1 400/)
  })

  it("passes an upstream's own 403 through, marked as the upstream's decision", async () => {
    const res = await request(`${gateway.url}/legacy/thing`)
    const text = await res.body.text()
    expect(res.statusCode).toBe(403)
    expect(res.headers['gatehouse-decision']).toBe('upstream')
    expect(text).toContain('<center>nginx</center>')
    expect(denier.requests.at(-1)?.url).toBe('/thing')
  })

  it("names who produced an upstream's own 403 in the stored trace, using the doctor's classifier", async () => {
    const res = await request(`${gateway.url}/legacy/secret`, { headers: { 'x-request-id': 'upstream-403-diagnosis' } })
    await res.body.dump()
    await gateway.store!.flush()
    const row = await gateway.store!.get('upstream-403-diagnosis')
    const upstreamStep = row!.trail.find((t) => t.layer === 'upstream')
    expect(upstreamStep).toMatchObject({ result: 'deny', rule: 'upstream.status-403', detail: { status: 403, diagnosis: { producer: 'nginx' } } })
    expect(row!.denial).toMatchObject({ rule: 'upstream.status-403' })
    expect(String(row!.denial!.message)).toContain('nginx')
  })

  it('answers a malformed HTTP request with a 400 problem and keeps serving', async () => {
    const res = await rawRequest(gateway.port, 'GARBAGE\r\n\r\n')
    expect(res).toMatch(/^HTTP\/1.1 400/)
    expect(res).toContain('application/problem+json')
    const ok = await request(`${gateway.url}/orders/1`)
    await ok.body.dump()
    expect(ok.statusCode).toBe(200)
  })

  it('answers 431 for an oversized header section', async () => {
    const res = await rawRequest(gateway.port, `GET /orders/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(res).toMatch(/^HTTP\/1.1 431/)
  })

  it('records every call, allowed and denied, with its trail', async () => {
    const ok = await request(`${gateway.url}/orders/77`, { headers: { 'x-request-id': 'log-check-allowed' } })
    await ok.body.dump()
    const no = await request(`${gateway.url}/missing`, { headers: { 'x-request-id': 'log-check-denied' } })
    await no.body.dump()
    await gateway.store!.flush()
    const allowed = await gateway.store!.get('log-check-allowed')
    const denied = await gateway.store!.get('log-check-denied')
    expect(allowed).toMatchObject({ route: 'orders', status: 200, decision: 'allow', upstreamStatus: 200, path: '/orders/77' })
    expect(allowed!.trail.map((t) => t.layer)).toEqual(['request-id', 'upstream'])
    expect(denied).toMatchObject({ status: 404, layer: 'gateway', rule: 'no-route' })
  })
})
