import type { SubscriptionStateValue } from './schema.js'

export type SubscriptionState = SubscriptionStateValue

/** A tenant as the gateway sees it. */
export interface Tenant {
  readonly name: string
  /** Who approves subscriptions to the tenant's APIs. */
  readonly admins: readonly string[]
}

/** An API: routes owned by one tenant, subscribed to as a whole. */
export interface Api {
  readonly name: string
  readonly tenant: string
  readonly routes: readonly string[]
  readonly subscription: 'required' | 'open'
  /** Other tenants whose consumers may call the API. */
  readonly sharedWith: readonly string[]
}

/** One consumer's subscription to one API. Records are immutable: a transition replaces the record. */
export interface Subscription {
  readonly id: string
  readonly consumer: string
  readonly api: string
  readonly state: SubscriptionState
  /** Epoch ms of the last transition (config load time for subscriptions from the file). */
  readonly updatedAt: number
  /** Why it was rejected or revoked, when an admin said so. */
  readonly reason?: string
}

/** Why a subscription change was refused. */
export type SubscriptionChangeError = 'not-found' | 'unknown-consumer' | 'unknown-api' | 'invalid-transition'

/** Outcome of a registry change: the new record, or why nothing changed. */
export type SubscriptionChange =
  | { ok: true; subscription: Subscription }
  | { ok: false; error: SubscriptionChangeError; message: string }

/** Filters for `SubscriptionRegistry.list`; all given ones must match. */
export interface SubscriptionFilter {
  consumer?: string
  api?: string
  state?: SubscriptionState
}

/**
 * Who is subscribed to what. The subscription policy captures the registry when it is
 * compiled and reads it on every request, so approvals take effect without a reload.
 * `find` is on the hot path and must answer from memory; a store-backed registry keeps a
 * cache and writes through.
 */
export interface SubscriptionRegistry {
  /** The subscription of `consumer` to `api`, if any (O(1)). */
  find(consumer: string, api: string): Subscription | undefined
  get(id: string): Subscription | undefined
  /** Subscriptions ordered by id (numerically where ids are numbers). */
  list(filter?: SubscriptionFilter): Subscription[]
  /** A consumer asks for access: creates a pending subscription, or re-opens a rejected or revoked one. */
  request(consumer: string, api: string): SubscriptionChange
  /** pending → approved. */
  approve(id: string): SubscriptionChange
  /** pending → rejected. */
  reject(id: string, reason?: string): SubscriptionChange
  /** approved → revoked. */
  revoke(id: string, reason?: string): SubscriptionChange
}

/** Tenants, APIs and subscriptions of one config load, as the policies read them. */
export interface TenancyView {
  tenant(name: string): Tenant | undefined
  api(name: string): Api | undefined
  /** The API a route belongs to, if any. */
  apiForRoute(routeName: string): Api | undefined
  /** The tenant a configured consumer belongs to. */
  consumerTenant(consumer: string): string | undefined
  readonly subscriptions: SubscriptionRegistry
}
