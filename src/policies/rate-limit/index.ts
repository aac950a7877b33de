import { createHash } from 'node:crypto'
import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../../core/json.js'
import type { RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import type { HitResult, LimitSpec } from './algorithms.js'
import { MemoryStore } from './memory.js'
import { getSharedRedis, RedisStore, type SharedRedis } from './redis.js'
import { rules } from './rules.js'
import { RateLimitConfig } from './schema.js'

/** The quota policy name in the RateLimit headers: one policy per route. */
const policyName = '"default"'

interface KeyOf {
  /** Store key: kind and value, e.g. `consumer:acme-app`. */
  key: string
  /** What the trace says the quota belonged to; never a raw header value or credential. */
  kind: 'consumer' | 'ip' | 'route' | 'header'
  shown: string
}

/**
 * Request quotas (`routes[].policies.rateLimit`): per consumer, ip, route or header value,
 * counted in memory or in Redis (shared by instances). Refusals are 429 with Retry-After;
 * allowed answers carry the RateLimit headers of draft-ietf-httpapi-ratelimit-headers so
 * well-behaved clients can slow down before they are refused.
 */
export const rateLimitPolicy = definePolicy({
  name: 'rate-limit',
  configKey: 'rateLimit',
  order: 900,
  schema: RateLimitConfig,
  rules,
  lint(config, route) {
    if (config.by !== 'consumer' || route.policies.auth !== undefined) return []
    return [{ path: ['by'], message: "counts per consumer, but the route has no 'auth' policy: every caller is anonymous and is counted by client ip; write by: ip to say so, or add auth" }]
  },
  compile(config, deps) {
    const route = deps.routeName
    const { limit, windowSeconds, algorithm } = config
    const spec: LimitSpec = { algorithm, limit, windowMs: windowSeconds * 1000, capacity: config.burst ?? limit }
    const storeKind = config.store ?? (deps.redisUrl ? 'redis' : 'memory')
    const policyHeader = `${policyName};q=${limit};w=${windowSeconds}`
    const keyOf = createKeyFunction(config.by)
    const statusOverride = config.status === 429 ? undefined : config.status
    const per = `${limit} request${limit === 1 ? '' : 's'} per ${windowSeconds} s`

    function decide(who: KeyOf, result: HitResult): Verdict {
      const resetSeconds = Math.ceil(result.resetMs / 1000)
      const rateLimit = `${policyName};r=${result.remaining};t=${resetSeconds}`
      if (result.allowed) return allow({ responseHeaders: { 'ratelimit-policy': policyHeader, ratelimit: rateLimit } })
      // Retry-After and the RateLimit reset name the same moment (draft §5).
      const retryAfter = String(Math.max(1, resetSeconds))
      return deny(rules.exceeded, {
        message: `Rate limit of ${per} exceeded for ${describeKey(who)}; retry in ${retryAfter} s.`,
        remediation: `Route '${route}' allows ${per} per ${config.by}: raise routes[].policies.rateLimit.limit or window if this traffic is legitimate, or have the caller slow down.`,
        detail: { keyKind: who.kind, key: who.shown, limit, windowSeconds, algorithm, remaining: result.remaining, resetSeconds: Math.max(1, resetSeconds) },
        headers: { 'retry-after': retryAfter, 'ratelimit-policy': policyHeader, ratelimit: `${policyName};r=0;t=${retryAfter}` },
        status: statusOverride,
      })
    }

    if (storeKind === 'memory') {
      // Counters survive a reload when the route keeps its algorithm and window.
      const slot = `rate-limit:memory:${route}:${algorithm}:${spec.windowMs}:${spec.capacity}`
      let store = deps.shared.get(slot) as MemoryStore | undefined
      if (!store) deps.shared.set(slot, (store = new MemoryStore()))
      const memory = store
      return function evaluateRateLimit(ctx: RequestContext): Verdict {
        const who = keyOf(ctx)
        return decide(who, memory.hit(who.key, deps.clock.now(), spec))
      }
    }

    if (!deps.redisUrl) {
      throw new GatewayError('config.compile', `route '${route}': rateLimit.store is 'redis' but the config has no top-level 'redis:' URL`, {
        remediation: "Add 'redis: redis://host:6379' at the top of the config, or set rateLimit.store to 'memory'.",
      })
    }
    const redis = getSharedRedis(deps.shared, deps.redisUrl, config.storeTimeoutMs)
    const store = new RedisStore(redis, route, config.storeTimeoutMs)
    const onStoreError = storeFailure(config.onStoreError, route, redis)

    return async function evaluateRateLimitRedis(ctx: RequestContext): Promise<Verdict> {
      const who = keyOf(ctx)
      let result: HitResult
      try {
        result = await store.hit(who.key, deps.clock.now(), spec)
      } catch (error) {
        return onStoreError(error as Error)
      }
      return decide(who, result)
    }
  },
})

/** What to answer when Redis cannot: allow with a trace note (open), or 503 (closed). */
function storeFailure(mode: 'open' | 'closed', route: string, redis: SharedRedis): (error: Error) => Verdict {
  return (error) => {
    const detail: JsonObject = { store: 'unavailable', error: redis.lastError ?? error.message }
    if (mode === 'open') return allow({ detail: { ...detail, failOpen: true } })
    return deny(rules.storeUnavailable, {
      message: 'The rate limit could not be checked; retry shortly.',
      remediation: `Redis (top-level 'redis:') did not answer for route '${route}' and rateLimit.onStoreError is 'closed'. Restore Redis, or set onStoreError: open to let traffic through unmetered during outages.`,
      detail: { ...detail, failOpen: false },
      headers: { 'retry-after': '1' },
    })
  }
}

function describeKey(who: KeyOf): string {
  if (who.kind === 'consumer') return `consumer '${who.shown}'`
  if (who.kind === 'ip') return `client ${who.shown}`
  if (who.kind === 'route') return 'this route'
  return 'this caller'
}

/** Builds the per-request key function once, so `by` is not re-parsed per request. */
function createKeyFunction(by: string): (ctx: RequestContext) => KeyOf {
  const byIp = (ctx: RequestContext): KeyOf => ({ key: `ip:${ctx.clientIp}`, kind: 'ip', shown: ctx.clientIp })
  if (by === 'ip') return byIp
  if (by === 'route') {
    const whole: KeyOf = { key: 'route', kind: 'route', shown: 'route' }
    return () => whole
  }
  if (by === 'consumer') {
    // Anonymous callers share nothing: each ip gets its own quota.
    return (ctx) => (ctx.identity ? { key: `consumer:${ctx.identity.consumer}`, kind: 'consumer', shown: ctx.identity.consumer } : byIp(ctx))
  }
  const header = by.slice('header:'.length).toLowerCase()
  return (ctx) => {
    const raw = ctx.headers[header]
    const value = Array.isArray(raw) ? raw[0] : raw
    if (!value) return byIp(ctx)
    // The header may hold a credential (an api key): key and trace use a digest, never the value.
    const digest = createHash('sha256').update(value).digest('hex').slice(0, 16)
    return { key: `header:${header}:${digest}`, kind: 'header', shown: `${header} sha256:${digest.slice(0, 8)}` }
  }
}
