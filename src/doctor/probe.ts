import { performance } from 'node:perf_hooks'
import type { Readable, Transform } from 'node:stream'
import { constants as zlibConstants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici'
import {
  compareProbes, chooseMinimal, findPageOrigin, isDenialStatus, listCorsUnsafeHeaders, listIrrelevantParts, needsPreflight,
  type Finding, type ProbeError, type ProbeRecord, type ProbeResponse, type Variation,
} from './compare.js'
import {
  getHeader, hasHeader, isSecretHeader, isSecretParam, renderCurl, withHeader, withoutHeaders,
  type HeaderList, type RequestSpec,
} from './curl.js'
import type { Exchange } from './types.js'

/** Most bytes read from any response body; enough for every error page we fingerprint. */
export const maxBodyBytes = 256 * 1024
/** Never more requests than this in one run, whatever `maxProbes` says (SPEC §4: "a few"). */
export const hardProbeCap = 8
/** Default total number of requests (original included). */
export const defaultMaxProbes = 6
/** Default per-request timeout, in milliseconds. */
export const defaultTimeoutMs = 10_000

// curl sends these unless told otherwise; sending the same keeps the probe faithful to the
// `reproduce:` line (some WAF rules key on curl's user agent).
const curlDefaultHeaders: HeaderList = [['User-Agent', 'curl/8.5.0'], ['Accept', '*/*']]
// Hop-by-hop or framing headers: the HTTP client computes them, and a copied stale value
// (content-length of another body) would corrupt the request.
const framingHeaders = ['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'te', 'trailer', 'http2-settings']

/** A variation the probe would send, before it is sent. */
export interface PlannedProbe {
  variation: Variation
  description: string
  request: RequestSpec
}

/** Options of one probe run. */
export interface ProbeOptions {
  /** Per request, in milliseconds, covering connect, headers and body. */
  timeoutMs: number
  /** Total requests including the original; clamped to 1..8. */
  maxProbes: number
  /** False: send only the original request (`--no-probe`). */
  variations: boolean
  /** Proxies as curl reads them from the environment (`http_proxy`, `https_proxy`, `no_proxy`). */
  proxy?: ProxySettings
}

/** Forward proxies for the probe; absent fields mean a direct connection. */
export interface ProxySettings {
  http?: string
  https?: string
  noProxy?: string
}

/** Reads proxy settings from the environment the way curl does. */
export function readProxySettings(env: Record<string, string | undefined>): ProxySettings | undefined {
  const all = env.all_proxy || env.ALL_PROXY || undefined
  // curl reads http_proxy only in lower case: an upper-case HTTP_PROXY can be set by a CGI request header ("httpoxy").
  const http = env.http_proxy || all
  const https = env.https_proxy || env.HTTPS_PROXY || all
  if (!http && !https) return undefined
  return { http, https, noProxy: env.no_proxy || env.NO_PROXY || undefined }
}

function createDispatcher(insecure: boolean, timeoutMs: number, proxy: ProxySettings | undefined): Dispatcher {
  const timeouts = { headersTimeout: timeoutMs, bodyTimeout: timeoutMs }
  if (proxy && (proxy.http || proxy.https)) {
    return new EnvHttpProxyAgent({
      ...timeouts,
      // EnvHttpProxyAgent falls back to process.env for missing fields; '' keeps it from doing so.
      httpProxy: proxy.http ?? '',
      httpsProxy: proxy.https ?? '',
      noProxy: proxy.noProxy ?? '',
      connect: { rejectUnauthorized: !insecure, timeout: timeoutMs },
      requestTls: { rejectUnauthorized: !insecure },
    })
  }
  return new Agent({ ...timeouts, connect: { rejectUnauthorized: !insecure, timeout: timeoutMs } })
}

/** Everything a live probe found. */
export interface ProbeReport {
  /** In the order sent; the first is the original. */
  records: ProbeRecord[]
  findings: Finding[]
  /** The smallest request that still got the original denial. */
  minimal: ProbeRecord
  /** `minimal` as a one-line curl command, secrets redacted. */
  reproduce: string
}

function isSameRequest(a: RequestSpec, b: RequestSpec): boolean {
  if (a.method !== b.method || a.url !== b.url || a.body !== b.body) return false
  const key = (h: HeaderList) => h.map(([n, v]) => `${n.toLowerCase()}:${v}`).sort().join('\n')
  return key(a.headers) === key(b.headers)
}

function stripSecretParams(href: string): string {
  const url = new URL(href)
  if (!url.search) return href
  const kept = url.search.slice(1).split('&').filter((part) => {
    const eq = part.indexOf('=')
    const raw = eq === -1 ? part : part.slice(0, eq)
    let name = raw
    try { name = decodeURIComponent(raw.replace(/\+/g, ' ')) } catch { /* keep raw */ }
    return !isSecretParam(name)
  })
  return `${url.origin}${url.pathname}${kept.length ? `?${kept.join('&')}` : ''}${url.hash}`
}

function removeCredentials(request: RequestSpec): { request: RequestSpec; dropped: string[] } {
  const dropped = [...new Set(request.headers.filter(([n]) => isSecretHeader(n)).map(([n]) => n))]
  const url = stripSecretParams(request.url)
  if (url !== request.url) dropped.push('secret query parameters')
  return { request: { ...request, url, headers: withoutHeaders(request.headers, dropped) }, dropped }
}

function buildMinimalBody(body: string, contentType: string): string {
  const trimmed = body.trim()
  if (contentType.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) return trimmed.startsWith('[') ? '[]' : '{}'
  return ''
}

function parseFlatJsonObject(body: string): Record<string, string | number | boolean | null> | undefined {
  try {
    const value: unknown = JSON.parse(body)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
    const entries = Object.entries(value as Record<string, unknown>)
    if (!entries.every(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return undefined
    return value as Record<string, string | number | boolean | null>
  } catch {
    return undefined
  }
}

function buildOtherContentType(request: RequestSpec): PlannedProbe | undefined {
  if (request.body === undefined || request.body === '') return undefined
  const type = (getHeader(request.headers, 'content-type') ?? '').toLowerCase()
  if (type.includes('json')) {
    const flat = parseFlatJsonObject(request.body)
    // The same fields, form-encoded: what a body rule sees differently is then the parser.
    const body = flat
      ? new URLSearchParams(Object.entries(flat).map(([k, v]): [string, string] => [k, v === null ? '' : String(v)])).toString()
      : request.body
    const contentType = flat ? 'application/x-www-form-urlencoded' : 'text/plain'
    return {
      variation: 'other-content-type',
      description: `as ${contentType} instead of JSON`,
      request: { ...request, body, headers: withHeader(request.headers, 'Content-Type', contentType) },
    }
  }
  if (type.includes('x-www-form-urlencoded')) {
    const fields = Object.fromEntries(new URLSearchParams(request.body))
    return {
      variation: 'other-content-type',
      description: 'as JSON instead of form-urlencoded',
      request: { ...request, body: JSON.stringify(fields), headers: withHeader(request.headers, 'Content-Type', 'application/json') },
    }
  }
  return undefined
}

/** Builds the request for one removal variation, or undefined when it does not apply. */
export function buildVariation(request: RequestSpec, variation: Variation): PlannedProbe | undefined {
  switch (variation) {
    case 'no-credentials': {
      const { request: next, dropped } = removeCredentials(request)
      if (!dropped.length) return undefined
      return { variation, description: `without credentials (dropped ${dropped.join(', ')})`, request: next }
    }
    case 'no-cookies':
      if (!hasHeader(request.headers, 'cookie')) return undefined
      return { variation, description: 'without cookies', request: { ...request, headers: withoutHeaders(request.headers, ['cookie']) } }
    case 'no-origin': {
      if (!hasHeader(request.headers, 'origin') && !hasHeader(request.headers, 'referer')) return undefined
      return { variation, description: 'without Origin and Referer', request: { ...request, headers: withoutHeaders(request.headers, ['origin', 'referer']) } }
    }
    case 'minimal-body': {
      if (request.body === undefined || request.body === '') return undefined
      const body = buildMinimalBody(request.body, (getHeader(request.headers, 'content-type') ?? '').toLowerCase())
      if (body === request.body) return undefined
      return { variation, description: body ? `with a minimal body ${body}` : 'with an empty body', request: { ...request, body } }
    }
    case 'get': {
      if (request.method === 'GET' || request.method === 'HEAD') return undefined
      return {
        variation,
        description: `GET instead of ${request.method}`,
        request: { ...request, method: 'GET', body: undefined, headers: withoutHeaders(request.headers, ['content-type']) },
      }
    }
    case 'preflight': {
      if (!needsPreflight(request)) return undefined
      // What a browser sends: no credentials, no body, only these (Fetch standard, CORS-preflight request).
      const headers: HeaderList = [['Origin', findPageOrigin(request) ?? '']]
      headers.push(['Access-Control-Request-Method', request.method])
      const unsafe = listCorsUnsafeHeaders(request)
      if (unsafe.length) headers.push(['Access-Control-Request-Headers', unsafe.join(',')])
      for (const name of ['User-Agent', 'Referer', 'Accept-Language']) {
        const value = getHeader(request.headers, name)
        if (value !== undefined) headers.push([name, value])
      }
      headers.push(['Accept', '*/*'])
      return { variation, description: 'CORS preflight (OPTIONS with Origin)', request: { ...request, method: 'OPTIONS', headers, body: undefined } }
    }
    case 'other-content-type':
      return buildOtherContentType(request)
    case 'original':
    case 'minimal':
      return undefined
  }
}

// Most telling first: when the budget is small, the last ones are dropped.
const variationOrder: Variation[] = ['no-credentials', 'minimal-body', 'get', 'preflight', 'no-cookies', 'no-origin', 'other-content-type']

/**
 * The safe variations that apply to a request, most telling first, without duplicates. Each
 * only removes or swaps parts of the original: nothing is added that the original did not
 * carry, and nothing is an attack payload.
 */
export function planVariations(request: RequestSpec): PlannedProbe[] {
  const planned: PlannedProbe[] = []
  for (const variation of variationOrder) {
    const probe = buildVariation(request, variation)
    if (!probe) continue
    if (isSameRequest(probe.request, request) || planned.some((p) => isSameRequest(p.request, probe.request))) continue
    planned.push(probe)
  }
  return planned
}

/** The original with every listed removal applied (the candidate minimal reproduction). */
export function applyRemovals(request: RequestSpec, removals: Variation[]): RequestSpec {
  // GET drops the body, so it goes last; the others commute.
  const ordered = [...removals].sort((a, b) => (a === 'get' ? 1 : 0) - (b === 'get' ? 1 : 0))
  let current = request
  for (const removal of ordered) current = buildVariation(current, removal)?.request ?? current
  return current
}

function findErrorCode(error: unknown): { code?: string; message: string } {
  let current: unknown = error
  let message = error instanceof Error ? error.message : String(error)
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code
    if (typeof code === 'string' && code !== 'UND_ERR_ABORTED') return { code, message: current.message || message }
    if (current.message) message = current.message
    current = (current as Error & { cause?: unknown }).cause
  }
  return { message }
}

/** Turns a network failure into a named, user-facing error (not a crash, not a diagnosis). */
export function describeNetworkError(error: unknown, url: string, timeoutMs: number, timedOut: boolean): ProbeError {
  const host = (() => { try { const u = new URL(url); return u.host } catch { return url } })()
  const { code, message } = findErrorCode(error)
  const text = `${code ?? ''} ${message}`
  if (timedOut || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return { kind: 'timeout', code, message: `timed out after ${timeoutMs} ms waiting for ${host}` }
  }
  if (code === 'ECONNREFUSED') return { kind: 'refused', code, message: `connection refused by ${host}: nothing listens there, or a firewall rejects it` }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_NODATA' || code === 'EAI_FAIL') {
    return { kind: 'dns', code, message: `DNS lookup failed for ${host.replace(/:\d+$/, '')} (${code})` }
  }
  if (/CERT|SSL|TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ALTNAME|HOSTNAME_MISMATCH|EPROTO|wrong version number|certificate/i.test(text)) {
    const hint = /CERT|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ALTNAME|certificate/i.test(text)
      ? '; the certificate is not trusted (pass -k to probe anyway)'
      : '; is this port really serving HTTPS?'
    return { kind: 'tls', code, message: `TLS error talking to ${host}: ${message}${code ? ` (${code})` : ''}${hint}` }
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return { kind: 'reset', code, message: `${host} closed the connection without answering` }
  }
  return { kind: 'other', code, message: `request to ${host} failed: ${message}${code ? ` (${code})` : ''}` }
}

async function decompress(buffer: Buffer, encoding: string): Promise<Buffer> {
  let decoder: Transform
  // Flush mode tolerates a body we cut short at maxBodyBytes.
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH })
  else if (encoding === 'deflate') decoder = createInflate({ finishFlush: zlibConstants.Z_SYNC_FLUSH })
  else if (encoding === 'br') decoder = createBrotliDecompress({ finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH })
  else return buffer
  const chunks: Buffer[] = []
  let size = 0
  return new Promise<Buffer>((resolve) => {
    const done = () => resolve(Buffer.concat(chunks).subarray(0, maxBodyBytes))
    decoder.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      if (size >= maxBodyBytes) { decoder.destroy(); done() }
    })
    decoder.on('end', done)
    // A corrupt stream still yields what decoded so far.
    decoder.on('error', done)
    decoder.end(buffer)
  })
}

async function readCapped(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer
      chunks.push(buffer)
      size += buffer.length
      if (size >= maxBodyBytes) {
        body.destroy()
        break
      }
    }
  } catch {
    // The status and headers already arrived: a body cut short (timeout, reset) still says who answered.
  }
  return Buffer.concat(chunks).subarray(0, maxBodyBytes)
}

/** The headers actually put on the wire for a request (curl's defaults added, framing removed). */
export function headersToSend(request: RequestSpec): HeaderList {
  let headers = withoutHeaders(request.headers, framingHeaders).filter(([name]) => !name.startsWith(':'))
  for (const [name, value] of curlDefaultHeaders) if (!hasHeader(request.headers, name)) headers = [...headers, [name, value]]
  if (request.compressed && !hasHeader(headers, 'accept-encoding')) headers = [...headers, ['Accept-Encoding', 'gzip, deflate, br']]
  return headers
}

/** Sends one request: no redirects followed, body capped at 256 KB, one timeout for all of it. */
export async function sendProbe(
  planned: PlannedProbe,
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<ProbeRecord> {
  const started = performance.now()
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; controller.abort() }, timeoutMs)
  const sentRequest: RequestSpec = { ...planned.request, headers: headersToSend(planned.request) }
  try {
    const response = await request(planned.request.url, {
      method: planned.request.method,
      // undici reads an array as flat name, value pairs; duplicates stay separate lines.
      headers: sentRequest.headers.flat(),
      body: planned.request.body,
      dispatcher,
      signal: controller.signal,
    })
    const raw = await readCapped(response.body)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
    }
    const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase()
    const decoded = encoding ? await decompress(raw, encoding) : raw
    const probeResponse: ProbeResponse = { status: response.statusCode, headers, body: decoded.toString('utf8') }
    return { ...planned, request: sentRequest, response: probeResponse, elapsedMs: Math.round(performance.now() - started) }
  } catch (error) {
    return {
      ...planned,
      request: sentRequest,
      error: describeNetworkError(error, planned.request.url, timeoutMs, timedOut),
      elapsedMs: Math.round(performance.now() - started),
    }
  } finally {
    clearTimeout(timer)
  }
}

/** The original probe as a SPEC §4 exchange (unredacted; redact before printing). */
export function toExchange(record: ProbeRecord): Exchange | undefined {
  if (!record.response) return undefined
  const headers: Record<string, string> = {}
  for (const [name, value] of record.request.headers) {
    const key = name.toLowerCase()
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`
  }
  return {
    request: { method: record.request.method, url: record.request.url, headers, ...(record.request.body !== undefined ? { body: record.request.body } : {}) },
    response: { status: record.response.status, headers: record.response.headers, body: record.response.body },
  }
}

/**
 * Sends the original request and, when it is denied, safe variations of it (at most
 * `maxProbes` requests in all, never more than 8), then a combined minimal request when the
 * budget allows, and explains the differences. Network failures are recorded on the records
 * (`error`), never thrown.
 */
export async function runProbe(original: RequestSpec, options: ProbeOptions): Promise<ProbeReport> {
  const budget = Math.max(1, Math.min(hardProbeCap, Math.floor(options.maxProbes)))
  const dispatcher = createDispatcher(original.insecure, options.timeoutMs, options.proxy)
  const records: ProbeRecord[] = []
  try {
    const first = await sendProbe({ variation: 'original', description: 'as given', request: original }, dispatcher, options.timeoutMs)
    records.push(first)
    const status = first.response?.status
    if (options.variations && status !== undefined && isDenialStatus(status) && status !== 429) {
      for (const planned of planVariations(original)) {
        if (records.length >= budget) break
        const record = await sendProbe(planned, dispatcher, options.timeoutMs)
        records.push(record)
        // Rate limited mid-run: every further answer would describe the limit, not the variation.
        if (record.response?.status === 429) break
      }
      const irrelevant = listIrrelevantParts(records)
      if (irrelevant.length >= 2 && records.length < budget && !records.some((r) => r.response?.status === 429)) {
        const combined = applyRemovals(original, irrelevant)
        if (!records.some((r) => isSameRequest(r.request, withSentHeaders(combined)))) {
          const description = `with all irrelevant parts removed (${irrelevant.join(', ')})`
          records.push(await sendProbe({ variation: 'minimal', description, request: combined }, dispatcher, options.timeoutMs))
        }
      }
    }
  } finally {
    await dispatcher.close().catch(() => undefined)
  }
  const findings = compareProbes(records)
  const minimal = chooseMinimal(records) ?? records[0]
  return { records, findings, minimal, reproduce: renderCurl(stripCurlDefaults(minimal.request)) }
}

function withSentHeaders(request: RequestSpec): RequestSpec {
  return { ...request, headers: headersToSend(request) }
}

// The recorded request carries the defaults curl adds by itself; leave them out of the line.
function stripCurlDefaults(request: RequestSpec): RequestSpec {
  const headers = request.headers.filter(([name, value]) =>
    !curlDefaultHeaders.some(([n, v]) => n.toLowerCase() === name.toLowerCase() && v === value) &&
    !(request.compressed && name.toLowerCase() === 'accept-encoding' && value === 'gzip, deflate, br'))
  return { ...request, headers }
}

