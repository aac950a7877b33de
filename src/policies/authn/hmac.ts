import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { Clock } from '../../core/clock.js'
import type { JsonObject } from '../../core/json.js'
import type { RequestContext } from '../../gateway/context.js'
import { allow, type Allow, type ConsumerRecord } from '../define.js'
import { RANK, consumerIdentity, deepFreeze, failure, requireConsumer, resolveSecretRef, type AuthorizationParts, type MethodCheck, type MethodFailure } from './method.js'
import { rules } from './rules.js'

/**
 * Signed requests in the style of draft-cavage-http-signatures-12 with HMAC-SHA256:
 *
 *     Authorization: Signature keyId="app-1",algorithm="hmac-sha256",
 *       headers="(request-target) host date digest",signature="<base64>"
 *
 * (the same parameters may come in a `Signature:` header instead). The signing string has
 * one line per listed header, `name: value`, joined by "\n"; `(request-target)` is the
 * lower-case method, a space and the request target as sent (path and query). The
 * signature is base64 of HMAC-SHA256(secret, signing string). A request with a body must
 * also sign a body digest: `Digest: SHA-256=<base64>` (RFC 3230) or
 * `Content-Digest: sha-256=:<base64>:` (RFC 9530); sha-512 works too.
 */
export const SIGNATURE_SCHEME = 'draft-cavage-http-signatures-12, hmac-sha256'

const MAX_PARAMS_CHARS = 8192
const MAX_SIGNED_HEADERS = 32
const MAX_KEY_ID_CHARS = 256
/** HMAC-SHA256 output; anything else cannot be a signature of ours. */
const SIGNATURE_BYTES = 32
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const ACCEPTED_ALGORITHMS = new Set(['hmac-sha256', 'hs2019'])

/** `auth.hmac` after schema parsing. */
export interface HmacOptions {
  keys: { id: string; secret: string; consumer: string }[]
  clockSkewSeconds: number
  requiredHeaders: string[]
}

interface HmacKey {
  secret: Buffer
  verdict: Allow
}

interface SignatureParams {
  keyId: string
  algorithm?: string
  headers: string[]
  signature: Buffer
}

/**
 * Builds the draft-cavage signing string for a request. Returns the name of the first
 * listed header the request lacks instead, so the caller can say which one.
 */
export function buildSigningString(method: string, target: string, headers: IncomingHttpHeaders, names: readonly string[]): { ok: true; text: string } | { ok: false; missing: string } {
  const lines: string[] = []
  for (const name of names) {
    if (name === '(request-target)') {
      lines.push(`(request-target): ${method.toLowerCase()} ${target}`)
      continue
    }
    const value = headers[name]
    if (value === undefined) return { ok: false, missing: name }
    lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : value.trim()}`)
  }
  return { ok: true, text: lines.join('\n') }
}

/**
 * Signs a request the way `auth.hmac` verifies it, and returns the Authorization value.
 * For clients, tests and docs; `headers` must already hold every listed header.
 */
export function signRequest(input: {
  method: string
  target: string
  headers: Record<string, string>
  keyId: string
  secret: string
  signedHeaders: readonly string[]
}): string {
  const lower: IncomingHttpHeaders = {}
  for (const [k, v] of Object.entries(input.headers)) lower[k.toLowerCase()] = v
  const built = buildSigningString(input.method, input.target, lower, input.signedHeaders)
  if (!built.ok) throw new Error(`signRequest: header '${built.missing}' is listed but not given`)
  const signature = createHmac('sha256', input.secret).update(built.text).digest('base64')
  return `Signature keyId="${input.keyId}",algorithm="hmac-sha256",headers="${input.signedHeaders.join(' ')}",signature="${signature}"`
}

/** `Digest: SHA-256=<base64>` for a body, as `auth.hmac` expects it. */
export function bodyDigest(body: Buffer | string): string {
  return `SHA-256=${createHash('sha256').update(body).digest('base64')}`
}

/**
 * Parses `keyId="..",algorithm="..",headers="..",signature=".."` with a single left-to-right
 * scan (no regex backtracking over attacker input). Unknown parameters are ignored, as the
 * draft asks; duplicates are refused so two parsers cannot disagree about which one counts.
 */
export function parseSignatureParams(text: string): { ok: true; params: Map<string, string> } | { ok: false; reason: string } {
  if (text.length > MAX_PARAMS_CHARS) return { ok: false, reason: 'parameters too long' }
  const params = new Map<string, string>()
  let i = 0
  const n = text.length
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === ',' || text[i] === '\t')) i++
    if (i >= n) break
    const eq = text.indexOf('=', i)
    if (eq === -1) return { ok: false, reason: 'a parameter has no value' }
    const name = text.slice(i, eq).trim().toLowerCase()
    if (name === '' || name.length > 32) return { ok: false, reason: 'bad parameter name' }
    let value: string
    if (text[eq + 1] === '"') {
      const close = text.indexOf('"', eq + 2)
      if (close === -1) return { ok: false, reason: 'unterminated quoted value' }
      value = text.slice(eq + 2, close)
      i = close + 1
    } else {
      const comma = text.indexOf(',', eq + 1)
      const end = comma === -1 ? n : comma
      value = text.slice(eq + 1, end).trim()
      i = end
    }
    if (params.has(name)) return { ok: false, reason: `parameter '${name}' given twice` }
    params.set(name, value)
  }
  return { ok: true, params }
}

/**
 * Compiles the `hmac` method. Checks, in order: parameters, key id, coverage of the required
 * headers (and of a body digest when there is a body), the signature (constant-time), then
 * the freshness of the signed Date and the digest against the body. Freshness and digest
 * come after the signature so they are only reported for requests that really came from
 * the key holder.
 */
export function compileHmac(
  options: HmacOptions,
  clock: Clock,
  consumersByName: ReadonlyMap<string, ConsumerRecord>,
  env: Record<string, string | undefined>,
  where: string,
): { check: MethodCheck; challenge: string } {
  const keys = new Map<string, HmacKey>()
  options.keys.forEach((key, i) => {
    const consumer = requireConsumer(consumersByName, key.consumer, `hmac.keys[${i}].consumer`, where)
    const identity = consumerIdentity(consumer, 'hmac', { keyId: key.id })
    keys.set(key.id, {
      secret: resolveSecretRef(key.secret, `hmac.keys[${i}].secret`, where, env),
      verdict: deepFreeze(allow({ identity, detail: { method: 'hmac', consumer: consumer.name, keyId: key.id } })),
    })
  })
  const required = options.requiredHeaders
  const skewMs = options.clockSkewSeconds * 1000
  const challenge = `Signature realm="gatehouse",headers="${required.join(' ')}"`

  function malformed(reason: string, extra: JsonObject = {}): MethodFailure {
    return failure(
      rules.hmacMalformed,
      RANK.malformed,
      `The request signature is malformed: ${reason}.`,
      `The caller's Signature parameters cannot be used (${reason}). It must follow ${SIGNATURE_SCHEME}, as described in the docs of auth.hmac.`,
      { reason, ...extra },
    )
  }

  function missingHeader(header: string, reason: 'not-signed' | 'absent', keyId: string, signed: string[]): MethodFailure {
    return failure(
      rules.hmacMissingHeader,
      55,
      reason === 'absent' ? `The signature covers the '${header}' header, but the request does not carry it.` : `The signature must cover the '${header}' header.`,
      reason === 'absent'
        ? `Key '${keyId}' signed '${header}' but the request reached the gateway without it; a proxy between the caller and the gateway may strip it.`
        : `Route requires signed headers ${required.join(', ')}${header === 'digest' ? ' and a body digest (Digest or Content-Digest) for requests with a body' : ''} (auth.hmac.requiredHeaders); key '${keyId}' signed only: ${signed.join(' ')}.`,
      { keyId, header, reason, signedHeaders: signed },
    )
  }

  function parse(ctx: RequestContext, authorization: AuthorizationParts): SignatureParams | MethodFailure | undefined {
    let text: string
    if (authorization.scheme === 'signature') text = authorization.credentials
    else {
      const header = ctx.headers.signature
      if (header === undefined) return undefined
      // RFC 9421 reuses the Signature header name with another format; say so plainly.
      if (ctx.headers['signature-input'] !== undefined) return malformed('RFC 9421 signatures (Signature-Input) are not supported; sign as draft-cavage-http-signatures-12 describes')
      text = Array.isArray(header) ? header.join(',') : header
    }
    const parsed = parseSignatureParams(text)
    if (!parsed.ok) return malformed(parsed.reason)
    const p = parsed.params
    const keyId = p.get('keyid')
    const signature = p.get('signature')
    if (keyId === undefined || keyId === '') return malformed('keyId is missing')
    if (keyId.length > MAX_KEY_ID_CHARS) return malformed('keyId is too long')
    if (signature === undefined || signature === '') return malformed('signature is missing')
    const algorithm = p.get('algorithm')?.toLowerCase()
    if (algorithm !== undefined && !ACCEPTED_ALGORITHMS.has(algorithm)) return malformed(`algorithm '${algorithm.slice(0, 32)}' is not supported; use hmac-sha256`, { keyId })
    if (!BASE64.test(signature)) return malformed('signature is not base64', { keyId })
    const decoded = Buffer.from(signature, 'base64')
    if (decoded.length !== SIGNATURE_BYTES) return malformed('signature is not an HMAC-SHA256 value (32 bytes)', { keyId })
    // The draft's default when `headers` is absent is the Date header alone.
    const headers = (p.get('headers') ?? 'date').toLowerCase().split(' ').filter((h) => h !== '')
    if (headers.length === 0 || headers.length > MAX_SIGNED_HEADERS) return malformed(`headers must list 1 to ${MAX_SIGNED_HEADERS} names`, { keyId })
    return { keyId, algorithm, headers, signature: decoded }
  }

  const check: MethodCheck = (ctx, authorization) => {
    const params = parse(ctx, authorization)
    if (params === undefined || 'kind' in params) return params
    const { keyId, headers: signed } = params
    const key = keys.get(keyId)
    if (key === undefined) {
      return failure(
        rules.hmacUnknownKey,
        RANK.unknown,
        `The signing key '${keyId}' is not known here.`,
        `No auth.hmac.keys[].id is '${keyId}' on ${where}. Add the key, or check which environment the caller's key belongs to.`,
        { keyId },
      )
    }
    for (const name of required) if (!signed.includes(name)) return missingHeader(name, 'not-signed', keyId, signed)
    const body = ctx.body
    const hasBody = body.kind === 'buffered' ? body.bytes.length > 0 : body.kind === 'too-large' || body.kind === 'aborted'
    const digestHeader = signed.includes('content-digest') ? 'content-digest' : signed.includes('digest') ? 'digest' : undefined
    if (hasBody && digestHeader === undefined) return missingHeader('digest', 'not-signed', keyId, signed)

    const built = buildSigningString(ctx.method, ctx.url, ctx.headers, signed)
    if (!built.ok) return missingHeader(built.missing, 'absent', keyId, signed)
    const expected = createHmac('sha256', key.secret).update(built.text).digest()
    if (!timingSafeEqual(expected, params.signature)) {
      return failure(
        rules.hmacBadSignature,
        RANK.badProof,
        'The request signature does not match the request.',
        `The signature by key '${keyId}' over "${signed.join(' ')}" does not verify. Either the caller's secret differs from auth.hmac.keys[].secret, or a signed value changed on the way (a proxy rewriting Host, a re-encoded path), or it builds the signing string differently (${SIGNATURE_SCHEME}).`,
        { keyId, signedHeaders: signed },
      )
    }

    const dateText = ctx.headers.date
    const date = dateText === undefined ? Number.NaN : Date.parse(dateText)
    if (Number.isNaN(date)) return malformed('the Date header is missing or unreadable', { keyId })
    const now = clock.now()
    if (Math.abs(now - date) > skewMs) {
      const skewSeconds = Math.round((date - now) / 1000)
      return failure(
        rules.hmacClockSkew,
        RANK.verifiedButRefused,
        `The signed Date is ${Math.abs(skewSeconds)} s ${skewSeconds < 0 ? 'old' : 'in the future'}; at most ${options.clockSkewSeconds} s is accepted.`,
        `Key '${keyId}' signed a Date ${Math.abs(skewSeconds)} s ${skewSeconds < 0 ? 'behind' : 'ahead of'} the gateway clock; auth.hmac.clockSkewSeconds is ${options.clockSkewSeconds}. The caller must sign each request when it sends it, and one of the two clocks is off if this persists.`,
        { keyId, skewSeconds, allowedSeconds: options.clockSkewSeconds },
      )
    }

    if (digestHeader !== undefined) {
      const problem = checkDigest(ctx.headers[digestHeader], digestHeader, body)
      if (problem !== undefined) {
        return failure(
          rules.hmacDigestMismatch,
          RANK.verifiedButRefused,
          `The body does not match the signed ${digestHeader === 'digest' ? 'Digest' : 'Content-Digest'} header (${problem}).`,
          `Key '${keyId}' signed a ${digestHeader} header that does not fit the body received (${problem}). The body may have been changed after signing, or the caller hashes something other than the exact bytes it sends.`,
          { keyId, header: digestHeader, reason: problem },
        )
      }
    }
    return key.verdict
  }

  return { check, challenge }
}

/** Returns why the body does not match the digest header, or undefined when it does. */
function checkDigest(value: string | string[] | undefined, header: 'digest' | 'content-digest', body: RequestContext['body']): string | undefined {
  if (value === undefined) return 'header absent'
  if (body.kind === 'too-large' || body.kind === 'aborted') return 'the body could not be read in full'
  const bytes = body.kind === 'buffered' ? body.bytes : Buffer.alloc(0)
  const text = Array.isArray(value) ? value.join(',') : value
  let checked = false
  for (const part of text.split(',', 8)) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    const algorithm = part.slice(0, eq).trim().toLowerCase()
    if (algorithm !== 'sha-256' && algorithm !== 'sha-512') continue
    let encoded = part.slice(eq + 1).trim()
    // RFC 9530 values are structured-field byte sequences: base64 between colons.
    if (header === 'content-digest') {
      if (encoded.length < 2 || !encoded.startsWith(':') || !encoded.endsWith(':')) return 'value is not :base64:'
      encoded = encoded.slice(1, -1)
    }
    const claimed = Buffer.from(encoded, 'base64')
    const actual = createHash(algorithm === 'sha-256' ? 'sha256' : 'sha512').update(bytes).digest()
    if (claimed.length !== actual.length || !timingSafeEqual(claimed, actual)) return `${algorithm} differs`
    checked = true
  }
  return checked ? undefined : 'no sha-256 or sha-512 value'
}
