import type { JsonObject, JsonValue } from '../../core/json.js'
import type { Identity, RequestContext } from '../../gateway/context.js'
import type { ConsumerRecord } from '../define.js'
import type { ExpressionReference, RuleVariable } from './cel.js'

/**
 * Request headers never shown to rules (nor, therefore, to a denial's `saw`): credentials.
 * Names containing these words are dropped too, which covers custom API-key headers.
 */
const HIDDEN_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'])
const SECRET_NAME = /key|token|secret|passw|session|credential|cookie|authori[sz]/i

/** What a rule's `identity` variable holds. */
export interface RuleIdentity {
  consumer: string
  tenant: string | null
  method: string
  scopes: readonly string[]
  roles: readonly string[]
  attributes: JsonObject
  claims: JsonObject
}

/**
 * Roles and attributes of each configured consumer, so an identity can be completed without
 * touching authn's frozen value. Token identities also get string `roles` from their claims.
 */
export function createIdentityResolver(consumers: readonly ConsumerRecord[]): (identity: Identity) => RuleIdentity {
  const byName = new Map<string, ConsumerRecord>()
  for (const c of consumers) if (!byName.has(c.name)) byName.set(c.name, c)
  // authn hands out one frozen identity per key, so most lookups hit this cache.
  const cache = new WeakMap<Identity, RuleIdentity>()
  return function resolveIdentity(identity: Identity): RuleIdentity {
    let resolved = cache.get(identity)
    if (resolved !== undefined) return resolved
    const known = byName.get(identity.consumer)
    const claimed = identity.claims?.roles
    const claimRoles = Array.isArray(claimed) ? claimed.filter((r): r is string => typeof r === 'string') : []
    const roles = claimRoles.length === 0 ? (known?.roles ?? []) : [...new Set([...(known?.roles ?? []), ...claimRoles])]
    resolved = Object.freeze({
      consumer: identity.consumer,
      tenant: known?.tenant ?? identity.tenant ?? null,
      method: identity.method,
      scopes: Object.freeze([...identity.scopes]),
      roles: Object.freeze([...roles]),
      attributes: known?.attributes ?? {},
      claims: identity.claims ?? {},
    })
    cache.set(identity, resolved)
    return resolved
  }
}

/** Which variables (and which costly parts of `request`) a route's expressions read. */
export interface ActivationNeeds {
  roots: ReadonlySet<RuleVariable>
  headers: boolean
  query: boolean
}

/** Works out what to build per request from the expressions' references. */
export function activationNeeds(references: readonly ExpressionReference[]): ActivationNeeds {
  const reads = (part: string) => references.some((r) => r.root === 'request' && (r.steps.length === 0 || r.steps[0] === part))
  return { roots: new Set(references.map((r) => r.root)), headers: reads('headers'), query: reads('query') }
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({})

/**
 * Returns a builder of the variables the route's expressions read; request headers and query
 * are copied only when read. Integers are BigInt, as CEL wants.
 */
export function createActivationBuilder(needs: ActivationNeeds): (ctx: RequestContext, identity: RuleIdentity, nowMs: number) => Record<string, unknown> {
  const roots = needs.roots
  // `time` changes once a second at most: build it once per second, not per request.
  let timeSecond = Number.NaN
  let time: Readonly<Record<string, unknown>> = EMPTY
  const timeAt = (nowMs: number) => {
    const second = Math.floor(nowMs / 1000)
    if (second !== timeSecond) {
      const now = new Date(second * 1000)
      time = Object.freeze({
        hour: BigInt(now.getUTCHours()),
        minute: BigInt(now.getUTCMinutes()),
        weekday: BigInt(now.getUTCDay()),
        epochSeconds: BigInt(second),
        now,
      })
      timeSecond = second
    }
    return time
  }
  return function buildActivation(ctx, identity, nowMs) {
    const activation: Record<string, unknown> = {}
    if (roots.has('identity')) activation.identity = identity
    if (roots.has('params')) activation.params = ctx.params
    if (roots.has('body')) activation.body = ctx.json === undefined ? null : ctx.json
    if (roots.has('client')) activation.client = { ip: ctx.clientIp }
    if (roots.has('request')) {
      activation.request = {
        method: ctx.method,
        path: ctx.path,
        query: needs.query ? parseQuery(ctx.query) : EMPTY,
        headers: needs.headers ? visibleHeaders(ctx.headers) : EMPTY,
      }
    }
    if (roots.has('time')) activation.time = timeAt(nowMs)
    return activation
  }
}

function visibleHeaders(headers: RequestContext['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || HIDDEN_HEADERS.has(name) || SECRET_NAME.test(name)) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

/** `a=1&b=2` as a map; a repeated name keeps its first value. */
function parseQuery(query: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (query === '') return out
  for (const [name, value] of new URLSearchParams(query)) if (!(name in out)) out[name] = value
  return out
}

/** Values the expression read, for the trace: redacted where the name looks secret, and bounded. */
export function describeSaw(references: readonly ExpressionReference[], activation: Record<string, unknown>): { saw: JsonObject; absent: string[] } {
  const saw: JsonObject = {}
  const absent: string[] = []
  for (const ref of references) {
    let value: unknown = activation[ref.root]
    let found = value !== undefined
    for (const step of ref.steps) {
      if (!found) break
      value = readStep(value, step)
      found = value !== undefined
    }
    if (!found) {
      absent.push(ref.label)
      continue
    }
    const last = ref.steps.length === 0 ? ref.root : String(ref.steps[ref.steps.length - 1])
    saw[ref.label] = SECRET_NAME.test(last) && ref.root !== 'identity' ? '[redacted]' : toJson(value, 3)
  }
  return { saw, absent }
}

function readStep(value: unknown, step: string | number): unknown {
  if (value instanceof Map) return value.get(step)
  if (Array.isArray(value)) return typeof step === 'number' ? value[step] : undefined
  if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, step)) return (value as Record<string, unknown>)[step]
  return undefined
}

const MAX_ITEMS = 20
const MAX_STRING = 200

function toJson(value: unknown, depth: number): JsonValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value
  if (typeof value === 'number' || typeof value === 'boolean') return value
  if (value instanceof Date) return value.toISOString()
  if (depth === 0) return Array.isArray(value) ? `[list of ${value.length}]` : '[map]'
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => toJson(v, depth - 1))
  if (typeof value === 'object') {
    const out: JsonObject = {}
    let n = 0
    for (const [k, v] of Object.entries(value)) {
      if (n++ === MAX_ITEMS) break
      out[k] = SECRET_NAME.test(k) ? '[redacted]' : toJson(v, depth - 1)
    }
    return out
  }
  return String(value)
}
