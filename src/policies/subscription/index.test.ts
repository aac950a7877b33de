import { describe, expect, it } from 'vitest'
import type { Identity } from '../../gateway/context.js'
import { createTenancyView } from '../../tenancy/view.js'
import type { TenancyConfig } from '../../tenancy/view.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import type { Deny, Verdict } from '../define.js'
import { subscriptionPolicy } from './index.js'
import { SubscriptionPolicyConfig } from './schema.js'

const tenancyConfig: TenancyConfig = {
  tenants: [{ name: 'acme', admins: ['alice@acme.test'] }, { name: 'globex', admins: [] }, { name: 'initech', admins: [] }],
  apis: [
    { name: 'orders-api', tenant: 'acme', routes: ['orders-create'], subscription: 'required', sharedWith: ['initech'] },
    { name: 'status-api', tenant: 'acme', routes: ['status'], subscription: 'open', sharedWith: [] },
  ],
  subscriptions: [
    { id: 12, consumer: 'acme-app', api: 'orders-api', state: 'pending' },
    { id: 13, consumer: 'acme-old', api: 'orders-api', state: 'revoked' },
    { id: 14, consumer: 'acme-bad', api: 'orders-api', state: 'rejected' },
    { id: 15, consumer: 'initech-app', api: 'orders-api', state: 'approved' },
    { id: 16, consumer: 'globex-app', api: 'orders-api', state: 'approved' },
  ],
  consumers: [
    ...['acme-app', 'acme-old', 'acme-bad', 'acme-new'].map((name) => ({ name, tenant: 'acme' })),
    { name: 'globex-app', tenant: 'globex' },
    { name: 'initech-app', tenant: 'initech' },
    { name: 'nomad' },
  ],
}

function setup(route = 'orders-create', raw: unknown = {}) {
  const tenancy = createTenancyView(tenancyConfig, { clock: fakeClock() })
  const evaluate = subscriptionPolicy.compile(SubscriptionPolicyConfig.parse(raw), makeDeps({ routeName: route, tenancy }))
  const run = (consumer: string | undefined): Verdict => {
    const identity: Identity | undefined = consumer === undefined ? undefined : { consumer, method: 'key', scopes: [] }
    const verdict = evaluate(makeContext({ method: 'POST', url: '/orders', identity }))
    if (verdict instanceof Promise) throw new Error('subscription must answer synchronously')
    return verdict
  }
  return { run, registry: tenancy.subscriptions }
}

function denial(verdict: Verdict): Deny['denial'] {
  if (verdict.kind !== 'deny') throw new Error(`expected a denial, got ${verdict.kind}`)
  return verdict.denial
}

describe('subscription policy', () => {
  it('lets a consumer with an approved subscription through and names it in the trace', () => {
    const { run } = setup()
    const verdict = run('initech-app')
    expect(verdict).toMatchObject({ kind: 'allow', detail: { api: 'orders-api', subscription: '15' } })
    // The same frozen verdict each time: nothing allocated per request.
    expect(run('initech-app')).toBe(verdict)
  })

  it('denies a consumer without a subscription and says whom to ask', () => {
    const d = denial(setup().run('acme-new'))
    expect(d.rule).toBe('subscription.missing')
    expect(d.status).toBe(403)
    expect(d.message).toBe(
      "Consumer 'acme-new' has no subscription to API 'orders-api'; request one in the developer portal or ask the tenant admin of 'acme' (alice@acme.test).",
    )
    expect(d.remediation).toContain('add { consumer: acme-new, api: orders-api, state: approved } under subscriptions')
  })

  it('denies a pending subscription, asking the tenant admin to approve it by id', () => {
    const d = denial(setup().run('acme-app'))
    expect(d.rule).toBe('subscription.pending')
    expect(d.status).toBe(403)
    expect(d.message).toContain("ask the tenant admin of 'acme' (alice@acme.test) to approve subscription 12")
    expect(d.detail).toMatchObject({ subscription: '12', state: 'pending' })
    // The generic remedy for anonymous callers names no person.
    expect(d.publicRemedy).not.toContain('alice')
  })

  it('denies a rejected subscription', () => {
    const d = denial(setup().run('acme-bad'))
    expect([d.rule, d.status, d.detail?.subscription]).toEqual(['subscription.rejected', 403, '14'])
  })

  it('denies a revoked subscription', () => {
    const d = denial(setup().run('acme-old'))
    expect([d.rule, d.status, d.detail?.state]).toEqual(['subscription.revoked', 403, 'revoked'])
  })

  it('refuses a consumer of another tenant even with an approved subscription, unless the api is shared', () => {
    const { run } = setup()
    const d = denial(run('globex-app'))
    expect([d.rule, d.status]).toEqual(['subscription.cross-tenant', 403])
    expect(d.detail).toMatchObject({ tenant: 'acme', consumerTenant: 'globex' })
    expect(d.remediation).toContain("add 'globex' to the sharedWith of api 'orders-api'")
    expect(run('initech-app').kind).toBe('allow')
  })

  it('answers 401 when no authn layer set an identity', () => {
    const d = denial(setup().run(undefined))
    expect([d.rule, d.status]).toEqual(['subscription.unauthenticated', 401])
    expect(d.headers?.['www-authenticate']).toContain('ApiKey')
  })

  it('sees approvals and revocations made after compile, without recompiling', () => {
    const { run, registry } = setup()
    expect(denial(run('acme-app')).rule).toBe('subscription.pending')
    expect(registry.approve('12').ok).toBe(true)
    expect(run('acme-app').kind).toBe('allow')
    expect(registry.revoke('12').ok).toBe(true)
    expect(denial(run('acme-app')).rule).toBe('subscription.revoked')

    expect(registry.request('acme-new', 'orders-api').ok).toBe(true)
    expect(denial(run('acme-new')).rule).toBe('subscription.pending')
  })

  it('lets tenant members call an open api without a subscription, but not outsiders', () => {
    const { run } = setup('status')
    expect(run('acme-new')).toMatchObject({ kind: 'allow', detail: { subscription: 'open' } })
    expect(denial(run('globex-app')).rule).toBe('subscription.cross-tenant')
    expect(denial(run('nomad')).message).toContain('belongs to no tenant')
  })

  it('requires a subscription on an open api when the route says required: true', () => {
    expect(denial(setup('status', { required: true }).run('acme-new')).rule).toBe('subscription.missing')
  })

  it('checks only the tenant boundary when the route says required: false', () => {
    const { run } = setup('orders-create', { required: false })
    expect(run('acme-new').kind).toBe('allow')
    expect(denial(run('globex-app')).rule).toBe('subscription.cross-tenant')
  })

  it('refuses to compile for a route no api lists', () => {
    expect(() => setup('health')).toThrow("route 'health' has a subscription policy but no api lists it")
  })

  it('warns when the route has no auth policy', () => {
    expect(subscriptionPolicy.lint?.({}, { name: 'orders-create', policies: { subscription: {} } })).toEqual([
      { path: [], message: expect.stringContaining("no 'auth' policy") },
    ])
    expect(subscriptionPolicy.lint?.({}, { name: 'orders-create', policies: { subscription: {}, auth: { methods: ['key'] } } })).toEqual([])
  })

  it.each([
    [{ required: 'yes' }, ['required'], 'expected boolean'],
    [{ mode: 'strict' }, [], 'Unrecognized key'],
    [[], [], 'expected object'],
  ])('refuses the config %j', (raw, path, message) => {
    const result = SubscriptionPolicyConfig.safeParse(raw)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(result.error?.issues[0].message).toContain(message)
  })
})
