import type { Rule } from '../../core/denial.js'

/** Every rule the subscription layer can deny with. The only place these ids are spelled. */
export const rules = {
  unauthenticated: {
    id: 'subscription.unauthenticated',
    status: 401,
    title: 'Authentication required',
    meaning: "The route checks subscriptions but no layer established who the caller is: the route has a 'subscription' policy without an 'auth' policy, which is a configuration mistake.",
    remedy: 'Authenticate and retry; if this persists, the API operator must fix the route configuration.',
  },
  crossTenant: {
    id: 'subscription.cross-tenant',
    status: 403,
    title: 'API belongs to another tenant',
    meaning: "The caller's consumer belongs to a tenant other than the one that owns the API, and the API is not shared with the caller's tenant.",
    remedy: 'This API is not offered to your organisation; ask the API owner to share it with your tenant.',
  },
  missing: {
    id: 'subscription.missing',
    status: 403,
    title: 'No subscription to this API',
    meaning: 'The caller is authenticated but its consumer has no subscription to the API this route belongs to, and the API requires one.',
    remedy: 'Request a subscription to this API in the developer portal, or ask the API owner for one.',
  },
  pending: {
    id: 'subscription.pending',
    status: 403,
    title: 'Subscription awaiting approval',
    meaning: "The consumer's subscription to the API was requested but a tenant admin has not approved it yet.",
    remedy: 'Wait for the API owner to approve your subscription, or contact them.',
  },
  rejected: {
    id: 'subscription.rejected',
    status: 403,
    title: 'Subscription rejected',
    meaning: "A tenant admin rejected the consumer's subscription request for the API.",
    remedy: 'Contact the API owner about your rejected subscription; you may request it again.',
  },
  revoked: {
    id: 'subscription.revoked',
    status: 403,
    title: 'Subscription revoked',
    meaning: "The consumer's subscription to the API was approved once and has since been revoked by a tenant admin.",
    remedy: 'Contact the API owner about your revoked subscription; you may request it again.',
  },
} as const satisfies Record<string, Rule>
