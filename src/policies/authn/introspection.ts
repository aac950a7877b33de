import { createHash } from 'node:crypto'
import type { Clock } from '../../core/clock.js'
import type { JsonObject } from '../../core/json.js'
import type { Identity } from '../../gateway/context.js'
import { allow, type Allow, type ConsumerRecord } from '../define.js'
import { ExpiringCache, RANK, failure, isPromise, resolveSecretRef, type MethodCheck, type MethodFailure, type MethodOutcome } from './method.js'
import { rules } from './rules.js'
import { readBoundedText } from '../../core/read-bounded.js'

/** `auth.introspection` after schema parsing. */
export interface IntrospectionOptions {
  url: string
  clientId: string
  clientSecret: string
  cacheSeconds: number
  timeoutMs: number
}

/** The members of an RFC 7662 §2.2 answer the gateway uses. */
export interface IntrospectionAnswer {
  active: boolean
  scope?: string
  client_id?: string
  username?: string
  sub?: string
  exp?: number
  nbf?: number
  iss?: string
  aud?: string | string[]
}

/** One lookup's result: the answer, or why there is none. */
export type IntrospectionResult = { kind: 'answer'; answer: IntrospectionAnswer } | { kind: 'unavailable'; reason: string }

const MAX_TOKEN_CHARS = 4096
const MAX_ANSWER_BYTES = 64 * 1024
const MAX_CACHED = 10_000
const MAX_SCOPES = 256
/** After a failed call, how long new lookups fail fast before the server is tried again. */
const FAILURE_RETRY_MS = 1000

interface ClientOptions {
  url: string
  authorization: string
  cacheSeconds: number
  timeoutMs: number
  clock: Clock
}

/**
 * Asks an RFC 7662 introspection endpoint about bearer tokens. Answers, active or not, are
 * cached under the sha256 of the token (the token itself is never kept) for `cacheSeconds`,
 * and an active answer never outlives its own `exp`. Concurrent lookups of one token share
 * one request. Failures are not cached, but for a second after one, new lookups fail fast
 * rather than pile onto a server that is down. Lives in
 * `deps.shared`, so a config reload keeps the cache.
 */
export class IntrospectionClient {
  /** Requests sent so far; for tests and metrics. */
  requestCount = 0
  private options: ClientOptions
  private readonly cache = new ExpiringCache<IntrospectionAnswer>(MAX_CACHED)
  private readonly inflight = new Map<string, Promise<IntrospectionResult>>()
  private lastFailure: { at: number; reason: string } | undefined

  constructor(options: ClientOptions) {
    this.options = options
  }

  /** Applies the options of a new config load; a changed endpoint or client drops the cache. */
  configure(options: ClientOptions): void {
    if (options.url !== this.options.url || options.authorization !== this.options.authorization) this.cache.clear()
    this.options = options
  }

  /**
   * The cached answer synchronously, or a Promise of a fresh lookup. `key` is the token's
   * sha256 in hex, which the caller has already computed.
   */
  lookup(token: string, key: string): IntrospectionResult | Promise<IntrospectionResult> {
    const now = this.options.clock.now()
    const cached = this.cache.get(key, now)
    if (cached !== undefined) return { kind: 'answer', answer: cached }
    // Right after a failure, new lookups fail fast instead of each dialling a server that
    // is down: an outage must not turn every incoming request into an outgoing one.
    if (this.lastFailure !== undefined && now - this.lastFailure.at < FAILURE_RETRY_MS) {
      return { kind: 'unavailable', reason: `${this.lastFailure.reason} (not retried for ${FAILURE_RETRY_MS} ms)` }
    }
    let pending = this.inflight.get(key)
    if (pending === undefined) {
      pending = this.ask(token, key)
        .then((result) => {
          this.lastFailure = result.kind === 'unavailable' ? { at: this.options.clock.now(), reason: result.reason } : undefined
          return result
        })
        .finally(() => this.inflight.delete(key))
      this.inflight.set(key, pending)
    }
    return pending
  }

  private async ask(token: string, key: string): Promise<IntrospectionResult> {
    this.requestCount++
    const { url, authorization, timeoutMs } = this.options
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      })
    } catch (error) {
      const name = error instanceof Error ? error.name : ''
      if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'unavailable', reason: `no answer within ${timeoutMs} ms` }
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)
      return { kind: 'unavailable', reason: `unreachable: ${cause}` }
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined)
      const hint = response.status === 401 || response.status === 403 ? ' (the gateway\'s client credentials were refused)' : ''
      return { kind: 'unavailable', reason: `answered HTTP ${response.status}${hint}` }
    }
    const text = await readBoundedText(response, MAX_ANSWER_BYTES)
    if (text === undefined) return { kind: 'unavailable', reason: `the answer is larger than ${MAX_ANSWER_BYTES} bytes or was cut off` }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return { kind: 'unavailable', reason: 'the answer is not JSON' }
    }
    const answer = toAnswer(parsed)
    if (answer === undefined) return { kind: 'unavailable', reason: 'the answer has no boolean "active" member' }
    const now = this.options.clock.now()
    let expiresAt = now + this.options.cacheSeconds * 1000
    if (answer.active && answer.exp !== undefined) expiresAt = Math.min(expiresAt, answer.exp * 1000)
    if (expiresAt > now) this.cache.set(key, Object.freeze(answer), expiresAt)
    return { kind: 'answer', answer }
  }
}

/** Keeps only well-typed members, so later code never trusts the server's JSON shape. */
function toAnswer(value: unknown): IntrospectionAnswer | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (typeof v.active !== 'boolean') return undefined
  const answer: IntrospectionAnswer = { active: v.active }
  if (!v.active) return answer
  for (const field of ['scope', 'client_id', 'username', 'sub', 'iss'] as const) {
    const member = v[field]
    if (typeof member === 'string' && member !== '' && member.length <= 4096) answer[field] = member
  }
  for (const field of ['exp', 'nbf'] as const) {
    const member = v[field]
    if (typeof member === 'number' && Number.isFinite(member)) answer[field] = member
  }
  if (typeof v.aud === 'string' || (Array.isArray(v.aud) && v.aud.every((a) => typeof a === 'string'))) answer.aud = v.aud as string | string[]
  return answer
}


/** True when a bearer token has the compact JWS shape (three dot-separated parts). */
export function looksLikeJwt(token: string): boolean {
  const first = token.indexOf('.')
  if (first <= 0) return false
  const second = token.indexOf('.', first + 1)
  return second > first + 1 && token.indexOf('.', second + 1) === -1
}

/**
 * Compiles the `introspection` method. With `jwt` also configured on the route, bearer
 * tokens shaped like a JWT go to `jwt` and the others (opaque tokens) come here.
 */
export function compileIntrospection(
  options: IntrospectionOptions,
  clock: Clock,
  consumersByName: ReadonlyMap<string, ConsumerRecord>,
  shared: Map<string, unknown>,
  env: Record<string, string | undefined>,
  where: string,
  alsoJwt: boolean,
): { check: MethodCheck } {
  const secret = resolveSecretRef(options.clientSecret, 'introspection.clientSecret', where, env).toString('utf8')
  // RFC 6749 §2.3.1: client id and secret are form-urlencoded before the Basic encoding.
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`
  const clientOptions: ClientOptions = { url: options.url, authorization, cacheSeconds: options.cacheSeconds, timeoutMs: options.timeoutMs, clock }
  const sharedKey = `authn:introspection:${options.url}|${options.clientId}`
  let client = shared.get(sharedKey)
  if (client instanceof IntrospectionClient) client.configure(clientOptions)
  else {
    client = new IntrospectionClient(clientOptions)
    shared.set(sharedKey, client)
  }
  const introspection = client as IntrospectionClient
  // Verdicts for cached answers, per config load (consumer entries may change on reload):
  // a hot token costs one sha256 and two map lookups, no allocation.
  const verdicts = new WeakMap<IntrospectionAnswer, Allow | MethodFailure>()

  function inactive(reason: string, tokenId: string, extra: JsonObject = {}): MethodFailure {
    return failure(
      rules.tokenInactive,
      RANK.badProof,
      'The access token is not active (revoked, expired or unknown).',
      `The authorization server at ${options.url} says the token (sha256 ${tokenId}…) is not active: ${reason}. The caller needs a new token; if tokens are refused right after being issued, check that the gateway's client '${options.clientId}' may introspect tokens of this issuer.`,
      { tokenId, reason, ...extra },
      'The token is not active',
    )
  }

  function judge(answer: IntrospectionAnswer, tokenId: string): Allow | MethodFailure {
    if (!answer.active) return inactive('active is false', tokenId)
    const now = clock.now() / 1000
    if (answer.exp !== undefined && now >= answer.exp) return inactive('its exp is past', tokenId, { exp: answer.exp })
    if (answer.nbf !== undefined && now < answer.nbf) return inactive('its nbf is in the future', tokenId, { nbf: answer.nbf })
    const name = answer.sub ?? answer.client_id ?? answer.username
    if (name === undefined || name.length > 256) return inactive('the answer names no sub, client_id or username', tokenId)
    const known = consumersByName.get(name)
    let scopes = answer.scope === undefined ? [] : answer.scope.split(' ').filter((s) => s !== '').slice(0, MAX_SCOPES)
    if (known !== undefined && known.scopes.length > 0) scopes = [...new Set([...scopes, ...known.scopes])]
    const claims: JsonObject = { tokenId }
    if (answer.sub !== undefined) claims.sub = answer.sub
    if (answer.client_id !== undefined) claims.client_id = answer.client_id
    if (answer.iss !== undefined) claims.iss = answer.iss
    if (answer.exp !== undefined) claims.exp = answer.exp
    const identity: Identity = known?.tenant === undefined ? { consumer: name, method: 'introspection', scopes, claims } : { consumer: name, tenant: known.tenant, method: 'introspection', scopes, claims }
    return allow({ identity, detail: { method: 'introspection', consumer: name, tokenId } })
  }

  function decide(result: IntrospectionResult, tokenId: string): Allow | MethodFailure {
    if (result.kind === 'unavailable') {
      return failure(
        rules.introspectionUnavailable,
        RANK.unavailable,
        'The token cannot be checked right now; retry shortly.',
        `Introspection at ${options.url} failed: ${result.reason}. Check the URL, auth.introspection.clientId/clientSecret and that the gateway can reach the server; bearer tokens are refused until it answers.`,
        { reason: result.reason },
      )
    }
    const answer = result.answer
    // Verdicts with exp/nbf depend on the time, so only the plain ones are remembered.
    if (answer.exp !== undefined || answer.nbf !== undefined) return judge(answer, tokenId)
    let verdict = verdicts.get(answer)
    if (verdict === undefined) {
      verdict = judge(answer, tokenId)
      verdicts.set(answer, verdict)
    }
    return verdict
  }

  const check: MethodCheck = (_ctx, authorization) => {
    if (authorization.scheme !== 'bearer') return undefined
    const token = authorization.credentials
    if (alsoJwt && looksLikeJwt(token)) return undefined
    if (token === '') return inactive('the token is empty', 'none')
    if (token.length > MAX_TOKEN_CHARS) return inactive(`the token is longer than ${MAX_TOKEN_CHARS} characters, so it was not sent`, 'none')
    const digest = createHash('sha256').update(token).digest('hex')
    const tokenId = digest.slice(0, 8)
    const result = introspection.lookup(token, digest)
    if (isPromise<IntrospectionResult>(result)) return result.then((r): MethodOutcome => decide(r, tokenId))
    return decide(result, tokenId)
  }

  return { check }
}
