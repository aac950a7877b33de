import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../../core/json.js'
import type { Identity, RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { getSharedRedis } from '../rate-limit/redis.js'
import { MemoryCounters, RedisCounters, type BudgetCounters, type Charge } from './counters.js'
import { rules } from './rules.js'
import { BudgetConfig } from './schema.js'

type Per = 'consumer' | 'tenant'
type Period = 'day' | 'month'

interface Limit {
  kind: 'quota' | 'budget'
  per: Per
  period: Period
  /** Tokens, or micro-USD for a budget. */
  amount: number
  name?: string
}

/** One limit as it applies to one caller right now. */
interface Applied {
  limit: Limit
  /** Who is counted: a consumer or tenant name, or `ip:<address>` for an anonymous caller. */
  subject: string
  key: string
  resetAt: number
}

/** Who a budget counts, taken from the request after authn. */
export interface BudgetSubject {
  identity?: Identity
  clientIp: string
}

/** Charges a finished call to the counters of the route's budget. */
export interface BudgetCharger {
  /** `at`: when the call happened (default now); a call of an earlier period counts only in the periods it fell in. */
  charge(subject: BudgetSubject, usage: { totalTokens: number; costUsd: number | null }, at?: number): Promise<void>
  /** True when the counters live in this process (and so start empty after a restart). */
  readonly inMemory: boolean
}

const chargerSlot = (route: string) => `budget:charger:${route}`

/**
 * Charges a finished AI call to the budget of `route`, if it has one. Called by the gateway
 * after the call with the real usage; never throws (a failed charge is reported as false).
 */
export async function chargeBudget(shared: Map<string, unknown>, route: string, subject: BudgetSubject, usage: { totalTokens: number; costUsd: number | null }): Promise<boolean> {
  const charger = shared.get(chargerSlot(route)) as BudgetCharger | undefined
  if (!charger) return true
  try {
    await charger.charge(subject, usage)
    return true
  } catch {
    return false
  }
}

/** Start of the UTC day or month holding `now`, and the start of the next one. */
/**
 * Memory counters start empty when the gateway starts; without this a restart would hand every
 * consumer a fresh monthly budget. Replays the AI calls of this month that the call log holds
 * (up to `before`, when this process started serving) into the routes' in-memory counters.
 * Redis counters outlive restarts on their own and are left alone. Returns the calls replayed.
 */
export async function replayBudgetUsage(
  shared: Map<string, unknown>,
  routes: readonly string[],
  readCalls: (route: string, since: number, until: number) => AsyncIterable<{ time: number; consumer: string | null; tenant: string | null; clientIp: string; totalTokens: number; costUsd: number | null }>,
  before: number,
): Promise<number> {
  let replayed = 0
  const since = periodBounds(before, 'month').start
  for (const route of routes) {
    const charger = shared.get(chargerSlot(route)) as BudgetCharger | undefined
    if (!charger?.inMemory) continue
    for await (const call of readCalls(route, since, before)) {
      const identity: Identity | undefined = call.consumer === null ? undefined : { consumer: call.consumer, ...(call.tenant === null ? {} : { tenant: call.tenant }), method: 'replay', scopes: [] }
      await charger.charge({ identity, clientIp: call.clientIp }, { totalTokens: call.totalTokens, costUsd: call.costUsd }, call.time)
      replayed++
    }
  }
  return replayed
}

export function periodBounds(now: number, period: Period): { start: number; end: number } {
  const d = new Date(now)
  if (period === 'day') {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    return { start, end: start + 86_400_000 }
  }
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) }
}

/**
 * Token quotas and cost budgets (`routes[].policies.budget`) for ai routes. Before a call it
 * reads the counters of every limit that applies to the caller and refuses when one is used
 * up: a token quota with 429 and Retry-After, a cost budget with 403. After the call the
 * gateway charges the real usage (`chargeBudget`). Counters are keyed by who and period, not
 * by route, so a caller's usage counts against its limits on every ai route with a budget.
 */
export const budgetPolicy = definePolicy({
  name: 'budget',
  configKey: 'budget',
  // After rate-limit (900): a flood is refused by the cheap request counter before the budget
  // store is read. Before transform (1000).
  order: 950,
  schema: BudgetConfig,
  rules,
  lint(config, route) {
    if (route.policies.auth !== undefined) return []
    return config.quotas.some((q) => q.per === 'tenant') || config.budgets.some((b) => b.per === 'tenant')
      ? [{ path: [], message: "limits per tenant need an 'auth' policy on the route; anonymous callers have no tenant and are not limited by them" }]
      : []
  },
  compile(config, deps) {
    const route = deps.routeName
    const limits: Limit[] = [
      ...config.quotas.map((q): Limit => ({ kind: 'quota', per: q.per, period: q.period, amount: q.tokens, name: q.name })),
      ...config.budgets.map((b): Limit => ({ kind: 'budget', per: b.per, period: b.period, amount: Math.round(b.costUsd * 1e6), name: b.name })),
    ]
    const storeKind = config.store ?? (deps.redisUrl ? 'redis' : 'memory')
    let counters: BudgetCounters
    if (storeKind === 'memory') {
      // One store for every route, kept across reloads: usage belongs to the caller, not the route.
      const slot = 'budget:memory'
      let memory = deps.shared.get(slot) as MemoryCounters | undefined
      if (!memory) deps.shared.set(slot, (memory = new MemoryCounters(() => deps.clock.now())))
      counters = memory
    } else {
      if (!deps.redisUrl) {
        throw new GatewayError('config.compile', `route '${route}': budget.store is 'redis' but the config has no top-level 'redis:' URL`, {
          remediation: "Add 'redis: redis://host:6379' at the top of the config, or set budget.store to 'memory'.",
        })
      }
      counters = new RedisCounters(getSharedRedis(deps.shared, deps.redisUrl, config.storeTimeoutMs))
    }
    const timeoutMs = config.storeTimeoutMs

    /** The limits that apply to this caller now: named ones replace unnamed ones of the same per and period. */
    function applicable(subject: BudgetSubject, now: number): Applied[] {
      const out: Applied[] = []
      for (const limit of limits) {
        const who = subjectOf(limit.per, subject)
        if (who === undefined) continue
        if (limit.name !== undefined && limit.name !== who) continue
        if (limit.name === undefined && limits.some((l) => l.name === who && l.per === limit.per && l.period === limit.period && l.kind === limit.kind)) continue
        const { start, end } = periodBounds(now, limit.period)
        const unit = limit.kind === 'quota' ? 'tokens' : 'microusd'
        out.push({ limit, subject: who, key: `gatehouse:budget:${limit.per}:${who}:${limit.period}:${start}:${unit}`, resetAt: end })
      }
      return out
    }

    const charger: BudgetCharger = {
      inMemory: storeKind === 'memory',
      async charge(subject, usage, at) {
        const charges: Charge[] = []
        const seen = new Set<string>()
        const now = deps.clock.now()
        for (const applied of applicable(subject, at ?? now)) {
          if (seen.has(applied.key)) continue
          seen.add(applied.key)
          // A period already over (a replayed call of an earlier day) is never read again.
          if (applied.resetAt <= now - 86_400_000) continue
          const amount = applied.limit.kind === 'quota' ? usage.totalTokens : usage.costUsd === null ? 0 : Math.round(usage.costUsd * 1e6)
          // A day key outlives its day by a day, so a late read near midnight still finds it.
          if (amount > 0) charges.push({ key: applied.key, amount, ttlMs: applied.resetAt - now + 86_400_000 })
        }
        await counters.add(charges)
      },
    }
    deps.shared.set(chargerSlot(route), charger)

    function decide(applied: Applied[], used: number[], now: number): Verdict {
      const detail: JsonObject = {}
      // Hard budgets first: a spent budget is the more final answer.
      const order = applied.map((_, i) => i).sort((a, b) => (applied[a].limit.kind === applied[b].limit.kind ? 0 : applied[a].limit.kind === 'budget' ? -1 : 1))
      for (const i of order) {
        const { limit, subject, resetAt } = applied[i]
        const spent = used[i]
        const label = `${limit.kind}:${limit.per}:${limit.period}`
        if (spent < limit.amount) {
          detail[label] = limit.kind === 'quota' ? { subject, usedTokens: spent, limitTokens: limit.amount } : { subject, spentUsd: spent / 1e6, limitUsd: limit.amount / 1e6 }
          continue
        }
        const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000))
        const resetsAt = new Date(resetAt).toISOString()
        const whom = limit.per === 'consumer' ? (subject.startsWith('ip:') ? `client ${subject.slice(3)}` : `consumer '${subject}'`) : `tenant '${subject}'`
        if (limit.kind === 'quota') {
          const quota: JsonObject = { per: limit.per, period: limit.period, limitTokens: limit.amount, usedTokens: spent, remainingTokens: 0, resetsAt }
          return deny(rules.quotaExceeded, {
            message: `The ${limit.period === 'day' ? 'daily' : 'monthly'} token quota of ${whom} (${limit.amount} tokens) is used up (${spent} used); it resets at ${resetsAt}.`,
            remediation: `Raise routes[].policies.budget.quotas (per ${limit.per}, period ${limit.period}) of route '${route}' if this use is legitimate, or add a named entry for ${whom}.`,
            detail: { ...detail, subject, problem: { quota } },
            headers: { 'retry-after': String(retryAfter) },
          })
        }
        const budget: JsonObject = { per: limit.per, period: limit.period, limitUsd: limit.amount / 1e6, spentUsd: spent / 1e6, remainingUsd: 0, resetsAt }
        return deny(rules.exhausted, {
          message: `The ${limit.period === 'day' ? 'daily' : 'monthly'} cost budget of ${whom} ($${limit.amount / 1e6}) is spent ($${spent / 1e6}); calls are refused until ${resetsAt}.`,
          remediation: `Raise routes[].policies.budget.budgets (per ${limit.per}, period ${limit.period}) of route '${route}', or add a named entry for ${whom}.`,
          detail: { ...detail, subject, problem: { budget } },
        })
      }
      return allow({ detail })
    }

    const onStoreError = (error: unknown): Verdict => {
      const detail: JsonObject = { store: 'unavailable', error: error instanceof Error ? error.message : String(error) }
      if (config.onStoreError === 'open') return allow({ detail: { ...detail, failOpen: true } })
      return deny(rules.storeUnavailable, {
        message: 'The budget could not be checked; retry shortly.',
        remediation: `Redis (top-level 'redis:') did not answer for route '${route}' and budget.onStoreError is 'closed'. Restore Redis, or set onStoreError: open to let calls through unmetered during outages.`,
        detail: { ...detail, failOpen: false },
        headers: { 'retry-after': '1' },
      })
    }

    return function evaluateBudget(ctx: RequestContext): Verdict | Promise<Verdict> {
      // GET /v1/models costs nothing.
      if (ctx.method !== 'POST') return allow()
      const now = deps.clock.now()
      const applied = applicable(ctx, now)
      if (applied.length === 0) return allow({ detail: { limits: 0 } })
      let read: number[] | Promise<number[]>
      try {
        read = counters.read(applied.map((a) => a.key))
      } catch (error) {
        return onStoreError(error)
      }
      if (Array.isArray(read)) return decide(applied, read, now)
      return withTimeout(read, timeoutMs).then((used) => decide(applied, used, now), onStoreError)
    }
  },
})

function subjectOf(per: Per, subject: BudgetSubject): string | undefined {
  if (per === 'tenant') return subject.identity?.tenant
  return subject.identity?.consumer ?? `ip:${subject.clientIp}`
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
