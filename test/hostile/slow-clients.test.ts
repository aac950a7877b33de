import { connect, type Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../../src/testing/start-gateway.js'
import type { TestUpstream } from '../../src/testing/start-upstream.js'
import { expectStillServing, hostileConfig, sendRaw, useHostileGateway } from './raw-http.js'

// The first tests run with the default limits (10 s headers, 60 s whole request) and cover what a
// slow or vanishing client must not be able to do meanwhile: starve other clients, or get a
// truncated body to the upstream as if it were complete. The last block sets short
// `limits:` to see the cut-offs themselves happen.

let upstream: TestUpstream
let gateway: TestGateway

useHostileGateway((started) => ({ gateway, upstream } = started))

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    socket.on('error', reject)
  })
}

/** Resolves with `req.complete` once the upstream's request for `url` is closed. */
function upstreamOutcome(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage) => {
      if (req.url !== url) return
      upstream.server.off('request', onRequest)
      req.on('close', () => resolve(req.complete))
    }
    upstream.server.on('request', onRequest)
  })
}

describe('slow and vanishing clients', () => {
  it('keeps serving others while many connections dribble half a header section', async () => {
    const slow = await Promise.all(Array.from({ length: 64 }, () => open(gateway.port)))
    for (const socket of slow) socket.write('GET /public/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    const started = performance.now()
    await expectStillServing(gateway.url, upstream)
    expect(performance.now() - started).toBeLessThan(2000)
    for (const socket of slow) socket.destroy()
  })

  it('never lets a Content-Length body cut short reach the upstream as complete', async () => {
    const outcome = upstreamOutcome('/public/truncated')
    const socket = await open(gateway.port)
    socket.write('POST /public/truncated HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"amount": 10')
    // Streamed bodies start flowing upstream at once; wait for that, then vanish mid-body.
    await new Promise<void>((resolve) => {
      const check = (req: IncomingMessage) => { if (req.url === '/public/truncated') { upstream.server.off('request', check); resolve() } }
      upstream.server.on('request', check)
    })
    socket.destroy()
    expect(await outcome).toBe(false)
    expect(upstream.requests.some((r) => r.url === '/public/truncated')).toBe(false)
    await expectStillServing(gateway.url, upstream)
  })

  it('never lets a chunked body cut short reach the upstream as complete', async () => {
    const outcome = upstreamOutcome('/public/truncated-chunked')
    const socket = await open(gateway.port)
    socket.write('POST /public/truncated-chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')
    await new Promise<void>((resolve) => {
      const check = (req: IncomingMessage) => { if (req.url === '/public/truncated-chunked') { upstream.server.off('request', check); resolve() } }
      upstream.server.on('request', check)
    })
    socket.destroy()
    expect(await outcome).toBe(false)
    expect(upstream.requests.some((r) => r.url === '/public/truncated-chunked')).toBe(false)
    await expectStillServing(gateway.url, upstream)
  })

  it('forwards nothing when a client vanishes while a policy is buffering its body', async () => {
    const before = upstream.requests.length
    const socket = await open(gateway.port)
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"a":')
    socket.destroy()
    await closed
    await expectStillServing(gateway.url, upstream)
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['/public/health-after-attack'])
  })

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const started = performance.now()
    const out = await sendRaw(gateway.port, 'GET /public/idle HTTP/1.1\r\nHost: x\r\n\r\n', { guardMs: 15_000 })
    expect(out.responses.map((r) => r.status)).toEqual([200])
    expect(out.closed).toBe(true)
    // keepAliveTimeout is 5 s: closed by the gateway, not by the 15 s guard.
    expect(performance.now() - started).toBeLessThan(10_000)
  }, 20_000)
})

describe('slow clients are cut off at the configured limits', () => {
  let short: TestGateway
  beforeAll(async () => {
    short = await startTestGateway(`limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 }\n${hostileConfig(upstream.url)}`)
  })
  afterAll(async () => {
    await short.close(100)
  })

  function answerOf(socket: Socket): Promise<{ text: string; ms: number }> {
    const started = performance.now()
    return new Promise((resolve) => {
      let text = ''
      socket.on('data', (c: Buffer) => { text += c.toString('latin1') })
      socket.on('close', () => resolve({ text, ms: performance.now() - started }))
    })
  }

  it('answers 408 and closes when the headers never finish', async () => {
    const socket = await open(short.port)
    const answer = answerOf(socket)
    socket.write('GET /public/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    const { text, ms } = await answer
    expect(text).toMatch(/^HTTP\/1.1 408/)
    expect(text).toContain('"rule":"request-timeout"')
    expect(ms).toBeLessThan(3000)
  })

  it('closes a connection whose body stalls past the request limit, and the upstream never gets it whole', async () => {
    const outcome = upstreamOutcome('/public/stalled')
    const socket = await open(short.port)
    const answer = answerOf(socket)
    socket.write('POST /public/stalled HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly-part')
    const { ms } = await answer
    expect(ms).toBeLessThan(4000)
    expect(await outcome).toBe(false)
  })
})
