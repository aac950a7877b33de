import { UsageError } from '../cli/args.js'
import { maxBodyBytes } from './probe.js'
import type { Exchange } from './types.js'

/** Statuses `doctor --har` diagnoses: the refusals a browser session typically runs into. */
export const harDenialStatuses: ReadonlySet<number> = new Set([401, 403, 419, 429])

/** Largest HAR file read, in bytes; browser exports with bodies can be big, but not this big. */
export const maxHarBytes = 200 * 1024 * 1024

/** One recorded request/response of a HAR file, as an exchange. */
export interface HarExchange {
  /** 0-based position in `log.entries`. */
  index: number
  startedDateTime?: string
  /** Total time the browser recorded, in milliseconds. */
  timeMs?: number
  exchange: Exchange
}

/** What a HAR file holds. */
export interface HarLog {
  creator?: string
  entries: HarExchange[]
}

interface HarHeader { name?: unknown; value?: unknown }

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function collectHeaders(list: unknown): Record<string, string> {
  const headers: Record<string, string> = {}
  if (!Array.isArray(list)) return headers
  for (const item of list as HarHeader[]) {
    if (!isRecord(item) || typeof item.name !== 'string' || typeof item.value !== 'string') continue
    const name = item.name.toLowerCase()
    // HTTP/2 pseudo-headers (:authority, :status) are recorded by browsers but are not headers.
    if (name.startsWith(':')) continue
    const separator = name === 'cookie' ? '; ' : ', '
    headers[name] = headers[name] === undefined ? item.value : `${headers[name]}${separator}${item.value}`
  }
  return headers
}

function capText(text: string): string {
  return text.length > maxBodyBytes ? text.slice(0, maxBodyBytes) : text
}

function readContent(content: unknown): string | undefined {
  if (!isRecord(content) || typeof content.text !== 'string') return undefined
  if (content.encoding === 'base64') {
    // Decode only the prefix we keep: base64 is 4 chars per 3 bytes.
    const prefix = content.text.slice(0, Math.ceil((maxBodyBytes * 4) / 3) + 4)
    return Buffer.from(prefix, 'base64').toString('utf8')
  }
  return capText(content.text)
}

/**
 * Reads a HAR 1.2 file (what browsers export from the network panel) into exchanges. Entries
 * without a request URL or a numeric status are skipped; the whole file is refused with a
 * UsageError when it is not a HAR log at all.
 */
export function parseHar(text: string): HarLog {
  if (Buffer.byteLength(text) > maxHarBytes) throw new UsageError(`HAR file is larger than ${maxHarBytes} bytes`)
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`not a HAR file: invalid JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  if (!isRecord(root) || !isRecord(root.log) || !Array.isArray(root.log.entries)) {
    throw new UsageError('not a HAR file: expected { "log": { "entries": [...] } }')
  }
  const log = root.log
  const creator = isRecord(log.creator) && typeof log.creator.name === 'string'
    ? `${log.creator.name}${typeof log.creator.version === 'string' ? ` ${log.creator.version}` : ''}`
    : undefined
  const entries: HarExchange[] = []
  ;(log.entries as unknown[]).forEach((entry, index) => {
    if (!isRecord(entry) || !isRecord(entry.request) || !isRecord(entry.response)) return
    const req = entry.request
    const res = entry.response
    if (typeof req.url !== 'string' || typeof res.status !== 'number') return
    const requestHeaders = collectHeaders(req.headers)
    // Some exporters leave cookies out of the headers and list them separately.
    if (requestHeaders.cookie === undefined && Array.isArray(req.cookies) && req.cookies.length) {
      const pairs = (req.cookies as unknown[])
        .filter(isRecord)
        .filter((c) => typeof c.name === 'string' && typeof c.value === 'string')
        .map((c) => `${c.name as string}=${c.value as string}`)
      if (pairs.length) requestHeaders.cookie = pairs.join('; ')
    }
    let requestBody: string | undefined
    if (isRecord(req.postData)) {
      if (typeof req.postData.text === 'string') requestBody = capText(req.postData.text)
      else if (Array.isArray(req.postData.params)) {
        requestBody = new URLSearchParams((req.postData.params as unknown[]).filter(isRecord)
          .map((p): [string, string] => [String(p.name ?? ''), String(p.value ?? '')])).toString()
      }
      if (requestHeaders['content-type'] === undefined && typeof req.postData.mimeType === 'string' && req.postData.mimeType) {
        requestHeaders['content-type'] = req.postData.mimeType
      }
    }
    const responseBody = readContent(res.content)
    const responseHeaders = collectHeaders(res.headers)
    if (responseHeaders['content-type'] === undefined && isRecord(res.content) && typeof res.content.mimeType === 'string' && res.content.mimeType) {
      responseHeaders['content-type'] = res.content.mimeType
    }
    entries.push({
      index,
      startedDateTime: typeof entry.startedDateTime === 'string' ? entry.startedDateTime : undefined,
      timeMs: typeof entry.time === 'number' ? Math.round(entry.time) : undefined,
      exchange: {
        request: {
          method: typeof req.method === 'string' ? req.method.toUpperCase() : 'GET',
          url: req.url,
          headers: requestHeaders,
          ...(requestBody !== undefined ? { body: requestBody } : {}),
        },
        response: {
          status: res.status,
          headers: responseHeaders,
          ...(responseBody !== undefined ? { body: responseBody } : {}),
        },
      },
    })
  })
  return { creator, entries }
}

/** The entries `doctor --har` diagnoses: 401, 403, 419 and 429 answers. */
export function selectDeniedEntries(log: HarLog): HarExchange[] {
  return log.entries.filter((e) => harDenialStatuses.has(e.exchange.response.status))
}

/** What another entry of the same HAR says about a denied one. */
export interface HarContext {
  /** Index of the other entry (or of the denied entry itself for a preflight). */
  entry: number
  conclusion: string
}

function pathKey(href: string): string | undefined {
  try {
    const url = new URL(href)
    return `${url.origin}${url.pathname}`
  } catch {
    return undefined
  }
}

function isPassing(status: number): boolean {
  return status >= 200 && status < 400
}

/**
 * Reads the rest of the recording around a denied entry: a refused preflight, the same request
 * succeeding at another moment, or another method passing on the same path. Offline and pure.
 */
export function findHarContext(log: HarLog, denied: HarExchange): HarContext[] {
  const { request, response } = denied.exchange
  const key = pathKey(request.url)
  if (key === undefined) return []
  const context: HarContext[] = []
  if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
    context.push({
      entry: denied.index,
      conclusion: `This is a CORS preflight and it was refused (${response.status}): the browser never sent the ${request.headers['access-control-request-method']} itself. Let OPTIONS through (before authentication) and answer it with the CORS headers.`,
    })
    return context
  }
  const sameMethod = log.entries.find((e) => e.index !== denied.index && e.exchange.request.method === request.method &&
    pathKey(e.exchange.request.url) === key && isPassing(e.exchange.response.status))
  if (sameMethod && response.status !== 429) {
    const when = sameMethod.startedDateTime ? ` at ${sameMethod.startedDateTime}` : ''
    context.push({
      entry: sameMethod.index,
      conclusion: `The same ${request.method} on this path got ${sameMethod.exchange.response.status} in entry #${sameMethod.index}${when}: something that differs between the two decides (expired session or token, request body, rate or bot score). Compare their headers and bodies.`,
    })
  }
  const otherMethod = log.entries.find((e) => e.exchange.request.method !== request.method && e.exchange.request.method !== 'OPTIONS' &&
    pathKey(e.exchange.request.url) === key && isPassing(e.exchange.response.status))
  if (otherMethod && !sameMethod) {
    context.push({
      entry: otherMethod.index,
      conclusion: `${otherMethod.exchange.request.method} on the same path passed (#${otherMethod.index}) while ${request.method} is refused: a method restriction or a CSRF check on unsafe methods.`,
    })
  }
  const preflight = log.entries.find((e) => e.index < denied.index && e.exchange.request.method === 'OPTIONS' &&
    pathKey(e.exchange.request.url) === key && e.exchange.request.headers['access-control-request-method'] === request.method)
  if (preflight) {
    const allowed = preflight.exchange.response.headers['access-control-allow-origin']
    const ok = isPassing(preflight.exchange.response.status) && allowed !== undefined
    context.push({
      entry: preflight.index,
      conclusion: ok
        ? `Its preflight (#${preflight.index}) passed: CORS let the browser send it; the ${response.status} is the server's answer to the request itself.`
        : `Its preflight (#${preflight.index}) failed (${preflight.exchange.response.status}${allowed === undefined ? ', no Access-Control-Allow-Origin' : ''}): CORS.`,
    })
  }
  return context
}
