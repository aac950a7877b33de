import { createHash } from 'node:crypto'
import type { Rule } from '../../core/denial.js'
import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../../core/json.js'
import type { Identity, RequestContext } from '../../gateway/context.js'
import type { Allow, ConsumerRecord } from '../define.js'

/** Every credential kind the authn layer understands, as spelled in `auth.methods`. */
export const AUTH_METHODS = ['key', 'jwt', 'basic', 'hmac', 'session', 'introspection', 'mtls'] as const
export type AuthMethod = (typeof AUTH_METHODS)[number]

/** The request's Authorization header split once, shared by every method. */
export interface AuthorizationParts {
  /** Scheme in lower case (`basic`, `bearer`, `signature`, ...), or '' without the header. */
  scheme: string
  /** Scheme as sent, for messages. */
  rawScheme: string
  /** Everything after the scheme, trimmed. */
  credentials: string
}

export const noAuthorization: AuthorizationParts = Object.freeze({ scheme: '', rawScheme: '', credentials: '' })

/**
 * Why one method refused the credentials it was given. `rank` orders failures when several
 * methods fail: the one that proves most about the caller names the denial.
 */
export interface MethodFailure {
  kind: 'failure'
  rule: Rule
  rank: number
  /** Safe for the caller. */
  message: string
  /** For the operator; may name config keys. */
  remediation: string
  /** Facts for the trace; never a secret. */
  detail: JsonObject
  /** For a refused bearer token: the RFC 6750 error_description. */
  bearerError?: string
}

/** What a method says about one request: allowed, refused, or not presented (undefined). */
export type MethodOutcome = Allow | MethodFailure | undefined

/** A compiled method: synchronous when it can be, a Promise only when it awaits I/O or hashing. */
export type MethodCheck = (ctx: RequestContext, authorization: AuthorizationParts) => MethodOutcome | Promise<MethodOutcome>

/** Ranks shared by the methods; see `rankOf` in index.ts for the JWT ones. */
export const RANK = {
  /** The credential could not even be parsed. */
  malformed: 40,
  /** Parsed, but names no known key/user/consumer. */
  unknown: 50,
  /** Recognised, but the proof (signature, password) is wrong. */
  badProof: 60,
  /** The proof verified but the credential is stale or incomplete: says the most. */
  verifiedButRefused: 80,
  /** Our dependency is down: the caller may be fine, so 503 beats any 401. */
  unavailable: 100,
} as const

export function failure(rule: Rule, rank: number, message: string, remediation: string, detail: JsonObject, bearerError?: string): MethodFailure {
  return bearerError === undefined
    ? { kind: 'failure', rule, rank, message, remediation, detail }
    : { kind: 'failure', rule, rank, message, remediation, detail, bearerError }
}

export function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function'
}

/**
 * Resolves a secret given literally or as `env:NAME` (read once per config load). A missing
 * variable stops the load with the config path, never the value.
 */
export function resolveSecretRef(ref: string, field: string, where: string, env: Record<string, string | undefined>): Buffer {
  if (!ref.startsWith('env:')) return Buffer.from(ref, 'utf8')
  const name = ref.slice(4)
  const value = env[name]
  if (value === undefined || value === '') {
    throw new GatewayError('config.compile', `${where}: environment variable ${name} (${field}) is not set`, {
      remediation: `Set ${name} to the secret for ${field}.`,
    })
  }
  return Buffer.from(value, 'utf8')
}

/** Throws at load time when a method maps credentials to a consumer that is not configured. */
export function requireConsumer(byName: ReadonlyMap<string, ConsumerRecord>, name: string, field: string, where: string): ConsumerRecord {
  const consumer = byName.get(name)
  if (consumer === undefined) {
    const known = [...byName.keys()]
    throw new GatewayError('config.compile', `${where}: ${field} names consumer '${name}', which is not in consumers[]`, {
      remediation: known.length === 0 ? 'Add the consumer under consumers[].' : `Use one of: ${known.join(', ')}, or add '${name}' under consumers[].`,
    })
  }
  return consumer
}

/** Identity of a configured consumer proven by `method`, frozen so a cached verdict can be shared. */
export function consumerIdentity(consumer: ConsumerRecord, method: AuthMethod, claims: JsonObject): Identity {
  return deepFreeze({
    consumer: consumer.name,
    ...(consumer.tenant === undefined ? {} : { tenant: consumer.tenant }),
    method,
    scopes: [...consumer.scopes],
    claims,
  })
}

/** First 8 hex characters of a sha256: names a secret in traces without revealing it. */
export function shortDigest(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8)
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/**
 * A small map with per-entry expiry and a size bound (oldest entries go first). Used for
 * verified passwords, introspection answers and certificates, so memory cannot grow with
 * the number of distinct credentials an attacker sends.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>()
  constructor(private readonly maxEntries: number) {}

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: V, expiresAt: number): void {
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
    this.entries.set(key, { value, expiresAt })
  }

  get size(): number {
    return this.entries.size
  }

  clear(): void {
    this.entries.clear()
  }
}
