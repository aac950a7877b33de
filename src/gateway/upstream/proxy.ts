import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { createDenial, type Denial } from '../../core/denial.js'
import type { RequestContext } from '../context.js'
import { upstreamRules } from '../rules.js'
import type { UpstreamGroup } from './group.js'
import type { Target } from './target.js'

/** What the gateway kept of an upstream's own error answer, for the doctor's classifier. */
export interface UpstreamErrorSample {
  headers: Record<string, string>
  /** The first bytes of the body (at most 8 KiB). */
  body: string
}

export interface ProxyResult {
  /** Set when the upstream answered >= 400 itself. */
  errorSample?: UpstreamErrorSample
  /** The client went away before the response was complete; nothing more can be sent. */
  clientClosed?: boolean
  upstreamStatus: number | null
  upstreamMs: number | null
  target: string | null
  responseBytes: number
  /** Set when no upstream response could be relayed: the caller renders it. */
  denial?: Denial
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and ones the gateway sets itself. */
const requestHeadersToDrop = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'http2-settings',
  // The gateway already answered the client's 100-continue; undici refuses to send Expect.
  'expect',
])
const responseHeadersToDrop = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade',
])
const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** Builds the headers sent upstream: client headers minus hop-by-hop, plus forwarding facts. */
export function buildUpstreamHeaders(ctx: RequestContext, secure: boolean, bodyIsBuffer: boolean): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  const incoming = ctx.headers
  const connection = incoming.connection
  // Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
  const named = connection && connection !== 'keep-alive' && connection !== 'close' ? new Set(connection.toLowerCase().split(/\s*,\s*/)) : undefined
  for (const key in incoming) {
    if (requestHeadersToDrop.has(key) || (named && named.has(key))) continue
    if (bodyIsBuffer && key === 'content-length') continue
    const value = incoming[key]
    if (value !== undefined) headers[key] = value
  }
  const prior = incoming['x-forwarded-for']
  headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ctx.remoteAddress}` : ctx.remoteAddress
  headers['x-forwarded-proto'] = secure ? 'https' : 'http'
  headers['x-forwarded-host'] = ctx.host
  headers['x-request-id'] = ctx.id
  headers.traceparent = ctx.traceparent
  if (ctx.dropUpstreamHeaders) for (const key of ctx.dropUpstreamHeaders) delete headers[key]
  for (const key in ctx.upstreamHeaders) headers[key] = ctx.upstreamHeaders[key]
  return headers
}

function upstreamPath(ctx: RequestContext, target: Target, stripPrefix: string | undefined): string {
  let path = ctx.upstreamPath ?? ctx.path
  if (stripPrefix && path.startsWith(stripPrefix)) path = path.slice(stripPrefix.length) || '/'
  if (path.charCodeAt(0) !== 47) path = `/${path}`
  return ctx.query ? `${target.basePath}${path}?${ctx.query}` : `${target.basePath}${path}`
}

function classifyError(error: Error & { code?: string }): Denial {
  const code = error.code ?? ''
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return createDenial(upstreamRules.connectTimeout, { message: 'Connecting to the upstream timed out.', detail: { code } })
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return createDenial(upstreamRules.timeout, { message: 'The upstream did not answer in time.', detail: { code } })
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return createDenial(upstreamRules.connectFailed, { message: 'The upstream refused the connection.', detail: { code } })
  }
  return createDenial(upstreamRules.badResponse, { message: 'The upstream connection failed before a response.', detail: { code: code || error.name } })
}

function isConnectFailure(error: Error & { code?: string }): boolean {
  const code = error.code
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH'
}

/** Bytes of an upstream error body kept for classification. */
const sampleLimit = 8 * 1024

interface Attempt {
  sample?: { headers: Record<string, string>; chunks: Buffer[]; bytes: number }
  error?: Error & { code?: string }
  clientClosed: boolean
  /** True once the upstream's response headers were relayed to the client. */
  started: boolean
  status: number
  bytes: number
}

/**
 * Relays the request to a target and streams the response back with backpressure. Retries on
 * another target only for idempotent methods whose body can be replayed, and only when the
 * failure happened before any response byte, so a request is never applied twice.
 */
export async function proxyRequest(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  group: UpstreamGroup,
  options: { stripPrefix?: string; secure: boolean; responseHeaders: (status: number) => OutgoingHttpHeaders },
): Promise<ProxyResult> {
  const buffered = ctx.body.kind === 'buffered' ? ctx.body.bytes : undefined
  const hasStreamingBody = !buffered && (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined)
  const canRetry = idempotentMethods.has(ctx.method) && !hasStreamingBody
  const headers = buildUpstreamHeaders(ctx, options.secure, buffered !== undefined)
  const maxAttempts = canRetry ? 1 + group.config.retries : 1

  let tried: Target | undefined
  let lastError: (Error & { code?: string }) | undefined
  const started = performance.now()
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const now = Date.now()
    const target = group.pick(now, tried)
    if (!target) break
    tried = target
    target.active++
    const result = await dispatchOnce(ctx, target, {
      method: ctx.method as Dispatcher.HttpMethod,
      path: upstreamPath(ctx, target, options.stripPrefix),
      headers,
      body: buffered ?? (hasStreamingBody ? req : null),
    }, req, res, options.responseHeaders)
    target.active--
    const upstreamMs = performance.now() - started
    if (result.clientClosed) {
      // Not the upstream's fault: no passive-health penalty, no retry, nothing to send.
      return { clientClosed: true, upstreamStatus: result.status || null, upstreamMs, target: target.origin, responseBytes: result.bytes }
    }
    if (!result.error) {
      if (result.status >= 500) group.reportFailure(target, Date.now())
      else group.reportSuccess(target)
      const out: ProxyResult = { upstreamStatus: result.status, upstreamMs, target: target.origin, responseBytes: result.bytes }
      if (result.sample) out.errorSample = { headers: result.sample.headers, body: Buffer.concat(result.sample.chunks).toString('utf8') }
      return out
    }
    group.reportFailure(target, Date.now())
    lastError = result.error
    if (result.started) {
      // Headers are out: the only honest signal left is to cut the connection.
      res.destroy(result.error)
      return { upstreamStatus: result.status, upstreamMs, target: target.origin, responseBytes: result.bytes }
    }
    if (!isConnectFailure(result.error) && !canRetry) break
  }
  const upstreamMs = tried ? performance.now() - started : null
  if (!lastError) {
    return {
      upstreamStatus: null,
      upstreamMs,
      target: tried?.origin ?? null,
      responseBytes: 0,
      denial: createDenial(upstreamRules.unavailable, {
        message: `No healthy target is available for upstream '${group.name}'.`,
        remediation: `Every target of upstreams.${group.name} is failing its health checks; check that the servers are up.`,
        detail: { upstream: group.name, targets: group.health().map((h) => ({ origin: h.origin, down: h.down, ejected: h.ejected })) },
      }),
    }
  }
  const denial = classifyError(lastError)
  denial.detail = { ...denial.detail, upstream: group.name, target: tried?.origin ?? null }
  denial.remediation = `Check that upstreams.${group.name} (${tried?.origin ?? 'its targets'}) is running and reachable from the gateway.`
  return { upstreamStatus: null, upstreamMs, target: tried?.origin ?? null, responseBytes: 0, denial }
}

function dispatchOnce(
  ctx: RequestContext,
  target: Target,
  options: Dispatcher.DispatchOptions,
  req: IncomingMessage,
  res: ServerResponse,
  responseHeaders: (status: number) => OutgoingHttpHeaders,
): Promise<Attempt> {
  return new Promise<Attempt>((resolve) => {
    const attempt: Attempt = { started: false, status: 0, bytes: 0, clientClosed: false }
    let controller: Dispatcher.DispatchController | undefined
    let settled = false
    const finish = (error?: Error) => {
      if (settled) return
      settled = true
      res.off('close', onClientClose)
      if (error) attempt.error = error
      resolve(attempt)
    }
    // The client went away: stop the upstream exchange instead of reading it for nobody.
    // (`req` emits 'close' once its body is consumed, so the response's 'close' is the signal.)
    const onClientClose = () => {
      if (res.writableFinished) return
      attempt.clientClosed = true
      if (controller && !controller.aborted) controller.abort(new Error('client closed the connection'))
    }
    res.on('close', onClientClose)
    target.pool.dispatch(options, {
      onRequestStart(c) {
        controller = c
      },
      onResponseStart(c, statusCode, headers) {
        if (statusCode < 200) return
        attempt.started = true
        attempt.status = statusCode
        if (statusCode >= 400) {
          const kept: Record<string, string> = {}
          for (const key in headers) {
            const value = headers[key]
            if (value !== undefined && key !== 'set-cookie') kept[key] = Array.isArray(value) ? value.join(', ') : value
          }
          attempt.sample = { headers: kept, chunks: [], bytes: 0 }
        }
        const out = responseHeaders(statusCode)
        for (const key in headers) {
          if (responseHeadersToDrop.has(key)) continue
          const value = headers[key]
          if (value === undefined) continue
          const ours = out[key]
          // Vary lists merge (the gateway's `Vary: Origin` must not erase the upstream's own);
          // any other header the gateway set wins over the upstream's.
          if (ours === undefined) out[key] = value
          else if (key === 'vary') out[key] = `${String(value)}, ${String(ours)}`
        }
        const edits = ctx.responseHeaderEdits
        if (edits) {
          if (edits.remove) for (const key of edits.remove) delete out[key]
          if (edits.set) Object.assign(out, edits.set)
        }
        res.writeHead(statusCode, out)
        if (options.method === 'HEAD') return
        res.on('drain', () => c.resume())
      },
      onResponseData(c, chunk) {
        attempt.bytes += chunk.length
        const sample = attempt.sample
        if (sample && sample.bytes < sampleLimit) {
          sample.chunks.push(chunk.subarray(0, sampleLimit - sample.bytes))
          sample.bytes += Math.min(chunk.length, sampleLimit - sample.bytes)
        }
        if (!res.write(chunk)) c.pause()
      },
      onResponseEnd() {
        res.end()
        finish()
      },
      onResponseError(_c, error) {
        finish(error)
      },
    })
  })
}
