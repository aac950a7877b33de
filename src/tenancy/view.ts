import type { Clock } from '../core/clock.js'
import { createMemorySubscriptionRegistry } from './registry.js'
import type { ApiConfigValue, SubscriptionConfigValue, TenantConfigValue } from './schema.js'
import type { Api, SubscriptionRegistry, TenancyView, Tenant } from './types.js'

/** The parts of the root config the tenancy model is built from. */
export interface TenancyConfig {
  tenants: readonly TenantConfigValue[]
  apis: readonly ApiConfigValue[]
  subscriptions: readonly SubscriptionConfigValue[]
  consumers: readonly { name: string; tenant?: string }[]
}

/**
 * Indexes tenants, APIs and consumers of one config load for O(1) lookups. The registry is
 * built from `subscriptions:` unless one is passed (e.g. backed by the store); with the
 * previous load's view, runtime approvals and revocations survive a config reload.
 */
export function createTenancyView(
  config: TenancyConfig,
  options: { clock: Clock; subscriptions?: SubscriptionRegistry; previous?: TenancyView },
): TenancyView {
  const tenants = new Map<string, Tenant>()
  for (const t of config.tenants) if (!tenants.has(t.name)) tenants.set(t.name, Object.freeze({ name: t.name, admins: Object.freeze([...t.admins]) }))
  const apis = new Map<string, Api>()
  const byRoute = new Map<string, Api>()
  for (const a of config.apis) {
    if (apis.has(a.name)) continue
    const api: Api = Object.freeze({
      name: a.name,
      tenant: a.tenant,
      routes: Object.freeze([...a.routes]),
      subscription: a.subscription,
      sharedWith: Object.freeze([...a.sharedWith]),
    })
    apis.set(a.name, api)
    // The loader refuses a route in two APIs; should one slip through, the first API keeps it.
    for (const route of a.routes) if (!byRoute.has(route)) byRoute.set(route, api)
  }
  const consumerTenants = new Map<string, string | undefined>()
  for (const c of config.consumers) if (!consumerTenants.has(c.name)) consumerTenants.set(c.name, c.tenant)

  const subscriptions =
    options.subscriptions ??
    createMemorySubscriptionRegistry({
      clock: options.clock,
      subscriptions: config.subscriptions,
      isConsumer: (name) => consumerTenants.has(name),
      isApi: (name) => apis.has(name),
      previous: options.previous?.subscriptions,
    })

  return {
    tenant: (name) => tenants.get(name),
    api: (name) => apis.get(name),
    apiForRoute: (route) => byRoute.get(route),
    consumerTenant: (name) => consumerTenants.get(name),
    subscriptions,
  }
}
