import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { connect, type AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, it, expect } from 'vitest'
import { startUpstream, type TestUpstream } from '../testing/start-upstream.js'
import type { RequestSpec } from './curl.js'
import { applyRemovals, planVariations, readProxySettings, runProbe } from './probe.js'

const servers: TestUpstream[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function serve(handler: Parameters<typeof startUpstream>[0]): Promise<TestUpstream> {
  const server = await startUpstream(handler)
  servers.push(server)
  return server
}

function spec(partial: Partial<RequestSpec> & { url: string }): RequestSpec {
  return { method: 'GET', headers: [], insecure: false, compressed: false, ...partial }
}

const options = { timeoutMs: 2000, maxProbes: 6, variations: true }

// A self-signed certificate for 127.0.0.1, made once with `openssl req -x509` for these tests.
const selfSignedKey = [
  '-----BEGIN PRIVATE KEY-----',
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgx07GRrT54mfifEtW',
  'k7sSaALqYMcCsWecKqszm2Brg1uhRANCAAQhFB2pRH+0v4WZrMq8JetR5LFzvIuY',
  'qZXMHXYtd/kdce/KpCjqL49M6pgU+3d2g/eWaJX2hgMVunYjmdPNlLYq',
  '-----END PRIVATE KEY-----',
].join('\n')
const selfSignedCert = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBmzCCAUGgAwIBAgIUYlo1vUqLit5rvmzW0VC8aC0+a9swCgYIKoZIzj0EAwIw',
  'FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTE2MjU0OVoYDzIxMjYxMTAx',
  'MTYyNTQ5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO',
  'PQMBBwNCAAQhFB2pRH+0v4WZrMq8JetR5LFzvIuYqZXMHXYtd/kdce/KpCjqL49M',
  '6pgU+3d2g/eWaJX2hgMVunYjmdPNlLYqo28wbTAdBgNVHQ4EFgQU1zWTTpa3Makd',
  'CeIB1QA78yWZLIkwHwYDVR0jBBgwFoAU1zWTTpa3MakdCeIB1QA78yWZLIkwDwYD',
  'VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI',
  'zj0EAwIDSAAwRQIgKclUN5l62FX0P5SXsjAuuxEjCECLtgIZgVx8CmBySmICIQD4',
  'lQLWECATH9FAjf/Coo8M5FQtWK5wU+JD7Emxj3/f+A==',
  '-----END CERTIFICATE-----',
].join('\n')

describe('planVariations', () => {
  it('plans only variations that apply, most telling first', () => {
    const planned = planVariations(spec({
      method: 'POST',
      url: 'https://api.test/orders',
      headers: [['Content-Type', 'application/json'], ['Authorization', 'Bearer x'], ['Origin', 'https://app.test']],
      body: '{"a":1}',
    }))
    expect(planned.map((p) => p.variation)).toEqual(['no-credentials', 'minimal-body', 'get', 'preflight', 'no-origin', 'other-content-type'])
    expect(planned.find((p) => p.variation === 'other-content-type')?.request.body).toBe('a=1')
    expect(planVariations(spec({ url: 'https://api.test/' }))).toEqual([])
  })

  it('combines removals into one request', () => {
    const combined = applyRemovals(spec({
      method: 'POST',
      url: 'https://api.test/x?token=abc&page=1',
      headers: [['Content-Type', 'application/json'], ['X-Api-Key', 'k']],
      body: '{"a":1}',
    }), ['get', 'no-credentials'])
    expect(combined).toMatchObject({ method: 'GET', url: 'https://api.test/x?page=1', headers: [], body: undefined })
  })
})

describe('runProbe against real servers', () => {
  it('finds a payload rule and reproduces it without the credentials', async () => {
    const server = await serve((req, res, body) => {
      if (body.includes('EVIL-MARKER')) { res.statusCode = 403; res.end('Request rejected by policy'); return }
      if (!req.headers.authorization) { res.statusCode = 401; res.setHeader('www-authenticate', 'Bearer'); res.end(); return }
      res.statusCode = body.includes('"item"') ? 201 : 422
      res.end('{}')
    })
    const report = await runProbe(spec({
      method: 'POST',
      url: `${server.url}/orders`,
      headers: [['Authorization', 'Bearer secret-token'], ['Content-Type', 'application/json']],
      body: '{"item":"EVIL-MARKER"}',
    }), options)
    expect(report.records[0].response?.status).toBe(403)
    const finding = (probe: string) => report.findings.find((f) => f.probe === probe)
    expect(finding('minimal-body')).toMatchObject({ status: 422, conclusion: expect.stringMatching(/WAF or body rule inspects the payload/) })
    expect(finding('no-credentials')?.conclusion).toMatch(/not about these credentials/)
    expect(report.minimal.variation).toBe('no-credentials')
    expect(report.reproduce).toBe(`curl '${server.url}/orders' -H 'Content-Type: application/json' --data-raw '{"item":"EVIL-MARKER"}'`)
    expect(report.reproduce).not.toContain('secret-token')
  })

  it('finds a method restriction and verifies the combined minimal request', async () => {
    const server = await serve((req, res) => {
      res.statusCode = req.method === 'GET' ? 200 : 403
      res.end(req.method === 'GET' ? 'ok' : '<html><body><h1>403 Forbidden</h1></body></html>')
    })
    const report = await runProbe(spec({
      method: 'POST',
      url: `${server.url}/upload`,
      headers: [['X-Api-Key', 'k-123'], ['Content-Type', 'application/json']],
      body: '{"name":"report.pdf","size":123}',
    }), options)
    expect(report.findings.find((f) => f.probe === 'get')?.conclusion).toMatch(/GET passes, POST is denied/)
    expect(report.minimal.variation).toBe('minimal')
    expect(report.minimal.response?.status).toBe(403)
    expect(report.reproduce).toBe(`curl '${server.url}/upload' -H 'Content-Type: application/json' --data-raw '{}'`)
    expect(server.requests.length).toBe(report.records.length)
    expect(report.records.length).toBeLessThanOrEqual(6)
  })

  it('finds a CSRF check that only applies to cookie sessions', async () => {
    const server = await serve((req, res) => {
      const cookie = req.headers.cookie ?? ''
      if (cookie.includes('sessionid=')) {
        const token = /csrftoken=([^;]+)/.exec(cookie)?.[1]
        if (!token || req.headers['x-csrftoken'] !== token) { res.statusCode = 403; res.end('CSRF verification failed. Request aborted.'); return }
      } else if (req.headers.authorization !== 'Bearer good') { res.statusCode = 401; res.end(); return }
      res.statusCode = 201
      res.end('{}')
    })
    const report = await runProbe(spec({
      method: 'POST',
      url: `${server.url}/api/items`,
      headers: [['Authorization', 'Bearer good'], ['Cookie', 'sessionid=s1; csrftoken=c1'], ['Content-Type', 'application/json']],
      body: '{"name":"x"}',
    }), options)
    expect(report.records[0].response?.status).toBe(403)
    expect(report.findings.find((f) => f.probe === 'no-cookies')).toMatchObject({
      status: 201,
      conclusion: expect.stringMatching(/403 only with cookies.*CSRF or session check/),
    })
  })

  it('sends at most 8 requests, each derived only from the original', async () => {
    const server = await serve((req, res) => {
      if (req.method === 'OPTIONS') { res.statusCode = 403; res.end('Invalid CORS request'); return }
      res.statusCode = 403
      res.end('denied')
    })
    const original = spec({
      method: 'PUT',
      url: `${server.url}/v1/things/7?api_key=qk&view=full`,
      headers: [
        ['Authorization', 'Bearer tk'], ['Cookie', 'sid=1'], ['Origin', 'https://app.test'], ['Referer', 'https://app.test/page'],
        ['Content-Type', 'application/json'], ['X-Trace', 'abc'], ['User-Agent', 'Mozilla/5.0'],
      ],
      body: '{"name":"n","count":2}',
    })
    const report = await runProbe(original, { ...options, maxProbes: 50 })
    expect(server.requests.length).toBeLessThanOrEqual(8)
    expect(server.requests.length).toBe(report.records.length)
    expect(report.records.map((r) => r.variation)).toContain('preflight')
    const originalValues = new Set(original.headers.map(([, v]) => v))
    const bodies = new Set([original.body, '{}', 'name=n&count=2', ''])
    for (const received of server.requests) {
      expect(['PUT', 'GET', 'OPTIONS']).toContain(received.method)
      expect(received.url.startsWith('/v1/things/7')).toBe(true)
      expect(bodies.has(received.body.toString('utf8'))).toBe(true)
      for (const [name, raw] of Object.entries(received.headers)) {
        const value = String(raw)
        const derived = name === 'host' || name === 'connection' || name === 'content-length' ||
          (name === 'accept' && value === '*/*') ||
          (name === 'access-control-request-method' && value === 'PUT') ||
          (name === 'access-control-request-headers' && value === 'authorization,content-type,x-trace') ||
          (name === 'content-type' && value === 'application/x-www-form-urlencoded')
        expect(derived || originalValues.has(value), `${received.method} ${name}: ${value}`).toBe(true)
      }
    }
    const preflight = server.requests.find((r) => r.method === 'OPTIONS')
    expect(preflight?.headers.authorization).toBeUndefined()
    expect(preflight?.headers.cookie).toBeUndefined()
    expect(report.findings.find((f) => f.probe === 'preflight')?.conclusion).toMatch(/Preflight fails.*browser never sends/)
  })

  it('respects --max-probes and --no-probe', async () => {
    const server = await serve((_req, res) => { res.statusCode = 403; res.end('no') })
    const request = spec({ method: 'POST', url: server.url, headers: [['Authorization', 'Basic eDp5'], ['Content-Type', 'application/json']], body: '{"a":1}' })
    await runProbe(request, { ...options, maxProbes: 2 })
    expect(server.requests.length).toBe(2)
    const single = await runProbe(request, { ...options, variations: false })
    expect(single.records.length).toBe(1)
    expect(server.requests.length).toBe(3)
  })

  it('sends no variations when the original passes or is rate limited', async () => {
    let status = 200
    const server = await serve((_req, res) => { res.statusCode = status; res.setHeader('retry-after', '60'); res.end() })
    const request = spec({ method: 'POST', url: server.url, headers: [['Authorization', 'Bearer a']], body: 'x=1' })
    expect((await runProbe(request, options)).records.length).toBe(1)
    status = 429
    const limited = await runProbe(request, options)
    expect(limited.records.length).toBe(1)
    expect(limited.findings[0].conclusion).toMatch(/Rate limited.*Retry after 60/)
    expect(server.requests.length).toBe(2)
  })

  it('does not follow redirects, decodes gzip and caps the body at 256 KB', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/moved') { res.statusCode = 302; res.setHeader('location', '/login'); res.end(); return }
      if (req.url === '/big') { res.statusCode = 403; res.end('x'.repeat(1024 * 1024)); return }
      res.statusCode = 403
      res.setHeader('content-encoding', 'gzip')
      res.end(gzipSync('error code: 1020'))
    })
    const moved = await runProbe(spec({ url: `${server.url}/moved` }), options)
    expect(moved.records[0].response?.status).toBe(302)
    expect(server.requests.map((r) => r.url)).toEqual(['/moved'])
    const zipped = await runProbe(spec({ url: `${server.url}/z`, compressed: true }), { ...options, variations: false })
    expect(zipped.records[0].response?.body).toBe('error code: 1020')
    expect(server.requests[1].headers['accept-encoding']).toBe('gzip, deflate, br')
    const big = await runProbe(spec({ url: `${server.url}/big` }), { ...options, variations: false })
    expect(big.records[0].response?.body.length).toBe(256 * 1024)
  })
})

describe('proxies', () => {
  it('reads proxy settings like curl', () => {
    expect(readProxySettings({})).toBeUndefined()
    expect(readProxySettings({ HTTP_PROXY: 'http://p:1' })).toBeUndefined()
    expect(readProxySettings({ http_proxy: 'http://p:1', NO_PROXY: 'localhost' })).toEqual({ http: 'http://p:1', https: undefined, noProxy: 'localhost' })
    expect(readProxySettings({ ALL_PROXY: 'http://a:2' })).toEqual({ http: 'http://a:2', https: 'http://a:2', noProxy: undefined })
  })

  it('goes through a forward proxy when one is configured', async () => {
    const tunnels: string[] = []
    const proxy = createHttpServer((_req, res) => { res.statusCode = 502; res.end() })
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(req.url ?? '')
      const [host, port] = (req.url ?? '').split(':')
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(socket)
        socket.pipe(upstream)
      })
      upstream.on('error', () => socket.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const server = await serve((_req, res) => { res.statusCode = 403; res.end('no') })
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      const report = await runProbe(spec({ url: server.url }), { ...options, variations: false, proxy: { http: proxyUrl } })
      expect(report.records[0].response?.status).toBe(403)
      expect(tunnels).toEqual([`127.0.0.1:${server.port}`])
    } finally {
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })
})

describe('network failures', () => {
  it('reports a timeout when the server never answers', async () => {
    const server = await serve(() => { /* never answers */ })
    const report = await runProbe(spec({ url: server.url }), { ...options, timeoutMs: 150 })
    expect(report.records[0].error).toMatchObject({ kind: 'timeout', message: expect.stringMatching(/timed out after 150 ms/) })
  })

  it('keeps the status and the start of a body that never ends', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(403, { server: 'slowpoke' })
      res.write('Access denied by policy')
    })
    const report = await runProbe(spec({ url: server.url }), { ...options, timeoutMs: 200, variations: false })
    expect(report.records[0].response).toMatchObject({ status: 403, body: 'Access denied by policy', headers: { server: 'slowpoke' } })
  })

  it('reports connection refused', async () => {
    const server = await startUpstream()
    const url = server.url
    await server.close()
    const report = await runProbe(spec({ url }), options)
    expect(report.records[0].error).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' })
  })

  it('reports a TLS error when https meets a plain http port', async () => {
    const server = await serve((_req, res) => res.end('plain'))
    const report = await runProbe(spec({ url: server.url.replace('http:', 'https:') }), options)
    expect(report.records[0].error?.kind).toBe('tls')
    expect(report.records[0].error?.message).toMatch(/TLS error/)
  })

  it('reports an untrusted certificate as a TLS error, and probes it with -k', async () => {
    const server = createHttpsServer({ key: selfSignedKey, cert: selfSignedCert }, (_req, res) => { res.statusCode = 403; res.end('no') })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
      const strict = await runProbe(spec({ url }), { ...options, variations: false })
      expect(strict.records[0].error).toMatchObject({ kind: 'tls', message: expect.stringMatching(/certificate.*pass -k/i) })
      const insecure = await runProbe(spec({ url, insecure: true }), { ...options, variations: false })
      expect(insecure.records[0].response?.status).toBe(403)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('reports a DNS failure', async () => {
    const report = await runProbe(spec({ url: 'http://doctor-probe.invalid/' }), options)
    expect(report.records[0].error).toMatchObject({ kind: 'dns', message: expect.stringMatching(/DNS lookup failed for doctor-probe.invalid/) })
  })
})
