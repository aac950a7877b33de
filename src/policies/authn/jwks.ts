import { createLocalJWKSet, errors, type CryptoKey, type JWSHeaderParameters, type JSONWebKeySet, type LocalJWKSet } from 'jose'
import type { Clock } from '../../core/clock.js'
import { readBoundedText } from '../../core/read-bounded.js'

/** How the cache behaves; set at every config load, so a reload can change it. */
export interface JwksCacheOptions {
  url: string
  clock: Clock
  /** A fetched key set is used this long before it is fetched again. */
  cacheSeconds: number
  /** At most one refetch per this many seconds because of an unknown `kid`. */
  cooldownSeconds: number
  /** Give up on a fetch after this long. Default 5000. */
  timeoutMs?: number
}

/** Why no key could be produced. */
export type JwksFailure =
  | { kind: 'unavailable'; reason: string }
  | { kind: 'unknown-key'; refetched: boolean; keysInSet: number }

/** Keys that may have signed the token (several when the token carries no `kid`). */
export type JwksResolution = { ok: true; keys: CryptoKey[]; stale: boolean } | { ok: false; failure: JwksFailure }

type FetchOutcome = { ok: true } | { ok: false; reason: string }

/** A JWKS document larger than this is refused: real ones are a few kilobytes. */
const MAX_JWKS_BYTES = 512 * 1024
/** Never try more than this many candidate keys for one token without a `kid`. */
const MAX_CANDIDATES = 8
/**
 * After a failed fetch, requests fail fast for this long instead of each one dialling the
 * JWKS URL again: an outage must not turn every incoming request into an outgoing one.
 */
const FAILURE_RETRY_MS = 5000

/**
 * A JWKS fetched over HTTP and kept in memory, with rotation: an unknown `kid` triggers
 * one refetch, at most once per cooldown, so the issuer can rotate keys without a gateway
 * restart while a caller sending random `kid`s cannot make us hammer the issuer.
 * Concurrent requests share one fetch in flight. Time comes from the injected clock.
 *
 * When a refresh fails but an earlier set exists, the earlier set keeps being used
 * (`stale: true`): the keys were trusted a moment ago and signatures are still checked.
 */
export class JwksCache {
  /** Fetches attempted so far (successful or not); for tests and metrics. */
  fetchCount = 0
  private options: Required<JwksCacheOptions>
  private set: LocalJWKSet | undefined
  private keysInSet = 0
  private fetchedAt = Number.NEGATIVE_INFINITY
  private attemptedAt = Number.NEGATIVE_INFINITY
  private lastFailure: string | undefined
  private inflight: Promise<FetchOutcome> | undefined

  constructor(options: JwksCacheOptions) {
    this.options = { timeoutMs: 5000, ...options }
  }

  /** Applies options from a new config load while keeping the fetched keys. */
  configure(options: JwksCacheOptions): void {
    this.options = { timeoutMs: 5000, ...options }
  }

  /** Finds the keys that may verify a token with this protected header. */
  async resolve(header: JWSHeaderParameters): Promise<JwksResolution> {
    const now = this.options.clock.now()
    let refetched = false
    const expired = this.set === undefined || now - this.fetchedAt >= this.options.cacheSeconds * 1000
    const retryMs = this.lastFailure === undefined ? 0 : Math.min(FAILURE_RETRY_MS, this.options.cooldownSeconds * 1000)
    if (expired && now - this.attemptedAt >= retryMs) {
      await this.refresh()
      refetched = true
    }
    if (this.set === undefined) return { ok: false, failure: { kind: 'unavailable', reason: this.lastFailure ?? 'the key set was never fetched' } }
    let keys = await this.match(header)
    if (keys.length === 0 && !refetched && this.options.clock.now() - this.attemptedAt >= this.options.cooldownSeconds * 1000) {
      const outcome = await this.refresh()
      refetched = true
      // The issuer is down and the kid is not in the set we hold: we cannot tell a
      // rotated key from a forged one, so this is an outage, not the caller's fault.
      if (!outcome.ok) return { ok: false, failure: { kind: 'unavailable', reason: outcome.reason } }
      keys = await this.match(header)
    }
    if (keys.length === 0) return { ok: false, failure: { kind: 'unknown-key', refetched, keysInSet: this.keysInSet } }
    return { ok: true, keys, stale: this.lastFailure !== undefined }
  }

  private refresh(): Promise<FetchOutcome> {
    this.inflight ??= this.fetchSet().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  private async fetchSet(): Promise<FetchOutcome> {
    this.fetchCount++
    this.attemptedAt = this.options.clock.now()
    const outcome = await downloadJwks(this.options.url, this.options.timeoutMs)
    if (!outcome.ok) {
      this.lastFailure = outcome.reason
      return outcome
    }
    try {
      this.set = createLocalJWKSet(outcome.jwks)
    } catch {
      this.lastFailure = 'the document is not a JSON Web Key Set'
      return { ok: false, reason: this.lastFailure }
    }
    this.keysInSet = outcome.jwks.keys.length
    this.fetchedAt = this.options.clock.now()
    this.lastFailure = undefined
    return { ok: true }
  }

  private async match(header: JWSHeaderParameters): Promise<CryptoKey[]> {
    const set = this.set
    if (set === undefined) return []
    try {
      return [await set(header)]
    } catch (error) {
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        const keys: CryptoKey[] = []
        for await (const key of error) {
          keys.push(key)
          if (keys.length >= MAX_CANDIDATES) break
        }
        return keys
      }
      // No matching key, an alg a JWKS cannot hold (HS*), or a member that fails to
      // import: all mean "no usable key for this token".
      return []
    }
  }
}

type Download = { ok: true; jwks: JSONWebKeySet } | { ok: false; reason: string }

async function downloadJwks(url: string, timeoutMs: number): Promise<Download> {
  let response: Response
  try {
    response = await fetch(url, { headers: { accept: 'application/jwk-set+json, application/json' }, signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    const name = error instanceof Error ? error.name : ''
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, reason: `no answer within ${timeoutMs} ms` }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)
    return { ok: false, reason: `unreachable: ${cause}` }
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined)
    return { ok: false, reason: `answered HTTP ${response.status}` }
  }
  const text = await readBoundedText(response, MAX_JWKS_BYTES)
  if (text === undefined) return { ok: false, reason: `the document is larger than ${MAX_JWKS_BYTES} bytes or was cut off` }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'the document is not JSON' }
  }
  if (!isKeySet(parsed)) return { ok: false, reason: 'the document is not a JSON Web Key Set (no "keys" array)' }
  return { ok: true, jwks: parsed }
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys)
}

