import { describe, expect, it } from 'vitest'
import { loadConfigText, type ConfigProblem } from '../config/load.js'

const KEY = 'sha256:' + 'a'.repeat(64)
const KEY2 = 'sha256:' + 'b'.repeat(64)

const base = `
upstreams: { orders: { targets: [ "http://127.0.0.1:3001" ] } }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "${KEY}" ] }
  - { name: globex-app, tenant: globex, keys: [ "${KEY2}" ] }
routes:
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies: { auth: { methods: [ key ] }, subscription: {} }
  - name: orders-list
    match: { methods: [ GET ], path: /orders }
    upstream: orders
    policies: { auth: { methods: [ key ] }, subscription: {} }
`

function load(extra: string): { ok: boolean; problems: ConfigProblem[] } {
  const result = loadConfigText(base + extra, 'gatehouse.yaml', {})
  return result.ok ? { ok: true, problems: result.warnings } : { ok: false, problems: result.problems }
}

const good = `
tenants: [ { name: acme, admins: [ "alice@acme.test" ] }, { name: globex } ]
apis: [ { name: orders-api, tenant: acme, routes: [ orders-create, orders-list ], subscription: required } ]
subscriptions: [ { id: 12, consumer: acme-app, api: orders-api, state: pending } ]
`

describe('tenants, apis and subscriptions in the config file', () => {
  it('loads a valid model with defaults filled in', () => {
    const result = loadConfigText(base + good, 'gatehouse.yaml', {})
    if (!result.ok) throw new Error(JSON.stringify(result.problems))
    expect(result.warnings).toEqual([])
    expect(result.config.tenants[1]).toEqual({ name: 'globex', admins: [] })
    expect(result.config.apis[0]).toMatchObject({ subscription: 'required', sharedWith: [] })
    expect(result.config.subscriptions[0]).toEqual({ id: 12, consumer: 'acme-app', api: 'orders-api', state: 'pending' })
  })

  it.each([
    [
      'an unknown subscription state',
      good.replace('state: pending', 'state: paused'),
      'subscriptions[0].state',
      'expected one of "pending", "approved", "rejected", "revoked"',
    ],
    ['an unknown consumer in a subscription', good.replace('consumer: acme-app', 'consumer: acme-ap'), 'subscriptions[0].consumer', "unknown consumer 'acme-ap'"],
    ['an unknown api in a subscription', good.replace('api: orders-api, state', 'api: order-api, state'), 'subscriptions[0].api', "unknown api 'order-api'"],
    ['an unknown tenant on an api', good.replace('tenant: acme, routes', 'tenant: acne, routes'), 'apis[0].tenant', "unknown tenant 'acne'; defined tenants: acme, globex"],
    ['an unknown route in an api', good.replace('orders-list ]', 'orders-lst ]'), 'apis[0].routes[1]', "unknown route 'orders-lst'"],
    [
      'a route in two apis',
      good.replace('subscription: required } ]', 'subscription: required }, { name: list-api, tenant: globex, routes: [ orders-list ] } ]'),
      'apis[1].routes[0]',
      "route 'orders-list' already belongs to api 'orders-api' (apis[0].routes[1])",
    ],
    ['a consumer in an unknown tenant', good.replace('{ name: globex }', '{ name: globe }'), 'consumers[1].tenant', "unknown tenant 'globex'; defined tenants: acme, globe"],
    ['a duplicate subscription id', good.replace('state: pending } ]', 'state: pending }, { id: 12, consumer: globex-app, api: orders-api } ]'), 'subscriptions[1].id', "duplicate subscription id '12'"],
    ['an unknown key on a tenant', good.replace('{ name: globex }', '{ name: globex, owner: bob }'), 'tenants[1].owner', "unknown key 'owner'"],
    ['an api without routes', good.replace('routes: [ orders-create, orders-list ]', 'routes: []'), 'apis[0].routes', 'an api groups at least one route'],
    ['sharing with an unknown tenant', good.replace('subscription: required }', 'subscription: required, sharedWith: [ initech ] }'), 'apis[0].sharedWith[0]', "unknown tenant 'initech'"],
  ])('refuses %s with a located problem', (_name, extra, path, message) => {
    const { ok, problems } = load(extra)
    expect(ok).toBe(false)
    const problem = problems.find((p) => p.path === path)
    expect(problem, JSON.stringify(problems)).toBeDefined()
    expect(problem?.message).toContain(message)
    expect(problem?.line).toBeGreaterThan(1)
  })

  it('refuses a subscription policy on a route that no api lists', () => {
    const { ok, problems } = load(good.replace('routes: [ orders-create, orders-list ]', 'routes: [ orders-create ]'))
    expect(ok, JSON.stringify(problems)).toBe(false)
    expect(problems).toContainEqual(expect.objectContaining({ path: 'routes[1].policies.subscription', line: 14, severity: 'error' }))
  })

  it('warns about a route in a subscription-required api without a subscription policy, and a cross-tenant subscription', () => {
    const text = (base + good)
      .replace("policies: { auth: { methods: [ key ] }, subscription: {} }\n  - name: orders-list", 'policies: { auth: { methods: [ key ] } }\n  - name: orders-list')
      .replace('state: pending } ]', 'state: pending }, { id: 13, consumer: globex-app, api: orders-api } ]')
    const result = loadConfigText(text, 'gatehouse.yaml', {})
    if (!result.ok) throw new Error(JSON.stringify(result.problems))
    expect(result.warnings.map((w) => [w.path, w.message])).toEqual([
      ['routes[0].name', expect.stringContaining("is in api 'orders-api', which requires a subscription, but has no 'subscription' policy")],
      ['subscriptions[1].consumer', expect.stringContaining("consumer 'globex-app' belongs to tenant 'globex'")],
    ])
  })

  it('keeps accepting consumers with a tenant when no tenants are declared', () => {
    const { ok, problems } = load('')
    expect(problems.filter((p) => p.path.startsWith('consumers'))).toEqual([])
    // The subscription policies still need an api, which is what fails here.
    expect(ok).toBe(false)
  })
})
