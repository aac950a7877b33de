import { z } from 'zod'

/** `routes[].policies.subscription`: the caller's consumer must be subscribed to the route's API. */
export const SubscriptionPolicyConfig = z
  .object({
    required: z
      .boolean()
      .optional()
      .describe(
        "true: an approved subscription is needed even when the API is open; false: only the tenant boundary is checked (the consumer's tenant must own the API or be in its sharedWith). When absent, the API's own subscription setting (apis[].subscription, default required) decides.",
      ),
  })
  .strict()
  .describe(
    "Checks that the authenticated consumer may use the API (apis[]) this route belongs to: same tenant or shared, and an approved subscription (subscriptions[]) when the API requires one. Needs an 'auth' policy on the same route, and the route must be listed in an API.",
  )

export type SubscriptionPolicyConfig = z.output<typeof SubscriptionPolicyConfig>
