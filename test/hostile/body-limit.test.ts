import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { TestGateway } from '../../src/testing/start-gateway.js'
import type { TestUpstream } from '../../src/testing/start-upstream.js'
import { expectStillServing, problemOf, sendRaw, useHostileGateway } from './raw-http.js'

// The /upload route buffers bodies for its policies with a 64-byte limit. Whatever the size
// and however the client cuts the body into chunks, the upstream must get exactly the bytes
// the policies checked, or nothing.

let upstream: TestUpstream
let gateway: TestGateway

useHostileGateway((started) => ({ gateway, upstream } = started))

const limit = 64
const jsonBody = fc.integer({ min: 0, max: 140 }).map((n) => JSON.stringify({ a: 'x'.repeat(n) }))

/** Cuts `body` into chunks at the given points, as chunked transfer-coding. */
function chunked(body: string, cuts: number[]): string {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b)
  let out = ''
  let from = 0
  for (const at of [...points, body.length]) {
    if (at <= from) continue
    const piece = body.slice(from, at)
    out += `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`
    from = at
  }
  return `${out}0\r\n\r\n`
}

describe('buffered bodies at the size limit', () => {
  it('forwards exactly the checked bytes or answers 413, for any size and chunking', async () => {
    await fc.assert(fc.asyncProperty(jsonBody, fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), async (body, cuts, useChunked) => {
      const before = upstream.requests.length
      const head = 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
      const raw = useChunked
        ? `${head}Transfer-Encoding: chunked\r\n\r\n${chunked(body, cuts)}`
        : `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      const out = await sendRaw(gateway.port, raw, { responses: 1 })
      const forwarded = upstream.requests.slice(before)
      if (Buffer.byteLength(body) <= limit) {
        expect(out.responses[0].status).toBe(200)
        expect(forwarded.map((r) => r.body.toString())).toEqual([body])
      } else {
        expect(out.responses[0].status).toBe(413)
        expect(problemOf(out.responses[0])).toMatchObject({ layer: 'body', rule: 'too-large' })
        expect(forwarded).toHaveLength(0)
      }
    }), { numRuns: 60 })
    await expectStillServing(gateway.url, upstream)
  })

  it('refuses a declared Content-Length over the limit before the body is sent', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n')
    expect(out.responses.map((r) => r.status)).toEqual([413])
    expect(out.closed).toBe(true)
    expect(upstream.requests.length).toBe(before)
  })

  it('forwards a 12 KiB query string under the header limit byte for byte', async () => {
    const before = upstream.requests.length
    const query = `q=${'%ff%00%c0%ae'.repeat(1000)}`
    const out = await sendRaw(gateway.port, `GET /public/long?${query} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    expect(upstream.requests[before].url).toBe(`/public/long?${query}`)
  })
})
