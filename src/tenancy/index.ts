export { createMemorySubscriptionRegistry, type MemoryRegistryOptions } from './registry.js'
export { ApiConfig, SubscriptionConfig, SubscriptionState, TenantConfig } from './schema.js'
export type { Api, Subscription, SubscriptionChange, SubscriptionChangeError, SubscriptionFilter, SubscriptionRegistry, TenancyView, Tenant } from './types.js'
export { createTenancyView, type TenancyConfig } from './view.js'
