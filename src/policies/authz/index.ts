import type { Identity, RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { scopeRules as rules } from './rules.js'
import { AuthzConfig } from './schema.js'

/**
 * Authorization by scopes (`routes[].policies.scopes`): the identity authn established must
 * hold every listed scope. 403 when it does not; 401 when there is no identity at all,
 * which means the route lacks an `auth` policy.
 */
export const authzPolicy = definePolicy({
  name: 'authz',
  configKey: 'scopes',
  order: 700,
  schema: AuthzConfig,
  rules,
  compile(config, deps) {
    const required = [...new Set(config)]
    const route = deps.routeName
    const unauthenticated = Object.freeze(
      deny(rules.unauthenticated, {
        message: `Route '${route}' needs an authenticated caller.`,
        remediation: `Route '${route}' requires scopes but nothing authenticated the caller: add an 'auth' policy (routes[].policies.auth) to the route, or remove 'scopes'.`,
        detail: { required },
        // RFC 9110 §11.6.1: a 401 must carry a challenge; without an auth policy we cannot
        // name the right scheme, so offer both the gateway supports.
        headers: { 'www-authenticate': 'ApiKey realm="gatehouse", Bearer realm="gatehouse"' },
      }),
    )

    function denyMissing(identity: Identity, missing: string[]): Verdict {
      const quoted = missing.map((s) => `'${s}'`).join(', ')
      const noun = missing.length === 1 ? 'scope' : 'scopes'
      // RFC 6750 §3.1: a bearer-token caller learns which scope to request.
      const headers =
        identity.method === 'jwt' ? { 'www-authenticate': `Bearer realm="gatehouse", error="insufficient_scope", scope="${missing.join(' ')}"` } : undefined
      return deny(rules.missingScope, {
        message: `Route '${route}' needs ${noun} ${quoted}.`,
        remediation: `Grant the consumer '${identity.consumer}' ${noun} ${quoted} (consumers[].scopes) or issue a token with ${missing.length === 1 ? 'that scope' : 'those scopes'}.`,
        detail: { required, granted: [...identity.scopes], missing, consumer: identity.consumer },
        headers,
      })
    }

    return function evaluateAuthz(ctx: RequestContext): Verdict {
      const identity = ctx.identity
      if (identity === undefined) return unauthenticated
      const granted = identity.scopes
      // Few scopes on either side: a linear scan beats building a Set per request.
      for (let i = 0; i < required.length; i++) {
        if (!granted.includes(required[i])) return denyMissing(identity, required.filter((s) => !granted.includes(s)))
      }
      return allow()
    }
  },
})

export { authzRulesPolicy } from './rules-policy.js'
