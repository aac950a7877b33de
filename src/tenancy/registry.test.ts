import { describe, expect, it } from 'vitest'
import { fakeClock } from '../testing/fake-clock.js'
import { createMemorySubscriptionRegistry } from './registry.js'
import { createTenancyView } from './view.js'

function makeView() {
  const clock = fakeClock(Date.UTC(2026, 0, 1))
  const view = createTenancyView(
    {
      tenants: [{ name: 'acme', admins: ['alice@acme.test'] }, { name: 'globex', admins: [] }],
      apis: [
        { name: 'orders-api', tenant: 'acme', routes: ['orders-create', 'orders-list'], subscription: 'required', sharedWith: [] },
        { name: 'billing-api', tenant: 'acme', routes: ['billing'], subscription: 'open', sharedWith: ['globex'] },
      ],
      subscriptions: [
        { id: 12, consumer: 'acme-app', api: 'orders-api', state: 'approved' },
        { id: 'legacy-1', consumer: 'globex-app', api: 'billing-api', state: 'rejected' },
      ],
      consumers: [{ name: 'acme-app', tenant: 'acme' }, { name: 'globex-app', tenant: 'globex' }, { name: 'mobile' }],
    },
    { clock },
  )
  return { view, clock, registry: view.subscriptions }
}

describe('tenancy view', () => {
  it('finds the api of a route, its tenant and a consumer tenant', () => {
    const { view } = makeView()
    expect(view.apiForRoute('orders-list')?.name).toBe('orders-api')
    expect(view.apiForRoute('health')).toBeUndefined()
    expect(view.tenant('acme')?.admins).toEqual(['alice@acme.test'])
    expect(view.consumerTenant('globex-app')).toBe('globex')
    expect(view.consumerTenant('mobile')).toBeUndefined()
  })
})

describe('subscription registry', () => {
  it('seeds subscriptions from config, ids as strings, found by consumer and api', () => {
    const { registry } = makeView()
    expect(registry.find('acme-app', 'orders-api')).toMatchObject({ id: '12', state: 'approved', updatedAt: Date.UTC(2026, 0, 1) })
    expect(registry.get('legacy-1')?.state).toBe('rejected')
    expect(registry.find('acme-app', 'billing-api')).toBeUndefined()
  })

  it('walks request → pending → approved → revoked, stamping each change', () => {
    const { registry, clock } = makeView()
    const requested = registry.request('mobile', 'orders-api')
    if (!requested.ok) throw new Error(requested.message)
    expect(requested.subscription).toMatchObject({ id: '13', consumer: 'mobile', api: 'orders-api', state: 'pending' })
    expect(registry.find('mobile', 'orders-api')?.state).toBe('pending')

    clock.advance(60_000)
    const approved = registry.approve('13')
    expect(approved.ok && approved.subscription).toMatchObject({ state: 'approved', updatedAt: Date.UTC(2026, 0, 1) + 60_000 })
    expect(registry.find('mobile', 'orders-api')?.state).toBe('approved')

    const revoked = registry.revoke('13', 'contract ended')
    expect(revoked.ok && revoked.subscription).toMatchObject({ state: 'revoked', reason: 'contract ended' })
    expect(registry.find('mobile', 'orders-api')?.state).toBe('revoked')
  })

  it('re-opens a rejected or revoked subscription under the same id when requested again', () => {
    const { registry } = makeView()
    const again = registry.request('globex-app', 'billing-api')
    expect(again.ok && again.subscription).toMatchObject({ id: 'legacy-1', state: 'pending' })
    expect(again.ok && again.subscription.reason).toBeUndefined()
  })

  it('keeps a pending request idempotent and refuses one for an approved subscription', () => {
    const { registry } = makeView()
    const first = registry.request('mobile', 'billing-api')
    const second = registry.request('mobile', 'billing-api')
    expect(first.ok && second.ok && second.subscription).toBe(first.ok && first.subscription)
    expect(registry.request('acme-app', 'orders-api')).toMatchObject({ ok: false, error: 'invalid-transition' })
  })

  it.each([
    ['approve an approved one', (r: ReturnType<typeof makeView>['registry']) => r.approve('12'), 'invalid-transition', 'subscription 12 is approved; only a pending subscription can be approved'],
    ['reject an approved one', (r: ReturnType<typeof makeView>['registry']) => r.reject('12'), 'invalid-transition', 'only a pending subscription can be rejected'],
    ['revoke a rejected one', (r: ReturnType<typeof makeView>['registry']) => r.revoke('legacy-1'), 'invalid-transition', 'subscription legacy-1 is rejected; only an approved subscription can be revoked'],
    ['approve an unknown id', (r: ReturnType<typeof makeView>['registry']) => r.approve('99'), 'not-found', "no subscription has id '99'"],
    ['request for an unknown consumer', (r: ReturnType<typeof makeView>['registry']) => r.request('nobody', 'orders-api'), 'unknown-consumer', "no consumer is named 'nobody'"],
    ['request for an unknown api', (r: ReturnType<typeof makeView>['registry']) => r.request('mobile', 'nope'), 'unknown-api', "no api is named 'nope'"],
  ])('refuses to %s and changes nothing', (_name, act, error, message) => {
    const { registry } = makeView()
    const before = registry.list()
    const result = act(registry)
    expect(result).toMatchObject({ ok: false, error })
    expect(!result.ok && result.message).toContain(message)
    expect(registry.list()).toEqual(before)
  })

  it('lists by consumer, api and state, numeric ids in numeric order', () => {
    const { registry } = makeView()
    registry.request('mobile', 'orders-api')
    registry.request('mobile', 'billing-api')
    expect(registry.list().map((s) => s.id)).toEqual(['12', '13', '14', 'legacy-1'])
    expect(registry.list({ consumer: 'mobile', state: 'pending' }).map((s) => s.api)).toEqual(['orders-api', 'billing-api'])
    expect(registry.list({ api: 'orders-api', state: 'approved' }).map((s) => s.consumer)).toEqual(['acme-app'])
  })
})

describe('subscription registry across config reloads', () => {
  const base = {
    clock: fakeClock(),
    isConsumer: (name: string) => ['acme-app', 'mobile', 'other'].includes(name),
    isApi: (name: string) => name === 'orders-api',
  }
  const seed = [{ id: 12, consumer: 'acme-app', api: 'orders-api', state: 'pending' as const }]

  it('keeps approvals and requests made at runtime when the file did not change them', () => {
    const first = createMemorySubscriptionRegistry({ ...base, subscriptions: seed })
    first.approve('12')
    first.request('mobile', 'orders-api')
    const second = createMemorySubscriptionRegistry({ ...base, subscriptions: seed, previous: first })
    expect(second.get('12')?.state).toBe('approved')
    expect(second.find('mobile', 'orders-api')).toMatchObject({ id: '13', state: 'pending' })
    // And again on the next reload: carried-over changes stay changes.
    const third = createMemorySubscriptionRegistry({ ...base, subscriptions: seed, previous: second })
    expect(third.get('12')?.state).toBe('approved')
  })

  it('lets the file win for a subscription it changed, and for an id it now uses', () => {
    const first = createMemorySubscriptionRegistry({ ...base, subscriptions: seed })
    first.approve('12')
    first.request('mobile', 'orders-api')
    const edited = [
      { id: 12, consumer: 'acme-app', api: 'orders-api', state: 'rejected' as const },
      { id: 13, consumer: 'other', api: 'orders-api', state: 'approved' as const },
    ]
    const second = createMemorySubscriptionRegistry({ ...base, subscriptions: edited, previous: first })
    expect(second.get('12')?.state).toBe('rejected')
    expect(second.get('13')).toMatchObject({ consumer: 'other', state: 'approved' })
    expect(second.find('mobile', 'orders-api')).toBeUndefined()
  })

  it('drops runtime changes for consumers or apis the new file removed', () => {
    const first = createMemorySubscriptionRegistry({ ...base, subscriptions: seed })
    first.request('mobile', 'orders-api')
    const second = createMemorySubscriptionRegistry({ ...base, isConsumer: (name) => name === 'acme-app', subscriptions: seed, previous: first })
    expect(second.list().map((s) => s.id)).toEqual(['12'])
  })
})
