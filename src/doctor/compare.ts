import { getHeader, renderCurl, type RequestSpec } from './curl.js'

/** The safe variations the live probe may send, plus the original and the verified minimum. */
export type Variation =
  | 'original'
  | 'no-credentials'
  | 'no-cookies'
  | 'no-origin'
  | 'preflight'
  | 'minimal-body'
  | 'other-content-type'
  | 'get'
  | 'minimal'

/** What came back for one probe (body already capped and decoded). */
export interface ProbeResponse {
  status: number
  /** Lowercase names; repeated headers joined with `, `. */
  headers: Record<string, string>
  body: string
}

/** Why a probe got no HTTP answer. */
export interface ProbeError {
  kind: 'timeout' | 'refused' | 'dns' | 'tls' | 'reset' | 'other'
  /** Node / undici / OpenSSL error code when there is one. */
  code?: string
  message: string
}

/** One request the probe sent and what happened. */
export interface ProbeRecord {
  variation: Variation
  /** Human description of the change, e.g. "without credentials (dropped Authorization)". */
  description: string
  request: RequestSpec
  response?: ProbeResponse
  error?: ProbeError
  elapsedMs: number
}

/** What one probe shows about the denial. */
export interface Finding {
  probe: Variation
  status: number | null
  conclusion: string
}

/** Whether a status is a refusal worth diagnosing: every 4xx (401/403/405/407/419/429/451 included). */
export function isDenialStatus(status: number): boolean {
  return status >= 400 && status < 500
}

// Per-request ids, ray ids and timestamps differ between two identical denials; blank them.
function normaliseBody(body: string): string {
  return body
    .slice(0, 4096)
    .toLowerCase()
    .replace(/[0-9a-f]{8,}/g, '#')
    .replace(/[0-9]+/g, '#')
    .replace(/\s+/g, ' ')
    .trim()
}

/**
 * True when two responses are the same denial: same status, same `server`, and bodies equal
 * once ids and numbers are blanked. A 403 from a CDN and a 403 from the app are different.
 */
export function isSameDenial(a: ProbeResponse, b: ProbeResponse): boolean {
  if (a.status !== b.status) return false
  if ((a.headers.server ?? '') !== (b.headers.server ?? '')) return false
  return normaliseBody(a.body) === normaliseBody(b.body)
}

const simpleMethods = new Set(['GET', 'HEAD', 'POST'])
const safelistedContentTypes = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'])
// Headers the browser sets itself: they never appear in Access-Control-Request-Headers.
const browserHeaders = new Set([
  'accept-charset', 'accept-encoding', 'connection', 'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect',
  'host', 'keep-alive', 'origin', 'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via', 'user-agent',
  'priority', 'cache-control', 'pragma', 'upgrade-insecure-requests',
])

/**
 * The request headers a browser would list in Access-Control-Request-Headers: everything
 * not CORS-safelisted and not set by the browser itself (Fetch standard, "CORS-unsafe
 * request-header names"), lowercase and sorted.
 */
export function listCorsUnsafeHeaders(request: RequestSpec): string[] {
  const names = new Set<string>()
  for (const [rawName, value] of request.headers) {
    const name = rawName.toLowerCase()
    if (browserHeaders.has(name) || name.startsWith('sec-') || name.startsWith('proxy-') || name.startsWith(':')) continue
    if (name === 'accept' || name === 'accept-language' || name === 'content-language') continue
    if (name === 'content-type' && safelistedContentTypes.has(value.split(';')[0].trim().toLowerCase())) continue
    names.add(name)
  }
  return [...names].sort()
}

function originOf(href: string): string | undefined {
  try {
    const origin = new URL(href).origin
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

/**
 * The page origin a browser would send this request from: its Origin header, else the origin
 * of its Referer (copied requests sometimes lack Origin). Undefined when neither is there.
 */
export function findPageOrigin(request: RequestSpec): string | undefined {
  const origin = getHeader(request.headers, 'origin')
  if (origin) return origin
  const referer = getHeader(request.headers, 'referer')
  return referer ? originOf(referer) : undefined
}

/** True when a browser would send a CORS preflight before this request (cross-origin and not "simple"). */
export function needsPreflight(request: RequestSpec): boolean {
  const origin = findPageOrigin(request)
  const target = originOf(request.url)
  if (!origin || !target || origin === target) return false
  return !simpleMethods.has(request.method) || listCorsUnsafeHeaders(request).length > 0
}

/** Whether a preflight answer lets the browser go on, and if not, why (Fetch standard CORS check). */
export function evaluatePreflight(original: RequestSpec, response: ProbeResponse): { ok: boolean; reason: string } {
  const origin = findPageOrigin(original) ?? ''
  if (response.status < 200 || response.status > 299) return { ok: false, reason: `the preflight got ${response.status}, not 2xx` }
  const allowOrigin = response.headers['access-control-allow-origin']
  if (!allowOrigin) return { ok: false, reason: 'no Access-Control-Allow-Origin in the answer' }
  if (allowOrigin !== '*' && allowOrigin !== origin) return { ok: false, reason: `it allows origin ${allowOrigin}, not ${origin}` }
  const listed = (header: string) => (response.headers[header] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  if (!simpleMethods.has(original.method)) {
    const methods = listed('access-control-allow-methods')
    if (!methods.includes('*') && !methods.includes(original.method.toLowerCase())) {
      return { ok: false, reason: `${original.method} is not in Access-Control-Allow-Methods` }
    }
  }
  const allowedHeaders = listed('access-control-allow-headers')
  // `*` does not cover Authorization (Fetch standard).
  const missing = listCorsUnsafeHeaders(original).filter((h) => !allowedHeaders.includes(h) && !(allowedHeaders.includes('*') && h !== 'authorization'))
  if (missing.length) return { ok: false, reason: `Access-Control-Allow-Headers does not list ${missing.join(', ')}` }
  return { ok: true, reason: 'origin, method and headers are allowed' }
}

function concludeVariation(record: ProbeRecord, original: ProbeRecord & { response: ProbeResponse }, bodyAlonePasses: boolean): string {
  const o = original.response
  if (record.error) return `No answer (${record.error.message}); this variation shows nothing.`
  const v = record.response as ProbeResponse
  const same = isSameDenial(o, v)
  const passes = !isDenialStatus(v.status)
  const changed = `${o.status} → ${v.status}`
  switch (record.variation) {
    case 'no-credentials':
      if (o.status === 401 && v.status === 401) return 'A 401 either way: the credentials sent are not accepted at all (wrong scheme or header, expired or unknown).'
      if (same) return `Same ${o.status} without credentials: the decision is not about these credentials; look at IP, WAF, CDN or server rules.`
      if (o.status === 403 && v.status === 401) return '401 without credentials but 403 with them: the credentials are valid but lack permission (authorization, not authentication).'
      if (passes) return `Passes without credentials (${changed}): something in the credentials themselves triggers the denial (revoked or wrong key, wrong tenant, or a cookie-bound session/CSRF check).`
      if (v.status === o.status) return `Still ${v.status} without credentials but a different answer: more than one layer denies this request.`
      return `Without credentials the answer changes (${changed}): the ${o.status} is decided after the server looked at the credentials.`
    case 'no-cookies':
      if (same) return `Same ${o.status} without cookies: cookies are not involved.`
      if (passes) return `${o.status} only with cookies (${changed}): a CSRF or session check; the cookie makes the server treat this as a browser session that needs a CSRF token.`
      if (v.status === 401) return `401 without cookies: the session cookie is what authenticates you, and the authenticated session is refused (a CSRF check or missing permission).`
      if (v.status === o.status) return `Still ${v.status} without cookies but a different answer: the cookies decide which layer refuses.`
      return `Without cookies the answer changes (${changed}): the session cookie takes part in the decision.`
    case 'no-origin':
      if (same) return `Same ${o.status} without Origin/Referer: no origin check is involved.`
      if (v.status !== o.status) return `The ${o.status} goes away without Origin/Referer (${changed}): a server-side origin check (CORS filter or CSRF origin/referer check) rejects this origin.`
      return `Still ${v.status} without Origin/Referer but a different answer: the origin takes part in the decision.`
    case 'preflight': {
      const verdict = evaluatePreflight(original.request, v)
      if (!verdict.ok) return `Preflight fails (${verdict.reason}): CORS; a browser never sends the actual request. Allow this origin, method and headers on OPTIONS.`
      return `Preflight passes (${verdict.reason}): CORS does not stop a browser here.`
    }
    case 'minimal-body':
      if (same) return `Same ${o.status} with a minimal body: the payload is not what is denied.`
      if (v.status === o.status) return `Still ${v.status} with a minimal body but a different answer: the payload triggered one denial, and another layer refuses the minimal request too.`
      if (v.status === 415) return `A minimal body gets 415: the server checks media types; compare the Content-Type with what the endpoint accepts.`
      // Any other answer means the minimal request got further than the original did.
      return `The ${o.status} disappears with a minimal body (${changed}): a WAF or body rule inspects the payload.`
    case 'other-content-type': {
      const type = getHeader(record.request.headers, 'content-type') ?? 'another type'
      if (same) return `Same ${o.status} as ${type}: the content type is not the trigger.`
      if (v.status === 415) return `${type} gets 415: the server checks media types, and accepted the original one; the ${o.status} comes from elsewhere.`
      if (v.status === o.status) return `Still ${v.status} as ${type} but a different answer: the content type changes which layer refuses.`
      return `The ${o.status} disappears as ${type} (${changed}): a rule parses the original content type (WAF body parsing or a content-type restriction).`
    }
    case 'get':
      if (same) return `GET is denied too (${v.status}): not a method-specific rule.`
      if ((passes || v.status === 404) && bodyAlonePasses) {
        return `GET passes (${changed}), but so does ${original.request.method} with a minimal body: the payload, not the method, explains it.`
      }
      if (passes || v.status === 404) {
        return `GET passes, ${original.request.method} is denied (${changed}): a method restriction (nginx limit_except, IIS verb filtering, WebDAV) or a CSRF check that guards only unsafe methods.`
      }
      if (v.status === 405) return 'GET gets 405: the endpoint does not take GET, so this shows nothing about the method.'
      if (v.status === o.status) return `GET is refused too (${v.status}) but with a different answer: the method decides which layer refuses.`
      return `GET gets a different answer (${changed}): the method takes part in the decision.`
    case 'minimal':
      if (same) return `Still ${o.status} with everything irrelevant removed: this is the minimal reproduction.`
      return `Removing all irrelevant parts together changes the answer (${changed}): they matter only in combination; the reproduction keeps them.`
    case 'original':
      return ''
  }
}

function concludeOriginal(original: ProbeRecord): string {
  if (original.error) return `No answer: ${original.error.message}.`
  const r = original.response as ProbeResponse
  if (r.status >= 300 && r.status < 400) {
    const location = r.headers.location
    return `Redirect${location ? ` to ${location}` : ''}; the doctor does not follow redirects. A redirect to a login page means the session is missing or not accepted.`
  }
  if (!isDenialStatus(r.status)) return `Not denied (${r.status}).`
  if (r.status === 429) return 'Rate limited (429): no variations sent, each would spend more of the quota.' + (r.headers['retry-after'] ? ` Retry after ${r.headers['retry-after']}.` : '')
  return `Denied as sent (${r.status}).`
}

/**
 * Explains what the differences between the original and each variation prove. Pure: it
 * reads the records and never sends anything. The first record must be the original.
 */
export function compareProbes(records: ProbeRecord[]): Finding[] {
  const original = records.find((r) => r.variation === 'original')
  if (!original) return []
  const findings: Finding[] = [{ probe: 'original', status: original.response?.status ?? null, conclusion: concludeOriginal(original) }]
  if (!original.response) return findings
  const withResponse = original as ProbeRecord & { response: ProbeResponse }
  const minimalBody = records.find((r) => r.variation === 'minimal-body')?.response
  // Any other status with a minimal body (even 400/422 from validation) means the request got past the filter.
  const bodyAlonePasses = minimalBody !== undefined && minimalBody.status !== original.response.status && minimalBody.status !== 415
  for (const record of records) {
    if (record.variation === 'original') continue
    const conclusion = concludeVariation(record, withResponse, bodyAlonePasses)
    findings.push({ probe: record.variation, status: record.response?.status ?? null, conclusion })
    if (record.response?.status === 429 && original.response.status !== 429) {
      findings.push({ probe: record.variation, status: 429, conclusion: 'Rate limited while probing: later answers may reflect the limit, not the variation.' })
    }
  }
  return findings
}

/** Variations that only remove something and may be combined into one smaller request. */
export const removalVariations: readonly Variation[] = ['no-credentials', 'no-cookies', 'no-origin', 'minimal-body', 'get']

/**
 * The removals that did not change the denial: each can be left out of the reproduction.
 * Only meaningful when the original was denied.
 */
export function listIrrelevantParts(records: ProbeRecord[]): Variation[] {
  const original = records.find((r) => r.variation === 'original')
  if (!original?.response || !isDenialStatus(original.response.status)) return []
  const o = original.response
  return records
    .filter((r) => removalVariations.includes(r.variation) && r.response && isSameDenial(o, r.response))
    .map((r) => r.variation)
}

/** A record's outcome in a few words, for tables: the status, or why there was none. */
export function describeProbeOutcome(record: ProbeRecord): string {
  if (record.error) return `no answer (${record.error.message})`
  return String(record.response?.status)
}

/**
 * The smallest request that still gets the original's denial (by length of its curl line),
 * preferring the verified combined `minimal` probe. The original when nothing smaller does.
 */
export function chooseMinimal(records: ProbeRecord[]): ProbeRecord | undefined {
  const original = records.find((r) => r.variation === 'original')
  if (!original?.response) return original
  const o = original.response
  // Only removals: a swapped content type or a preflight is not the user's request made smaller.
  const candidates = records.filter((r) => (removalVariations.includes(r.variation) || r.variation === 'minimal') && r.response && isSameDenial(o, r.response))
  let best = original
  let bestSize = renderCurl(original.request, { redact: false }).length
  for (const record of candidates) {
    const size = renderCurl(record.request, { redact: false }).length
    if (size < bestSize) { best = record; bestSize = size }
  }
  return best
}
