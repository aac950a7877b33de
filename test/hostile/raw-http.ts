import { createHash } from 'node:crypto'
import { connect } from 'node:net'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { startTestGateway, type TestGateway } from '../../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../../src/testing/start-upstream.js'

/** One HTTP/1.1 response read off a raw socket. */
export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** What came back on one connection: the responses, in order, and whether the gateway closed it. */
export interface RawExchange {
  responses: RawResponse[]
  closed: boolean
  /** Everything received, for error messages. */
  text: string
}

/** How long to read and what to send next. */
export interface RawOptions {
  /** Resolve once this many final (non-1xx) responses are complete, without waiting for close. */
  responses?: number
  /** Give up after this long (a guard against hangs, not a timing assumption). Default 5 s. */
  guardMs?: number
  /** Writes after the first one, each sent once the previous response (or 100 Continue) arrived. */
  then?: (string | Buffer)[]
}

/**
 * Writes bytes exactly as given (latin1 for strings, so `\xff` is one byte) to the gateway and
 * reads what comes back until the connection closes or the expected responses are complete.
 */
export function sendRaw(port: number, data: string | Buffer, options: RawOptions = {}): Promise<RawExchange> {
  const wanted = options.responses ?? Infinity
  const later = [...(options.then ?? [])]
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let buffer = Buffer.alloc(0)
    const responses: RawResponse[] = []
    let answered = 0
    let done = false
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(guard)
      socket.destroy()
      resolve({ responses, closed, text: buffer.toString('latin1') })
    }
    const guard = setTimeout(() => {
      done = true
      socket.destroy()
      reject(new Error(`no complete answer within ${options.guardMs ?? 5000} ms; received: ${JSON.stringify(buffer.toString('latin1'))}`))
    }, options.guardMs ?? 5000)
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const parsed = parseResponses(buffer)
      const finals = parsed.filter((r) => r.status >= 200)
      responses.length = 0
      responses.push(...finals)
      if (parsed.length > answered) {
        answered = parsed.length
        const next = later.shift()
        if (next !== undefined) socket.write(toBytes(next))
      }
      if (responses.length >= wanted) finish(false)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => finish(true))
    socket.write(toBytes(data))
  })
}

function toBytes(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'latin1') : data
}

/** Parses the complete responses at the start of `buffer` (Content-Length or chunked bodies). */
function parseResponses(buffer: Buffer): RawResponse[] {
  const out: RawResponse[] = []
  let at = 0
  for (;;) {
    const end = buffer.indexOf('\r\n\r\n', at)
    if (end === -1) return out
    const head = buffer.toString('latin1', at, end).split('\r\n')
    const status = Number(head[0].split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    let bodyStart = end + 4
    if (status < 200 || status === 204 || status === 304) {
      out.push({ status, headers, body: '' })
      at = bodyStart
      continue
    }
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      let body = ''
      for (;;) {
        const lineEnd = buffer.indexOf('\r\n', bodyStart)
        if (lineEnd === -1) return out
        const size = parseInt(buffer.toString('latin1', bodyStart, lineEnd), 16)
        if (buffer.length < lineEnd + 2 + size + 2) return out
        body += buffer.toString('utf8', lineEnd + 2, lineEnd + 2 + size)
        bodyStart = lineEnd + 2 + size + 2
        if (size === 0) break
      }
      out.push({ status, headers, body })
      at = bodyStart
      continue
    }
    const length = Number(headers['content-length'] ?? 0)
    if (buffer.length < bodyStart + length) return out
    out.push({ status, headers, body: buffer.toString('utf8', bodyStart, bodyStart + length) })
    at = bodyStart + length
  }
}

/** A plain request on a fresh connection: the gateway must still serve after a hostile one. */
export async function expectStillServing(gatewayUrl: string, upstream: TestUpstream): Promise<void> {
  const before = upstream.requests.length
  const res = await request(`${gatewayUrl}/public/health-after-attack`)
  await res.body.text()
  if (res.statusCode !== 200) throw new Error(`follow-up request got ${res.statusCode}`)
  const seen = upstream.requests.slice(before).map((r) => r.url)
  if (!seen.includes('/public/health-after-attack')) throw new Error(`follow-up request not forwarded; upstream saw ${JSON.stringify(seen)}`)
}

/** Parses a problem+json body, failing loudly if it is not one. */
export function problemOf(response: RawResponse): Record<string, unknown> {
  if (!response.headers['content-type']?.startsWith('application/problem+json')) {
    throw new Error(`not problem+json: ${response.status} ${JSON.stringify(response.headers)} ${response.body}`)
  }
  return JSON.parse(response.body) as Record<string, unknown>
}

/** The gateway's config for the hostile suites: a bypass of `/admin` would be visible upstream. */
export function hostileConfig(upstreamUrl: string): string {
  return `
store: off
consumers:
  - { name: good, keys: [ "sha256:${createHash('sha256').update('good-key').digest('hex')}" ] }
upstreams: { app: { targets: [ "${upstreamUrl}" ] } }
routes:
  - name: admin-root
    match: { path: /admin }
    upstream: app
    policies: { ip: { deny: [ "0.0.0.0/0", "::/0" ] } }
  - name: admin
    match: { path: "/admin/*" }
    upstream: app
    policies: { ip: { deny: [ "0.0.0.0/0", "::/0" ] } }
  - name: public
    match: { path: "/public/*" }
    upstream: app
  - name: keyed
    match: { path: "/keyed/*" }
    upstream: app
    policies:
      auth: { methods: [ key, jwt ], jwt: { secret: "hostile-suite-jwt-secret-32-bytes!!", issuer: "https://issuer.test", audience: app } }
  - name: upload
    match: { methods: [ POST ], path: /upload }
    upstream: app
    policies: { body: { maxBytes: 64, types: [ application/json ] } }
`
}

/**
 * Starts an upstream and a gateway on `hostileConfig` for the test file (closed after it), hands
 * them to `set`, and with `checkAfterEach` proves after every test that the gateway still serves.
 */
export function useHostileGateway(set: (started: { gateway: TestGateway; upstream: TestUpstream }) => void, options: { checkAfterEach?: boolean } = {}): void {
  let started: { gateway: TestGateway; upstream: TestUpstream } | undefined
  beforeAll(async () => {
    const upstream = await startUpstream()
    started = { upstream, gateway: await startTestGateway(hostileConfig(upstream.url)) }
    set(started)
  })
  afterAll(async () => {
    await started?.gateway.close(100)
    await started?.upstream.close()
  })
  if (options.checkAfterEach) afterEach(async () => { if (started) await expectStillServing(started.gateway.url, started.upstream) })
}
