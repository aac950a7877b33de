import { describe, expect, it } from 'vitest'
import type { TestGateway } from '../../src/testing/start-gateway.js'
import type { TestUpstream } from '../../src/testing/start-upstream.js'
import { problemOf, sendRaw, useHostileGateway } from './raw-http.js'

// Request smuggling works when two parsers disagree on where a request ends. The gateway's
// defence: refuse every ambiguous framing, and close the connection whenever it answers
// before reading a body, so the upstream only ever sees requests the policies checked.

let upstream: TestUpstream
let gateway: TestGateway

useHostileGateway((started) => ({ gateway, upstream } = started), { checkAfterEach: true })

const smuggled = 'GET /public/smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
const sawSmuggledSince = (before: number) => upstream.requests.slice(before).some((r) => r.url.includes('smuggled') || r.body.toString('latin1').includes('smuggled'))

describe('ambiguous message framing is refused with 400 problem+json and the connection closed', () => {
  it.each([
    ['Content-Length with Transfer-Encoding (CL.TE)', `POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`],
    ['Transfer-Encoding with Content-Length (TE.CL)', `POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2d\r\n${smuggled}\r\n0\r\n\r\n`],
    ['two different Content-Length headers', `POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`],
    ['two equal Content-Length headers', 'POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab'],
    ['a Content-Length list', 'POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nab'],
    ['a signed Content-Length', 'POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nab'],
    ['Transfer-Encoding: chunked, identity', 'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
    ['Transfer-Encoding not ending in chunked', 'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nab'],
    ['a space before the colon (`Transfer-Encoding : chunked`)', `POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`],
    ['an obfuscated value (`xchunked`)', 'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
    ['a non-hex chunk size', 'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
    ['a chunk size with a sign', 'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n'],
    ['an overflowing chunk size', 'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nabc\r\n0\r\n\r\n'],
    ['a chunk longer than its size', 'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n0\r\n\r\n'],
    ['bare LF line endings', 'GET /public/a HTTP/1.1\nHost: x\n\n'],
    ['a bare LF inside the header section', 'GET /public/a HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n'],
    ['header folding (obs-fold)', 'GET /public/a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n'],
    ['folding that would hide Transfer-Encoding', 'POST /public/a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc'],
    ['a NUL in a header value', 'GET /public/a HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n'],
    ['a bare CR in a header value', 'GET /public/a HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'],
    ['a space inside a header name', 'GET /public/a HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n'],
    ['a raw control byte in the request target', 'GET /public/\x01 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a raw non-ASCII byte in the request target', 'GET /public/\xff HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a raw non-ASCII byte in the query', 'GET /public/a?q=\xc3\x28 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an unknown HTTP version', 'GET /public/a HTTP/1.7\r\nHost: x\r\n\r\n'],
    ['an invalid method token', 'G@T /public/a HTTP/1.1\r\nHost: x\r\n\r\n'],
  ])('%s', async (_name, raw) => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, raw)
    expect(out.closed).toBe(true)
    expect(out.responses).toHaveLength(1)
    expect(out.responses[0].status).toBe(400)
    expect(problemOf(out.responses[0])).toMatchObject({ status: 400, layer: 'gateway', rule: 'malformed-request' })
    expect(out.responses[0].headers['gatehouse-decision']).toBe('gateway;rule=malformed-request')
    expect(upstream.requests.length).toBe(before)
  })
})

describe('answers written before a request exists', () => {
  // Found by this suite: the clientError handler writes its problem+json without an
  // X-Request-Id header or requestId field, though SPEC §1 puts X-Request-Id on every
  // response the gateway decides, and the id is how a caller reports a problem.
  it('carry an X-Request-Id header and the same requestId in the problem body', async () => {
    const out = await sendRaw(gateway.port, 'POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab')
    expect(out.responses[0].status).toBe(400)
    const id = out.responses[0].headers['x-request-id']
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(problemOf(out.responses[0]).requestId).toBe(id)
  })

  // RFC 9112 §3.2: a server MUST respond 400 to a request with more than one Host header.
  // Node keeps the first and drops the rest, so a host-constrained route and a front proxy
  // that reads the last one disagree about which virtual host was asked for.
  it('refuses two Host headers with 400', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'GET /public/a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', { responses: 1 })
    expect(out.responses[0].status).toBe(400)
    expect(upstream.requests.length).toBe(before)
  })
})

describe('a request hidden in a body never reaches the upstream as a request', () => {
  it('forwards a Content-Length body that contains a request as body bytes only', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, `POST /public/carrier HTTP/1.1\r\nHost: x\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`, { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    const seen = upstream.requests.slice(before)
    expect(seen.map((r) => r.url)).toEqual(['/public/carrier'])
    expect(seen[0].body.toString('latin1')).toBe(smuggled)
  })

  it('forwards a chunked body that contains a request as body bytes only', async () => {
    const before = upstream.requests.length
    const chunk = smuggled.length.toString(16)
    const out = await sendRaw(gateway.port, `POST /public/carrier HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}\r\n${smuggled}\r\n0\r\n\r\n`, { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    const seen = upstream.requests.slice(before)
    expect(seen.map((r) => r.url)).toEqual(['/public/carrier'])
    expect(seen[0].body.toString('latin1')).toBe(smuggled)
  })

  it('accepts an HTAB before a header value, which is optional whitespace, and frames by it', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'POST /public/tab HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    expect(upstream.requests.slice(before).map((r) => r.body.toString())).toEqual(['abc'])
  })
})

describe('pipelined requests after a denial with an unread body', () => {
  it.each([
    ['a Content-Length body', `POST /admin/x HTTP/1.1\r\nHost: x\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`],
    ['a GET with a Content-Length body', `GET /admin/x HTTP/1.1\r\nHost: x\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`],
    ['a chunked body', `POST /admin/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`],
    ['a body the policies refuse as too large', `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n${smuggled}${' '.repeat(200 - smuggled.length)}`],
  ])('close the connection so %s is never parsed as the next request', async (_name, raw) => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, raw)
    expect(out.closed).toBe(true)
    expect(out.responses).toHaveLength(1)
    expect([403, 413]).toContain(out.responses[0].status)
    expect(out.responses[0].headers.connection).toBe('close')
    expect(problemOf(out.responses[0]).requestId).toBe(out.responses[0].headers['x-request-id'])
    expect(sawSmuggledSince(before)).toBe(false)
  })

  // Found by this suite: Node keeps parsing pipelined bytes after the denial and emits the next
  // request although the gateway answered `Connection: close`; the gateway then forwards it,
  // and its answer is thrown away. RFC 9112 §9.6: after sending close, a server MUST NOT
  // process further requests on that connection.
  it('does not forward a request pipelined behind a denial that closed the connection', async () => {
    const before = upstream.requests.length
    const after = 'GET /public/pipelined-after-close HTTP/1.1\r\nHost: x\r\n\r\n'
    const out = await sendRaw(gateway.port, `POST /admin/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab${after}`)
    expect(out.responses.map((r) => r.status)).toEqual([403])
    expect(out.closed).toBe(true)
    expect(upstream.requests.slice(before).map((r) => r.url)).not.toContain('/public/pipelined-after-close')
  })

  it('closes after a chunked body that outgrows the body limit, without reading the rest', async () => {
    const big = '{"a":"' + 'x'.repeat(100) + '"}'
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`)
    expect(out.responses.map((r) => r.status)).toEqual([413])
    expect(out.closed).toBe(true)
    expect(sawSmuggledSince(before)).toBe(false)
  })

  it('serves well-framed pipelined requests in order on one connection', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'GET /public/one HTTP/1.1\r\nHost: x\r\n\r\nGET /public/two HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 2 })
    expect(out.responses.map((r) => r.status)).toEqual([200, 200])
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['/public/one', '/public/two'])
  })
})

describe('header section limits', () => {
  it('refuses an oversized header section with 431 problem+json', async () => {
    const out = await sendRaw(gateway.port, `GET /public/a HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(out.responses[0].status).toBe(431)
    expect(problemOf(out.responses[0])).toMatchObject({ status: 431, rule: 'headers-too-large' })
    expect(out.closed).toBe(true)
  })

  it('refuses an overlong request line with 431', async () => {
    const out = await sendRaw(gateway.port, `GET /public/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(out.responses[0].status).toBe(431)
    expect(out.closed).toBe(true)
  })

  it('refuses a huge query string with 431 before any policy or upstream sees it', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, `GET /public/a?${'q=1&'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(out.responses[0].status).toBe(431)
    expect(upstream.requests.length).toBe(before)
  })

  it('refuses very many small headers with 431', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')
    const out = await sendRaw(gateway.port, `GET /public/a HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`)
    expect(out.responses[0].status).toBe(431)
    expect(out.closed).toBe(true)
  })

  it('still serves a request with many headers under the limit, forwarding them all', async () => {
    const before = upstream.requests.length
    const many = Array.from({ length: 200 }, (_, i) => `X-H${i}: v${i}`).join('\r\n')
    const out = await sendRaw(gateway.port, `GET /public/many HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`, { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    const seen = upstream.requests[before]
    expect(seen.headers['x-h0']).toBe('v0')
    expect(seen.headers['x-h199']).toBe('v199')
  })
})

describe('protocol versions and Expect', () => {
  it('serves HTTP/1.0 with keep-alive, and closes after an HTTP/1.0 request without it', async () => {
    const out = await sendRaw(gateway.port, 'GET /public/ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /public/ten-b HTTP/1.0\r\n\r\n')
    expect(out.responses.map((r) => r.status)).toEqual([200, 200])
    expect(out.responses[0].headers.connection?.toLowerCase()).toBe('keep-alive')
    expect(out.closed).toBe(true)
  })

  it('answers 100-continue for a denied request with the denial, never reading the body', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, `POST /admin/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${smuggled.length}\r\n\r\n`, {
      then: [smuggled],
    })
    expect(out.responses.map((r) => r.status)).toEqual([403])
    expect(out.closed).toBe(true)
    expect(sawSmuggledSince(before)).toBe(false)
  })

  // Found by this suite: the proxy forwards `Expect` to undici, which refuses it, so every
  // client that sends Expect: 100-continue (curl does for bodies over 1 KiB) gets a 502.
  it('forwards a body sent after 100 Continue to the upstream', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'POST /public/expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n', {
      responses: 1,
      then: ['abc'],
    })
    expect(out.responses.map((r) => r.status)).toEqual([200])
    const seen = upstream.requests.slice(before)
    expect(seen.map((r) => r.body.toString())).toEqual(['abc'])
    expect(seen[0].headers.expect).toBeUndefined()
  })

  it('refuses an HTTP/1.1 request without Host with a 400 and closes', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'GET /public/a HTTP/1.1\r\n\r\n')
    expect(out.responses[0].status).toBe(400)
    expect(out.closed).toBe(true)
    expect(upstream.requests.length).toBe(before)
  })
})

describe('odd but well-framed bytes in headers', () => {
  it('passes obs-text (bytes >= 0x80) in a header value through unchanged, without failing the request', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'GET /public/bytes HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9 \xff\xfe\r\n\r\n', { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    expect(Buffer.from(String(upstream.requests[before].headers['x-latin']), 'latin1')).toEqual(Buffer.from('caf\xe9 \xff\xfe', 'latin1'))
  })

  it('ignores an X-Request-Id that could break logs and issues its own', async () => {
    const out = await sendRaw(gateway.port, 'GET /admin/x HTTP/1.1\r\nHost: x\r\nX-Request-Id: a b\xff"\\\r\n\r\n', { responses: 1 })
    const id = out.responses[0].headers['x-request-id']
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(problemOf(out.responses[0]).requestId).toBe(id)
  })
})
