import { ulid } from 'ulid'
import { afterAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import type { Identity } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import { allowOf, denialOf } from '../../testing/verdicts.js'
import type { PolicyDeps, Verdict } from '../define.js'
import { closeAllRedisClients } from '../rate-limit/redis.js'
import { budgetPolicy, chargeBudget, periodBounds, replayBudgetUsage } from './index.js'
import { BudgetConfig } from './schema.js'

const acme: Identity = { consumer: 'acme-app', tenant: 'acme', method: 'key', scopes: [] }
const beta: Identity = { consumer: 'beta-app', tenant: 'acme', method: 'key', scopes: [] }

function setup(raw: Record<string, unknown>, overrides: Partial<PolicyDeps> = {}) {
  const clock = fakeClock(Date.UTC(2026, 0, 15, 12, 0, 0))
  const deps = makeDeps({ clock, routeName: 'ai', ...overrides })
  const evaluate = budgetPolicy.compile(BudgetConfig.parse(raw), deps)
  const call = (identity: Identity | null = acme) => evaluate(makeContext({ method: 'POST', identity: identity ?? undefined }))
  const charge = (identity: Identity | undefined, totalTokens: number, costUsd: number | null = null) => chargeBudget(deps.shared, 'ai', { identity, clientIp: '127.0.0.1' }, { totalTokens, costUsd })
  return { clock, deps, call, charge }
}

describe('budget policy (memory)', () => {
  it('replays logged calls into the periods they fell in: earlier days count for the month only', async () => {
    const { call, deps } = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 100 }, { per: 'consumer', period: 'month', tokens: 150 }] })
    const now = deps.clock.now()
    async function* calls() {
      yield { time: now - 3 * 86_400_000, consumer: 'acme-app', tenant: 'acme', clientIp: '127.0.0.1', totalTokens: 120, costUsd: null }
      yield { time: now - 3_600_000, consumer: 'acme-app', tenant: 'acme', clientIp: '127.0.0.1', totalTokens: 20, costUsd: null }
    }
    expect(await replayBudgetUsage(deps.shared, ['ai'], () => calls(), now)).toBe(2)
    // Today: 20 of 100; this month: 140 of 150.
    expect(allowOf(call()).detail).toEqual({
      'quota:consumer:day': { subject: 'acme-app', usedTokens: 20, limitTokens: 100 },
      'quota:consumer:month': { subject: 'acme-app', usedTokens: 140, limitTokens: 150 },
    })
  })

  it('allows until a token quota is used, then answers 429 with Retry-After to the end of the UTC day and the quota', async () => {
    const { call, charge } = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 100 }] })
    expect(allowOf(call()).detail).toEqual({ 'quota:consumer:day': { subject: 'acme-app', usedTokens: 0, limitTokens: 100 } })
    await charge(acme, 120)
    const denial = denialOf(call())
    expect([denial.rule, denial.status]).toEqual(['budget.quota-exceeded', 429])
    expect(denial.headers).toEqual({ 'retry-after': String(12 * 3600) })
    expect(denial.detail?.problem).toEqual({ quota: { per: 'consumer', period: 'day', limitTokens: 100, usedTokens: 120, remainingTokens: 0, resetsAt: '2026-01-16T00:00:00.000Z' } })
    // Another consumer has its own quota.
    expect(allowOf(call(beta)).kind).toBe('allow')
  })

  it('starts a new period with a fresh quota', async () => {
    const { call, charge, clock } = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 10 }] })
    await charge(acme, 10)
    expect(denialOf(call()).status).toBe(429)
    clock.advance(12 * 3600 * 1000)
    expect(allowOf(call()).kind).toBe('allow')
  })

  it('refuses a spent hard cost budget with 403 budget.exhausted, counted per tenant', async () => {
    const { call, charge } = setup({ budgets: [{ per: 'tenant', period: 'month', costUsd: 1 }] })
    await charge(acme, 10, 0.6)
    expect(allowOf(call(beta)).kind).toBe('allow')
    await charge(beta, 10, 0.5)
    const denial = denialOf(call(acme))
    expect([denial.rule, denial.status]).toEqual(['budget.exhausted', 403])
    expect(denial.detail?.problem).toEqual({ budget: { per: 'tenant', period: 'month', limitUsd: 1, spentUsd: 1.1, remainingUsd: 0, resetsAt: '2026-02-01T00:00:00.000Z' } })
  })

  it('lets a named limit replace the general one for that consumer', async () => {
    const { call, charge } = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 10 }, { per: 'consumer', period: 'day', tokens: 1000, name: 'acme-app' }] })
    await charge(acme, 50)
    await charge(beta, 50)
    expect(allowOf(call(acme)).kind).toBe('allow')
    expect(denialOf(call(beta)).status).toBe(429)
  })

  it('counts anonymous callers by client ip and skips tenant limits for them', async () => {
    const { call, charge } = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 5 }, { per: 'tenant', period: 'day', tokens: 1 }] })
    await charge(undefined, 6)
    const denial = denialOf(call(null))
    expect(denial.message).toContain('client 127.0.0.1')
  })

  it('lets GET through and does not charge calls without usage', async () => {
    const { deps, charge } = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 1 }] })
    await charge(acme, 0)
    const run = budgetPolicy.compile(BudgetConfig.parse({ quotas: [{ per: 'consumer', period: 'day', tokens: 1 }] }), deps)
    expect(allowOf(run(makeContext({ method: 'GET', identity: acme }))).kind).toBe('allow')
    expect(allowOf(run(makeContext({ method: 'POST', identity: acme }))).kind).toBe('allow')
  })

  it('computes UTC day and month bounds', () => {
    expect(periodBounds(Date.UTC(2026, 11, 31, 23, 59), 'month')).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) })
    expect(periodBounds(Date.UTC(2026, 1, 3, 5), 'day')).toEqual({ start: Date.UTC(2026, 1, 3), end: Date.UTC(2026, 1, 4) })
  })

  it('refuses a budget policy with no limits', () => {
    expect(BudgetConfig.safeParse({}).success).toBe(false)
  })
})

describe('budget policy (redis)', () => {
  const run = `budget-${ulid().toLowerCase()}`
  const admin = new Redis('redis://127.0.0.1:6379')
  afterAll(async () => {
    const keys = await admin.keys(`gatehouse:budget:*${run}*`)
    if (keys.length > 0) await admin.del(...keys)
    await closeAllRedisClients()
    admin.disconnect()
  })

  it('shares counters between two instances through Redis', async () => {
    const who: Identity = { consumer: `${run}-app`, method: 'key', scopes: [] }
    const raw = { quotas: [{ per: 'consumer', period: 'day', tokens: 100 }] }
    const one = setup(raw, { redisUrl: 'redis://127.0.0.1:6379' })
    const two = setup(raw, { redisUrl: 'redis://127.0.0.1:6379' })
    expect((await (one.call(who) as Promise<Verdict>)).kind).toBe('allow')
    await one.charge(who, 60)
    await two.charge(who, 60)
    const verdict = await (two.call(who) as Promise<Verdict>)
    expect(verdict.kind === 'deny' && verdict.denial.rule).toBe('budget.quota-exceeded')
  })

  it('fails open by default when Redis is unreachable, and closed when asked', async () => {
    const who: Identity = { consumer: `${run}-down`, method: 'key', scopes: [] }
    const open = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 1 }], storeTimeoutMs: 50 }, { redisUrl: 'redis://127.0.0.1:1' })
    const allowed = await (open.call(who) as Promise<Verdict>)
    expect(allowed.kind === 'allow' && allowed.detail).toMatchObject({ store: 'unavailable', failOpen: true })
    const closed = setup({ quotas: [{ per: 'consumer', period: 'day', tokens: 1 }], storeTimeoutMs: 50, onStoreError: 'closed' }, { redisUrl: 'redis://127.0.0.1:1' })
    const denied = await (closed.call(who) as Promise<Verdict>)
    expect(denied.kind === 'deny' && [denied.denial.rule, denied.denial.status]).toEqual(['budget.store-unavailable', 503])
  })
})
