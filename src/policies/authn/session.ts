import { createHmac, timingSafeEqual } from 'node:crypto'
import { parseCookie } from 'cookie'
import type { Clock } from '../../core/clock.js'
import type { JsonObject } from '../../core/json.js'
import type { Identity } from '../../gateway/context.js'
import { allow, type Allow, type ConsumerRecord } from '../define.js'
import { ExpiringCache, RANK, deepFreeze, failure, resolveSecretRef, shortDigest, type MethodCheck, type MethodFailure } from './method.js'
import { rules } from './rules.js'

/** What a session cookie carries. `exp` and `iat` are seconds since the epoch. */
export interface SessionPayload {
  sub: string
  tenant?: string
  scopes?: string[]
  exp: number
  iat?: number
}

/** `auth.session` after schema parsing. */
export interface SessionOptions {
  cookie: string
  secret: string
  previousSecrets?: string[]
  maxAgeSeconds: number
}

/** Browsers cap a cookie near 4 KB; a longer value is not one of ours. */
const MAX_COOKIE_CHARS = 4096
const MAX_COOKIE_HEADER_CHARS = 16_384
const MAX_SCOPES = 256
const BASE64URL = /^[A-Za-z0-9_-]+$/
/** Verified cookies kept per config load; a reload (which may change the secret) starts afresh. */
const MAX_REMEMBERED = 10_000

/**
 * Signs a session for the cookie `auth.session` verifies: base64url(JSON payload), a dot,
 * and base64url(HMAC-SHA256(secret, first part)). For the application that logs users in,
 * for tests and for docs.
 */
export function signSession(payload: SessionPayload, secret: string | Buffer): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

/**
 * Compiles the `session` method: a signed cookie proves who the browser's user is. The
 * identity's method is 'session', which tells the csrf layer the request rides on ambient
 * (cookie) credentials. Signatures are compared in constant time; previous secrets are
 * accepted too, so a secret can be rotated without logging everyone out.
 */
export function compileSession(
  options: SessionOptions,
  clock: Clock,
  consumersByName: ReadonlyMap<string, ConsumerRecord>,
  env: Record<string, string | undefined>,
  where: string,
): { check: MethodCheck } {
  const secrets = [resolveSecretRef(options.secret, 'session.secret', where, env)]
  options.previousSecrets?.forEach((s, i) => secrets.push(resolveSecretRef(s, `session.previousSecrets[${i}]`, where, env)))
  const name = options.cookie
  const marker = `${name}=`
  const verifiedCookies = new ExpiringCache<{ body: string; verdict: Allow }>(MAX_REMEMBERED)

  function invalid(reason: string, extra: JsonObject = {}): MethodFailure {
    return failure(
      rules.sessionInvalid,
      RANK.badProof,
      'Your session cookie is not valid; sign in again.',
      `The ${name} cookie cannot be trusted (${reason}). If auth.session.secret was changed recently, list the old one in auth.session.previousSecrets until old sessions expire.`,
      { cookie: name, reason, ...extra },
    )
  }

  function signatureMatches(body: string, signature: Buffer): boolean {
    let match = false
    // Every secret is tried, so timing does not tell which one (if any) matched.
    for (const secret of secrets) {
      const expected = createHmac('sha256', secret).update(body).digest()
      if (timingSafeEqual(expected, signature)) match = true
    }
    return match
  }

  const check: MethodCheck = (ctx) => {
    const header = ctx.headers.cookie
    if (header === undefined || header.length > MAX_COOKIE_HEADER_CHARS || !header.includes(marker)) return undefined
    const value = parseCookie(header)[name]
    if (value === undefined) return undefined
    if (value.length > MAX_COOKIE_CHARS) return invalid('too long')
    const dot = value.indexOf('.')
    if (dot <= 0 || dot !== value.lastIndexOf('.')) return invalid('not <payload>.<signature>')
    const body = value.slice(0, dot)
    const signatureText = value.slice(dot + 1)
    if (!BASE64URL.test(body) || !BASE64URL.test(signatureText)) return invalid('not base64url')
    const nowMs = clock.now()
    // A browser sends the same cookie on every request: once verified, it is answered from
    // memory until it expires. The entry is keyed by the signature and must hold the same
    // payload, so only a cookie that verified before can take this path.
    const remembered = verifiedCookies.get(signatureText, nowMs)
    if (remembered !== undefined && remembered.body === body) return remembered.verdict
    const signature = Buffer.from(signatureText, 'base64url')
    if (signature.length !== 32) return invalid('signature is not HMAC-SHA256')
    const sessionId = shortDigest(signatureText)
    if (!signatureMatches(body, signature)) return invalid('signature does not verify', { sessionId })

    let payload: unknown
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    } catch {
      return invalid('payload is not JSON', { sessionId })
    }
    const p = payload as Partial<Record<keyof SessionPayload, unknown>>
    if (typeof payload !== 'object' || payload === null) return invalid('payload is not an object', { sessionId })
    if (typeof p.sub !== 'string' || p.sub === '' || p.sub.length > 256) return invalid('sub is missing', { sessionId })
    if (typeof p.exp !== 'number' || !Number.isFinite(p.exp)) return invalid('exp is missing', { sessionId })

    const nowSeconds = nowMs / 1000
    const tooOld = typeof p.iat === 'number' && nowSeconds >= p.iat + options.maxAgeSeconds
    if (nowSeconds >= p.exp || tooOld) {
      const ago = Math.round(nowSeconds - (tooOld ? (p.iat as number) + options.maxAgeSeconds : p.exp))
      return failure(
        rules.sessionExpired,
        RANK.verifiedButRefused,
        'Your session has expired; sign in again.',
        tooOld
          ? `The session of '${p.sub}' is older than auth.session.maxAgeSeconds (${options.maxAgeSeconds} s), by ${ago} s.`
          : `The session of '${p.sub}' expired ${ago} s ago (its exp). The application must renew sessions before they expire.`,
        { cookie: name, sessionId, sub: p.sub, expiredSecondsAgo: ago, reason: tooOld ? 'max-age' : 'exp' },
      )
    }

    const known = consumersByName.get(p.sub)
    let scopes = Array.isArray(p.scopes) ? p.scopes.filter((s): s is string => typeof s === 'string' && s !== '').slice(0, MAX_SCOPES) : []
    if (known !== undefined && known.scopes.length > 0) scopes = [...new Set([...scopes, ...known.scopes])]
    // The operator's consumer entry outranks what the cookie says about the tenant.
    const tenant = known?.tenant ?? (typeof p.tenant === 'string' && p.tenant !== '' ? p.tenant : undefined)
    const claims: JsonObject = { sub: p.sub, exp: p.exp, sessionId }
    const identity: Identity = tenant === undefined ? { consumer: p.sub, method: 'session', scopes, claims } : { consumer: p.sub, tenant, method: 'session', scopes, claims }
    const verdict = deepFreeze(allow({ identity, detail: { method: 'session', consumer: p.sub, sessionId } }))
    const endsAt = Math.min(p.exp, typeof p.iat === 'number' ? p.iat + options.maxAgeSeconds : Number.POSITIVE_INFINITY) * 1000
    verifiedCookies.set(signatureText, { body, verdict }, endsAt)
    return verdict
  }

  return { check }
}
