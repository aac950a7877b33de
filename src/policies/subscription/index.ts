import type { JsonObject } from '../../core/json.js'
import { GatewayError } from '../../core/errors.js'
import type { Identity, RequestContext } from '../../gateway/context.js'
import type { Subscription } from '../../tenancy/types.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { rules } from './rules.js'
import { SubscriptionPolicyConfig } from './schema.js'

/**
 * Subscriptions and the tenant boundary (`routes[].policies.subscription`). The route's API
 * (apis[]) belongs to a tenant: consumers of other tenants are refused unless the API is
 * shared with them, and a consumer needs an approved subscription when the API requires one.
 * An API marked `open` waives the subscription for consumers of the owning (or a sharing)
 * tenant only; a consumer with no tenant always needs a subscription.
 *
 * The registry is captured at compile time and read on every request, so an admin's approval
 * or revocation applies to the next request without recompiling.
 */
export const subscriptionPolicy = definePolicy({
  name: 'subscription',
  configKey: 'subscription',
  order: 600,
  schema: SubscriptionPolicyConfig,
  rules,
  lint(_config, route) {
    if (route.policies.auth !== undefined) return []
    return [{ path: [], message: "checks subscriptions but the route has no 'auth' policy, so every call is refused with 401" }]
  },
  compile(config, deps) {
    const route = deps.routeName
    const tenancy = deps.tenancy
    const api = tenancy?.apiForRoute(route)
    if (tenancy === undefined || api === undefined) {
      throw new GatewayError('config.compile', `route '${route}' has a subscription policy but no api lists it`, {
        remediation: `Add '${route}' to the routes of an entry under apis, or remove policies.subscription from the route.`,
      })
    }
    const registry = tenancy.subscriptions
    const apiName = api.name
    const sharedWith = [...api.sharedWith]
    const owner = api.tenant
    const allowedTenants = new Set([owner, ...api.sharedWith])
    const needsSubscription = config.required ?? api.subscription === 'required'
    const admins = tenancy.tenant(owner)?.admins ?? []
    const askAdmin = admins.length > 0 ? `the tenant admin of '${owner}' (${admins.join(', ')})` : `the tenant admin of '${owner}'`
    const facts = { api: apiName, tenant: owner }
    const openAllow = allow({ detail: { ...facts, subscription: 'open' } })

    const unauthenticated = Object.freeze(
      deny(rules.unauthenticated, {
        message: `Route '${route}' needs an authenticated caller.`,
        remediation: `Route '${route}' checks subscriptions but nothing authenticated the caller: add an 'auth' policy (routes[].policies.auth) to the route.`,
        detail: facts,
        // RFC 9110 §11.6.1: a 401 carries a challenge; without an auth policy we offer both schemes.
        headers: { 'www-authenticate': 'ApiKey realm="gatehouse", Bearer realm="gatehouse"' },
      }),
    )

    // One allow value per approved subscription record; records are replaced on every
    // transition, so a stale entry can never be served and the hot path allocates nothing.
    const approvedVerdicts = new WeakMap<Subscription, Verdict>()
    function approved(subscription: Subscription): Verdict {
      let verdict = approvedVerdicts.get(subscription)
      if (verdict === undefined) {
        verdict = allow({ detail: { ...facts, subscription: subscription.id } })
        approvedVerdicts.set(subscription, verdict)
      }
      return verdict
    }

    function denyCrossTenant(identity: Identity, consumerTenant: string | undefined): Verdict {
      const theirs = consumerTenant === undefined ? 'belongs to no tenant' : `belongs to tenant '${consumerTenant}'`
      return deny(rules.crossTenant, {
        message: `API '${apiName}' belongs to tenant '${owner}' and is not shared with consumer '${identity.consumer}', which ${theirs}.`,
        remediation:
          consumerTenant === undefined
            ? `Give consumer '${identity.consumer}' a tenant (consumers[].tenant) that owns or shares '${apiName}', or approve a subscription for it.`
            : `To let consumers of '${consumerTenant}' call it, add '${consumerTenant}' to the sharedWith of api '${apiName}' (apis[].sharedWith), or call with a consumer of '${owner}'.`,
        detail: { ...facts, consumer: identity.consumer, consumerTenant: consumerTenant ?? null, sharedWith: sharedWith },
      })
    }

    function denyState(identity: Identity, subscription: Subscription | undefined): Verdict {
      const consumer = identity.consumer
      const detail: JsonObject = { ...facts, consumer }
      if (subscription === undefined) {
        return deny(rules.missing, {
          message: `Consumer '${consumer}' has no subscription to API '${apiName}'; request one in the developer portal or ask ${askAdmin}.`,
          remediation: `Consumer '${consumer}' needs an approved subscription to '${apiName}': have ${askAdmin} approve one, or add { consumer: ${consumer}, api: ${apiName}, state: approved } under subscriptions.`,
          detail,
        })
      }
      detail.subscription = subscription.id
      detail.state = subscription.state
      if (subscription.reason !== undefined) detail.reason = subscription.reason
      const because = subscription.reason === undefined ? '' : ` (reason: ${subscription.reason})`
      if (subscription.state === 'pending') {
        return deny(rules.pending, {
          message: `Subscription ${subscription.id} of consumer '${consumer}' to API '${apiName}' is waiting for approval; ask ${askAdmin} to approve subscription ${subscription.id}.`,
          remediation: `Ask ${askAdmin} to approve subscription ${subscription.id} (admin API, or state: approved under subscriptions).`,
          detail,
        })
      }
      const rule = subscription.state === 'rejected' ? rules.rejected : rules.revoked
      return deny(rule, {
        message: `Subscription ${subscription.id} of consumer '${consumer}' to API '${apiName}' was ${subscription.state}${because}; ask ${askAdmin}, or request it again in the developer portal.`,
        remediation: `Subscription ${subscription.id} is ${subscription.state}. If the consumer should have access, ${askAdmin} must approve a new request (admin API, or state: approved under subscriptions).`,
        detail,
      })
    }

    return function evaluateSubscription(ctx: RequestContext): Verdict {
      const identity = ctx.identity
      if (identity === undefined) return unauthenticated
      // The operator's consumer entry outranks a tenant claimed by a token.
      const consumerTenant = tenancy.consumerTenant(identity.consumer) ?? identity.tenant
      if (consumerTenant !== undefined && !allowedTenants.has(consumerTenant)) return denyCrossTenant(identity, consumerTenant)
      if (!needsSubscription && consumerTenant !== undefined) return openAllow
      const subscription = registry.find(identity.consumer, apiName)
      if (subscription?.state === 'approved') return approved(subscription)
      if (!needsSubscription) return denyCrossTenant(identity, undefined)
      return denyState(identity, subscription)
    }
  },
})
