import { z } from 'zod'

const NAME = /^[a-zA-Z0-9._-]+$/
const nameError = 'names use letters, digits, dot, dash and underscore'

/** `tenants[]`: an organisation that owns APIs and consumers. */
export const TenantConfig = z
  .object({
    name: z.string().min(1).max(128).regex(NAME, nameError).describe('Unique tenant name, such as acme. Consumers and APIs refer to it.'),
    admins: z
      .array(z.string().min(1).max(256))
      .max(32)
      .default([])
      .describe("Who approves subscriptions to the tenant's APIs (e-mail addresses or names). Denials tell consumers to ask them. Default none."),
  })
  .strict()

/** `apis[]`: a group of routes owned by one tenant, which consumers subscribe to. */
export const ApiConfig = z
  .object({
    name: z.string().min(1).max(128).regex(NAME, nameError).describe('Unique API name, such as orders-api. Subscriptions refer to it.'),
    tenant: z.string().min(1).describe('Name of the tenant (under tenants) that owns the API.'),
    routes: z
      .array(z.string().min(1))
      .min(1, { error: 'an api groups at least one route' })
      .describe('Names of the routes (under routes) that make up the API. A route belongs to at most one API.'),
    subscription: z
      .enum(['required', 'open'])
      .default('required')
      .describe(
        "required: a consumer needs an approved subscription to call the API's routes; open: any consumer of the owning tenant (or of a tenant in sharedWith) may call them. Enforced on routes with a 'subscription' policy. Default required.",
      ),
    sharedWith: z
      .array(z.string().min(1))
      .default([])
      .describe("Other tenants whose consumers may use the API. Consumers of any other tenant are refused with 403 subscription.cross-tenant. Default: none, the API is private to its tenant."),
    description: z
      .string()
      .min(1)
      .max(2000)
      .optional()
      .describe('What the API offers, shown to consumers in the developer portal. Optional.'),
    openapi: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe("Path of the API's OpenAPI document (JSON or YAML), relative to the config file, served to its consumers by the developer portal. When absent the portal generates one from the API's routes."),
  })
  .strict()

/** The life cycle of a subscription: requested (pending), then approved or rejected; an approved one may be revoked. */
export const SubscriptionState = z.enum(['pending', 'approved', 'rejected', 'revoked'])

/** `subscriptions[]`: one consumer's subscription to one API. */
export const SubscriptionConfig = z
  .object({
    id: z
      .union([z.number().int().min(1), z.string().min(1).max(64).regex(NAME, 'subscription ids use letters, digits, dot, dash and underscore')])
      .describe('Unique subscription id, a positive number or a short name. Denials quote it so admins know what to approve.'),
    consumer: z.string().min(1).describe('Name of the subscribing consumer (under consumers).'),
    api: z.string().min(1).describe('Name of the API (under apis) subscribed to.'),
    state: SubscriptionState.default('approved').describe(
      'pending (requested, waiting for a tenant admin), approved (calls allowed), rejected or revoked (calls refused). Default approved: a subscription written in the file is already granted.',
    ),
  })
  .strict()

export type TenantConfigValue = z.output<typeof TenantConfig>
export type ApiConfigValue = z.output<typeof ApiConfig>
export type SubscriptionConfigValue = z.output<typeof SubscriptionConfig>
export type SubscriptionStateValue = z.output<typeof SubscriptionState>
