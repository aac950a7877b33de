import { describe, expect, it } from 'vitest'
import { loadConfigText } from '../../config/load.js'
import type { Identity } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { rateLimitPolicy } from './index.js'
import { MemoryStore } from './memory.js'
import { RateLimitConfig } from './schema.js'

const acme: Identity = { consumer: 'acme-app', tenant: 'acme', method: 'key', scopes: [] }

function setup(raw: Record<string, unknown>, overrides: Partial<PolicyDeps> = {}) {
  const clock = fakeClock(Date.UTC(2026, 0, 1, 12, 0, 0))
  const deps = makeDeps({ clock, ...overrides })
  const evaluate = rateLimitPolicy.compile(RateLimitConfig.parse(raw), deps)
  const call = (ctx = makeContext({ identity: acme })): Verdict => {
    const verdict = evaluate(ctx)
    if (verdict instanceof Promise) throw new Error('the memory store must answer synchronously')
    return verdict
  }
  return { clock, deps, call }
}

function allowed(verdict: Verdict): Allow {
  if (verdict.kind !== 'allow') throw new Error(`expected allow, got ${verdict.kind === 'deny' ? verdict.denial.rule : verdict.kind}`)
  return verdict
}

function denied(verdict: Verdict): Deny['denial'] {
  if (verdict.kind !== 'deny') throw new Error('expected a denial')
  return verdict.denial
}

describe('rate-limit schema', () => {
  it.each([
    ['60s', 60],
    ['1m', 60],
    ['1h', 3600],
    ['1d', 86400],
    [30, 30],
  ])('reads window %j as %i seconds', (window, seconds) => {
    expect(RateLimitConfig.parse({ limit: 1, window }).windowSeconds).toBe(seconds)
  })

  it('applies the documented defaults', () => {
    expect(RateLimitConfig.parse({ limit: 100, window: '60s' })).toEqual({
      limit: 100,
      windowSeconds: 60,
      algorithm: 'sliding-window',
      by: 'consumer',
      status: 429,
      onStoreError: 'open',
      storeTimeoutMs: 200,
    })
  })

  it.each([
    [{ limit: 0, window: 60 }, ['limit'], 'limit must be at least 1'],
    [{ limit: 1.5, window: 60 }, ['limit'], 'whole number'],
    [{ limit: 10, window: '60 seconds' }, ['window'], "'<n>s', '<n>m'"],
    [{ limit: 10, window: '2d' }, ['window'], 'at most one day'],
    [{ limit: 10, window: 0 }, ['window'], 'at least 1 second'],
    [{ limit: 10 }, ['window'], ''],
    [{ limit: 10, window: 60, by: 'user' }, ['by'], "'consumer', 'ip', 'route' or 'header:<name>'"],
    [{ limit: 10, window: 60, by: 'header:x api key' }, ['by'], 'header:<name>'],
    [{ limit: 10, window: 60, status: 503 }, ['status'], ''],
    [{ limit: 10, window: 60, burst: 20 }, ['burst'], "burst applies only to algorithm 'token-bucket'"],
    [{ limit: 10, window: 60, algorithm: 'leaky' }, ['algorithm'], ''],
    [{ limit: 10, window: 60, per: 'ip' }, [], 'per'],
  ])('refuses %j', (raw, path, message) => {
    const result = RateLimitConfig.safeParse(raw)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(JSON.stringify(result.error?.issues[0])).toContain(message)
  })
})

describe('rate-limit policy (memory store)', () => {
  it('fixed window: admits the limit, refuses with 429, Retry-After and RateLimit headers, resets next window', () => {
    const { clock, call } = setup({ limit: 3, window: '1m', algorithm: 'fixed-window' })
    clock.advance(18_000) // 42 s before the window ends
    expect(allowed(call()).responseHeaders).toEqual({ 'ratelimit-policy': '"default";q=3;w=60', ratelimit: '"default";r=2;t=42' })
    expect(allowed(call()).responseHeaders?.ratelimit).toBe('"default";r=1;t=42')
    expect(allowed(call()).responseHeaders?.ratelimit).toBe('"default";r=0;t=42')
    const denial = denied(call())
    expect(denial.rule).toBe('rate-limit.exceeded')
    expect(denial.status).toBe(429)
    expect(denial.headers).toEqual({ 'retry-after': '42', 'ratelimit-policy': '"default";q=3;w=60', ratelimit: '"default";r=0;t=42' })
    expect(denial.detail).toEqual({ keyKind: 'consumer', key: 'acme-app', limit: 3, windowSeconds: 60, algorithm: 'fixed-window', remaining: 0, resetSeconds: 42 })
    expect(denial.message).toBe("Rate limit of 3 requests per 60 s exceeded for consumer 'acme-app'; retry in 42 s.")
    clock.advance(42_000)
    expect(allowed(call()).responseHeaders?.ratelimit).toBe('"default";r=2;t=60')
  })

  it('sliding window: the previous window still counts by its overlap', () => {
    const { clock, call } = setup({ limit: 10, window: 60, algorithm: 'sliding-window' })
    for (let i = 0; i < 10; i++) allowed(call())
    expect(denied(call()).rule).toBe('rate-limit.exceeded')
    // Half-way into the next window, half of the previous 10 still count: 5 more fit.
    clock.advance(90_000)
    for (let i = 0; i < 5; i++) allowed(call())
    const denial = denied(call())
    // 10 * (1 - e/60) + 5 < 10 once e > 30 s: the next request fits 1 ms later.
    expect(denial.detail?.resetSeconds).toBe(1)
    clock.advance(6_000) // 36 s in: 10 * 0.4 + 5 = 9 < 10
    allowed(call())
    expect(denied(call()).status).toBe(429)
  })

  it('sliding window smooths the boundary burst a fixed window allows', () => {
    const fixed = setup({ limit: 10, window: 60, algorithm: 'fixed-window' })
    const sliding = setup({ limit: 10, window: 60, algorithm: 'sliding-window' })
    let fixedAdmitted = 0
    let slidingAdmitted = 0
    for (const s of [fixed, sliding]) s.clock.advance(59_000)
    for (let i = 0; i < 10; i++) {
      if (fixed.call().kind === 'allow') fixedAdmitted++
      if (sliding.call().kind === 'allow') slidingAdmitted++
    }
    for (const s of [fixed, sliding]) s.clock.advance(2_000)
    for (let i = 0; i < 10; i++) {
      if (fixed.call().kind === 'allow') fixedAdmitted++
      if (sliding.call().kind === 'allow') slidingAdmitted++
    }
    expect(fixedAdmitted).toBe(20)
    // 1 s into the new window the previous one still weighs 10 * 59/60: one request fits.
    expect(slidingAdmitted).toBe(11)
  })

  it('token bucket: a burst, then the refill rate', () => {
    const { clock, call } = setup({ limit: 60, window: 60, algorithm: 'token-bucket', burst: 5 })
    for (let i = 0; i < 5; i++) allowed(call())
    const denial = denied(call())
    expect(denial.headers?.['retry-after']).toBe('1')
    clock.advance(1_000)
    expect(allowed(call()).responseHeaders?.ratelimit).toBe('"default";r=0;t=1')
    expect(call().kind).toBe('deny')
    // A long pause refills to the burst size, no further.
    clock.advance(600_000)
    for (let i = 0; i < 5; i++) allowed(call())
    expect(call().kind).toBe('deny')
  })

  it('counts each consumer separately and anonymous callers by ip', () => {
    const { call } = setup({ limit: 1, window: 60 })
    allowed(call())
    expect(call().kind).toBe('deny')
    allowed(call(makeContext({ identity: { ...acme, consumer: 'globex' } })))
    allowed(call(makeContext({ clientIp: '198.51.100.7' })))
    const denial = denied(call(makeContext({ clientIp: '198.51.100.7' })))
    expect(denial.detail).toMatchObject({ keyKind: 'ip', key: '198.51.100.7' })
    allowed(call(makeContext({ clientIp: '198.51.100.8' })))
  })

  it('by route: one quota for every caller', () => {
    const { call } = setup({ limit: 2, window: 60, by: 'route' })
    allowed(call(makeContext({ clientIp: '10.0.0.1' })))
    allowed(call(makeContext({ identity: acme })))
    expect(denied(call(makeContext({ clientIp: '10.0.0.2' }))).detail?.keyKind).toBe('route')
  })

  it('by header: counts per value but never stores or shows the value', () => {
    const { call } = setup({ limit: 1, window: 60, by: 'header:X-Api-Key' })
    allowed(call(makeContext({ headers: { 'x-api-key': 'secret-key-one' } })))
    const denial = denied(call(makeContext({ headers: { 'x-api-key': 'secret-key-one' } })))
    expect(JSON.stringify(denial)).not.toContain('secret-key-one')
    expect(denial.detail?.key).toMatch(/^x-api-key sha256:[0-9a-f]{8}$/)
    allowed(call(makeContext({ headers: { 'x-api-key': 'secret-key-two' } })))
    // Without the header the caller is counted by ip.
    allowed(call(makeContext({ clientIp: '10.1.1.1' })))
  })

  it('answers 403 instead of 429 when configured for legacy clients, keeping Retry-After', () => {
    const { call } = setup({ limit: 1, window: 60, status: 403, algorithm: 'fixed-window' })
    allowed(call())
    const denial = denied(call())
    expect(denial.rule).toBe('rate-limit.exceeded')
    expect(denial.status).toBe(403)
    expect(denial.headers?.['retry-after']).toBe('60')
  })

  it('keeps counters across a reload that keeps the algorithm and window', () => {
    const shared = new Map<string, unknown>()
    const first = setup({ limit: 2, window: 60 }, { shared })
    allowed(first.call())
    allowed(first.call())
    const reloaded = setup({ limit: 2, window: 60 }, { shared })
    expect(reloaded.call().kind).toBe('deny')
  })

  it('refuses to compile store: redis without a top-level redis URL', () => {
    expect(() => setup({ limit: 1, window: 60, store: 'redis' })).toThrow(/no top-level 'redis:' URL/)
  })
})

describe('memory store bounds', () => {
  const spec = { algorithm: 'fixed-window', limit: 5, windowMs: 1000, capacity: 5 } as const

  it('never holds more than maxKeys, however many ips call', () => {
    const store = new MemoryStore(1000)
    for (let i = 0; i < 50_000; i++) store.hit(`ip:10.0.${i >> 8}.${i & 255}`, 0, spec)
    expect(store.size).toBeLessThanOrEqual(1000)
    expect(store.size).toBeGreaterThanOrEqual(500)
  })

  it('keeps counting a key that stays busy while a flood of other keys passes', () => {
    const store = new MemoryStore(1000)
    for (let i = 0; i < 5_000; i++) {
      store.hit(`ip:flood-${i}`, 0, spec)
      if (i % 100 === 0) store.hit('ip:busy', 0, spec)
    }
    // 50 hits for 'busy' against a limit of 5 in one window: it must not have been forgotten.
    expect(store.hit('ip:busy', 0, spec).allowed).toBe(false)
  })

  it('drops idle keys once their window has passed', () => {
    const store = new MemoryStore()
    for (let i = 0; i < 500; i++) store.hit(`ip:${i}`, 0, spec)
    expect(store.size).toBe(500)
    store.hit('ip:busy', 5_000, spec)
    store.hit('ip:busy', 7_000, spec)
    expect(store.size).toBe(1)
  })
})

describe('rate-limit lint', () => {
  const configWith = (policies: string) => `
upstreams: { app: { targets: [ "http://127.0.0.1:3001" ] } }
routes:
  - name: search
    match: { path: /search }
    upstream: app
    policies:
${policies}
`
  it('warns when a per-consumer limit sits on a route without auth', () => {
    const result = loadConfigText(configWith('      rateLimit: { limit: 10, window: 1m }'), 'g.yaml', {})
    expect(result.ok && result.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      "routes[0].policies.rateLimit.by: counts per consumer, but the route has no 'auth' policy: every caller is anonymous and is counted by client ip; write by: ip to say so, or add auth",
    ])
    const explicit = loadConfigText(configWith('      rateLimit: { limit: 10, window: 1m, by: ip }'), 'g.yaml', {})
    expect(explicit.ok && explicit.warnings).toEqual([])
  })
})
