import type { DoctorLayer, Exchange } from './types.js'

/**
 * One piece of evidence a fingerprint looks for. Exactly one of the selector keys
 * (`status`, `header`, `cookie`, `body`, `bodyIs`, `title`, `json`, `substatus`, `method`,
 * `requestHeader`, `urlEndsWith`, `host`) is set. `weight` says how distinctive the evidence is:
 * 10 names the product on its own (an error string only it emits), 6-8 a product header,
 * 3-4 a server banner, 1-2 generic facts such as the status code.
 */
export type Matcher = (
  | { status: number | readonly number[] }
  /** Response header present; with `contains`/`equals`, its value (case-insensitive). */
  | { header: string; contains?: string; equals?: string; absent?: boolean }
  /** A cookie whose name starts with this prefix is set by the response. */
  | { cookie: string }
  /** Any of these phrases occurs in the body (case-insensitive, whitespace collapsed). */
  | { body: string | readonly string[] }
  /** The whole body, trimmed and whitespace-collapsed, is one of these (case-insensitive); `''` matches an empty body. */
  | { bodyIs: string | readonly string[] }
  /** The HTML `<title>` contains this phrase. */
  | { title: string | readonly string[] }
  /** A dotted path (`error.type`, `errors.0.code`) in a JSON body exists, equals or contains. */
  | { json: string; equals?: string | number | boolean; contains?: string }
  /** IIS detailed error substatus such as `403.14`, read from the error page. */
  | { substatus: string }
  /** Request method is one of these (uppercase). */
  | { method: readonly string[] }
  /** Request header present (or, with `absent`, missing). */
  | { requestHeader: string; absent?: boolean; contains?: string }
  /** Request URL path ends with this text (e.g. `/` for a directory). */
  | { urlEndsWith: string }
  /** Request host name contains one of these (`api.github.com`, `execute-api.`). */
  | { host: string | readonly string[] }
) & {
  weight: number
  /**
   * `true`: the fingerprint does not apply unless this matcher matches. A string names a
   * group: at least one matcher of the group must match. Groups keep a product's headers,
   * present on all its responses, from naming a specific cause on their own.
   */
  required?: boolean | string
}

/** A known denial: who produced it, at which layer, why, and how to fix it. */
export interface Fingerprint {
  /** Stable id, `<producer>.<cause-slug>`. */
  id: string
  /** Lowercase product slug. */
  producer: string
  layer: DoctorLayer
  /** One sentence: what most likely happened. */
  cause: string
  /** Concrete steps, most useful first. */
  remedies: string[]
  match: Matcher[]
  /**
   * The entry reads a server's default error page (nginx, Apache, IIS, Tomcat...). Such a page
   * frames whatever denied the request, so when another product's own text is in the same
   * body, that product explains the denial and this entry is ranked down.
   */
  container?: boolean
  /**
   * Minimum score from evidence other than status and request shape before the entry is
   * considered at all (default 3), so a status code alone never names a product.
   */
  minScore?: number
}

/** Where a piece of evidence came from; the classifier ranks body evidence above transport headers. */
export type EvidenceSource = 'body' | 'transport' | 'context'

/** The outcome of scoring one fingerprint against a response. */
export interface FingerprintMatch {
  fingerprint: Fingerprint
  score: number
  /** Score from body, title, JSON and substatus evidence. */
  bodyScore: number
  /** Score from headers and cookies. */
  transportScore: number
  evidence: string[]
}

/** Characters of body the classifier reads (64 KB); denial pages put their identifying text near the top. */
export const maxBodyChars = 64 * 1024

/** A pre-digested response, built once per exchange, that matchers read. */
export interface ResponseView {
  status: number
  method: string
  urlPath: string
  /** Lowercased host name of the request URL, or ''. */
  host: string
  /** Lowercased header names; values as sent. */
  headers: Map<string, string>
  requestHeaders: Map<string, string>
  cookieNames: string[]
  /** Body, truncated, lowercased, whitespace collapsed. */
  body: string
  /** `<title>` text as sent (trimmed), or ''. */
  title: string
  json: unknown
}

/** Builds a {@link ResponseView}; never throws, whatever shape the exchange has. */
export function createResponseView(exchange: Exchange): ResponseView {
  const response = (isObject(exchange) && isObject(exchange.response) ? exchange.response : {}) as Partial<Exchange['response']>
  const request = (isObject(exchange) && isObject(exchange.request) ? exchange.request : {}) as Partial<Exchange['request']>
  const headers = normalizeHeaders(response.headers)
  const requestHeaders = normalizeHeaders(request.headers)
  const rawBody = typeof response.body === 'string' ? response.body.slice(0, maxBodyChars) : ''
  const status = typeof response.status === 'number' && Number.isFinite(response.status) ? Math.trunc(response.status) : 0
  return {
    status,
    method: typeof request.method === 'string' ? request.method.toUpperCase() : 'GET',
    urlPath: readPath(request.url),
    host: readHost(request.url),
    headers,
    requestHeaders,
    cookieNames: readCookieNames(headers.get('set-cookie') ?? ''),
    body: collapse(decodeEntities(rawBody).toLowerCase()),
    title: readTitle(rawBody),
    json: tryParseJson(rawBody),
  }
}

/**
 * Scores one fingerprint. Returns undefined when a required matcher misses or the
 * identifying evidence stays under the entry's `minScore`.
 */
export function scoreFingerprint(fingerprint: Fingerprint, view: ResponseView): FingerprintMatch | undefined {
  let score = 0
  let bodyScore = 0
  let transportScore = 0
  const evidence: string[] = []
  const groups = new Map<string, boolean>()
  for (const matcher of fingerprint.match) {
    const group = typeof matcher.required === 'string' ? matcher.required : undefined
    if (group !== undefined && !groups.has(group)) groups.set(group, false)
    const hit = testMatcher(matcher, view)
    if (hit === undefined) {
      if (matcher.required === true) return undefined
      continue
    }
    if (group !== undefined) groups.set(group, true)
    score += matcher.weight
    evidence.push(hit.evidence)
    if (hit.source === 'body') bodyScore += matcher.weight
    else if (hit.source === 'transport') transportScore += matcher.weight
  }
  for (const satisfied of groups.values()) if (!satisfied) return undefined
  if (bodyScore + transportScore < (fingerprint.minScore ?? 3)) return undefined
  return { fingerprint, score, bodyScore, transportScore, evidence }
}

interface Hit { evidence: string; source: EvidenceSource }

function testMatcher(matcher: Matcher, view: ResponseView): Hit | undefined {
  if ('status' in matcher) {
    const statuses = toList(matcher.status)
    return statuses.includes(view.status) ? { evidence: `status ${view.status}`, source: 'context' } : undefined
  }
  if ('header' in matcher) return testHeader(matcher.header, matcher, view.headers, 'header')
  if ('cookie' in matcher) {
    const prefix = matcher.cookie.toLowerCase()
    const name = view.cookieNames.find((cookie) => cookie.toLowerCase().startsWith(prefix))
    return name === undefined ? undefined : { evidence: `cookie ${name}`, source: 'transport' }
  }
  if ('body' in matcher) {
    const phrases = toList(matcher.body)
    for (const phrase of phrases) {
      if (view.body.includes(normalizePhrase(phrase))) return { evidence: `body: ${phrase}`, source: 'body' }
    }
    return undefined
  }
  if ('bodyIs' in matcher) {
    const whole = view.body.trim()
    const phrases = toList(matcher.bodyIs)
    const found = phrases.find((phrase) => whole === normalizePhrase(phrase))
    if (found === undefined) return undefined
    return { evidence: found === '' ? 'empty body' : `body is "${found}"`, source: 'body' }
  }
  if ('title' in matcher) {
    const title = collapse(view.title.toLowerCase())
    if (title === '') return undefined
    const phrases = toList(matcher.title)
    return phrases.some((phrase) => title.includes(normalizePhrase(phrase)))
      ? { evidence: `title: ${view.title.slice(0, 80)}`, source: 'body' }
      : undefined
  }
  if ('json' in matcher) {
    const value = readJsonPath(view.json, matcher.json)
    if (value === undefined || value === null) return undefined
    if (matcher.equals !== undefined) {
      const same = typeof value === 'string' && typeof matcher.equals === 'string'
        ? value.toLowerCase() === matcher.equals.toLowerCase()
        : value === matcher.equals
      return same ? { evidence: `json ${matcher.json} = ${String(matcher.equals)}`, source: 'body' } : undefined
    }
    if (matcher.contains !== undefined) {
      const text = typeof value === 'string' ? value.toLowerCase() : ''
      return text.includes(matcher.contains.toLowerCase())
        ? { evidence: `json ${matcher.json} ~ ${matcher.contains}`, source: 'body' }
        : undefined
    }
    return { evidence: `json ${matcher.json}`, source: 'body' }
  }
  if ('substatus' in matcher) {
    // IIS detailed errors spell it "HTTP Error 403.14 - Forbidden"; custom pages keep "403.14".
    return hasSubstatus(view.body, matcher.substatus) ? { evidence: `IIS substatus ${matcher.substatus}`, source: 'body' } : undefined
  }
  if ('method' in matcher) {
    return matcher.method.includes(view.method) ? { evidence: `method ${view.method}`, source: 'context' } : undefined
  }
  if ('requestHeader' in matcher) {
    const hit = testHeader(matcher.requestHeader, matcher, view.requestHeaders, 'request header')
    return hit === undefined ? undefined : { evidence: hit.evidence, source: 'context' }
  }
  if ('host' in matcher) {
    if (view.host === '') return undefined
    const found = toList(matcher.host).find((part) => view.host.includes(part))
    // The host is where the request went, not who answered: it counts like a header.
    return found === undefined ? undefined : { evidence: `host ${view.host}`, source: 'transport' }
  }
  if ('urlEndsWith' in matcher) {
    return view.urlPath.endsWith(matcher.urlEndsWith) ? { evidence: `path ends with ${matcher.urlEndsWith}`, source: 'context' } : undefined
  }
  return undefined
}

function testHeader(
  name: string,
  matcher: { contains?: string; equals?: string; absent?: boolean },
  headers: Map<string, string>,
  label: string,
): Hit | undefined {
  const key = name.toLowerCase()
  const value = headers.get(key)
  if (matcher.absent) return value === undefined ? { evidence: `no ${label} ${key}`, source: 'context' } : undefined
  if (value === undefined) return undefined
  const lower = value.toLowerCase()
  if (matcher.equals !== undefined) {
    return lower.trim() === matcher.equals.toLowerCase() ? { evidence: `${label} ${key}: ${matcher.equals}`, source: 'transport' } : undefined
  }
  if (matcher.contains !== undefined) {
    return lower.includes(matcher.contains.toLowerCase()) ? { evidence: `${label} ${key}: ${matcher.contains}`, source: 'transport' } : undefined
  }
  return { evidence: `${label} ${key}`, source: 'transport' }
}

/** True when `code` (e.g. `403.1`) occurs as a whole number: `403.1` must not match `403.14`. */
function hasSubstatus(body: string, code: string): boolean {
  let from = 0
  for (;;) {
    const at = body.indexOf(code, from)
    if (at < 0) return false
    const before = at === 0 ? '' : body.charAt(at - 1)
    const after = body.charAt(at + code.length)
    if (!isDigit(before) && !isDigit(after)) return true
    from = at + 1
  }
}

function toList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [value as T]
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9'
}

/** Reads `a.b.0.c` from parsed JSON; undefined when any step is missing. */
export function readJsonPath(value: unknown, path: string): unknown {
  let current: unknown = value
  for (const step of path.split('.')) {
    if (Array.isArray(current)) {
      const index = Number(step)
      current = Number.isInteger(index) ? current[index] : undefined
    } else if (isObject(current)) {
      current = Object.prototype.hasOwnProperty.call(current, step) ? current[step] : undefined
    } else {
      return undefined
    }
    if (current === undefined) return undefined
  }
  return current
}

function normalizeHeaders(headers: unknown): Map<string, string> {
  const map = new Map<string, string>()
  if (!isObject(headers)) return map
  for (const [name, value] of Object.entries(headers)) {
    const text = Array.isArray(value) ? value.map(String).join('\n') : value === undefined || value === null ? '' : String(value)
    const key = name.toLowerCase()
    // Two spellings of one header (Server and server) are one header, as on the wire.
    const previous = map.get(key)
    map.set(key, previous === undefined ? text : `${previous}\n${text}`)
  }
  return map
}

/**
 * Cookie names from a Set-Cookie value that may hold several cookies joined by newlines
 * or commas (how many clients flatten them). A comma inside `Expires=Wed, 21 Oct ...`
 * leaves a fragment without `=` before its first `;`, which is skipped.
 */
function readCookieNames(setCookie: string): string[] {
  const names: string[] = []
  for (const line of setCookie.slice(0, 16_384).split('\n')) {
    for (const part of line.split(',')) {
      const head = part.split(';', 1)[0] ?? ''
      const eq = head.indexOf('=')
      if (eq <= 0) continue
      const name = head.slice(0, eq).trim()
      if (name !== '' && !name.includes(' ')) names.push(name)
    }
  }
  return names
}

function readTitle(body: string): string {
  const lower = body.toLowerCase()
  const open = lower.indexOf('<title')
  if (open < 0) return ''
  const start = lower.indexOf('>', open)
  if (start < 0) return ''
  const end = lower.indexOf('</title', start)
  const text = body.slice(start + 1, end < 0 ? Math.min(body.length, start + 300) : Math.min(end, start + 300))
  return collapse(decodeEntities(text)).trim()
}

function readHost(url: unknown): string {
  if (typeof url !== 'string') return ''
  try {
    return new URL(url).hostname.toLowerCase()
  } catch {
    return ''
  }
}

function readPath(url: unknown): string {
  if (typeof url !== 'string') return '/'
  try {
    return new URL(url, 'http://localhost').pathname
  } catch {
    return '/'
  }
}

function tryParseJson(body: string): unknown {
  const trimmed = body.trimStart()
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined
  try {
    return JSON.parse(trimmed) as unknown
  } catch {
    return undefined
  }
}

const phraseCache = new Map<string, string>()

function normalizePhrase(phrase: string): string {
  let normalized = phraseCache.get(phrase)
  if (normalized === undefined) {
    normalized = collapse(phrase.toLowerCase())
    phraseCache.set(phrase, normalized)
  }
  return normalized
}

/**
 * Collapses whitespace runs to one space, so phrases match across HTML line breaks, and
 * straightens typographic quotes ("don’t" on Google's pages, "don't" on Apache's).
 */
function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"')
}

/** Decodes numeric and common named entities: error pages escape quotes, colons and slashes. */
function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d{1,6});/g, (_, code: string) => fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]{1,6});/gi, (_, code: string) => fromCodePoint(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

function fromCodePoint(code: number): string {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ''
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
