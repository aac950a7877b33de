import { GatewayError } from '../../core/errors.js'
import type { JsonObject } from '../../core/json.js'
import type { RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { activationNeeds, createActivationBuilder, createIdentityResolver, describeSaw, type RuleIdentity } from './activation.js'
import { summaryOf, tryCompileExpression, type CompiledExpression } from './cel.js'
import { allowsMethod, compilePathPattern, matchesPath, type CompiledPermission } from './permissions.js'
import { accessRules, scopeRules } from './rules.js'
import { AuthzRulesConfig } from './schema.js'

interface CompiledRule {
  name: string
  /** true: the expression must hold; false: the expression refuses when it holds. */
  isAllow: boolean
  expression: CompiledExpression
  message?: string
}

/**
 * Authorization by roles, per-role permissions and CEL attribute rules
 * (`routes[].policies.authz`). It shares the `authz` layer with the scope check and runs just
 * after it. Checks run in order (roles, permissions, rules) and the first failure denies.
 *
 * Rules fail closed: an expression that errors (a missing field, a wrong type) refuses the
 * request with `authz.rule-error` and the error in the trace, because a check that could not
 * run must not let a request through.
 */
export const authzRulesPolicy = definePolicy({
  name: 'authz',
  configKey: 'authz',
  order: 710,
  schema: AuthzRulesConfig,
  rules: accessRules,
  lint(_config, route) {
    if (route.policies.auth !== undefined) return []
    return [{ path: [], message: "checks roles or rules but the route has no 'auth' policy, so every call is refused with 401" }]
  },
  compile(config, deps) {
    const route = deps.routeName
    const clock = deps.clock
    const resolveIdentity = createIdentityResolver(deps.consumers)
    const requiredRoles = config.roles === undefined ? undefined : [...new Set(config.roles)]
    const permissions: CompiledPermission[] | undefined = config.permissions?.map((p) => ({
      role: p.role,
      methods: p.methods === undefined ? undefined : new Set(p.methods),
      paths: p.paths.map(compilePathPattern),
      label: `${p.role}: ${p.methods?.join(',') ?? 'any method'} ${p.paths.join(' ')}`,
    }))
    const rules: CompiledRule[] = (config.rules ?? []).map((r) => {
      const source = r.allow ?? r.deny ?? ''
      const compiled = tryCompileExpression(source)
      // The schema ran the same check, so this only fires for configs built in code.
      if (!compiled.ok) throw new GatewayError('config.compile', `route '${route}': authz rule '${r.name}': ${compiled.message}`)
      return { name: r.name, isAllow: r.allow !== undefined, expression: compiled.expression, message: r.message }
    })
    const buildActivation = createActivationBuilder(activationNeeds(rules.flatMap((r) => r.expression.references)))

    const unauthenticated = Object.freeze(
      deny(scopeRules.unauthenticated, {
        message: `Route '${route}' needs an authenticated caller.`,
        remediation: `Route '${route}' checks roles or rules but nothing authenticated the caller: add an 'auth' policy (routes[].policies.auth) to the route, or remove 'authz'.`,
        // RFC 9110 §11.6.1: a 401 carries a challenge; without an auth policy we offer both schemes.
        headers: { 'www-authenticate': 'ApiKey realm="gatehouse", Bearer realm="gatehouse"' },
      }),
    )

    function denyRoles(identity: RuleIdentity, required: string[]): Verdict {
      const quoted = required.map((r) => `'${r}'`).join(', ')
      return deny(accessRules.roleMissing, {
        message: required.length === 1 ? `Route '${route}' needs role ${quoted}.` : `Route '${route}' needs one of the roles ${quoted}.`,
        remediation: `Grant consumer '${identity.consumer}' ${required.length === 1 ? 'role' : 'one of the roles'} ${quoted} (consumers[].roles), or issue a token carrying it.`,
        detail: { consumer: identity.consumer, required, granted: [...identity.roles] },
      })
    }

    function denyPermission(ctx: RequestContext, identity: RuleIdentity, list: CompiledPermission[]): Verdict {
      const considered = list.filter((p) => identity.roles.includes(p.role)).map((p) => p.label)
      const held = identity.roles.length === 0 ? 'no roles' : `roles ${identity.roles.map((r) => `'${r}'`).join(', ')}`
      return deny(accessRules.permissionDenied, {
        message: `None of your roles may ${ctx.method} ${ctx.path} on route '${route}'.`,
        remediation: `Consumer '${identity.consumer}' has ${held}; add a permission covering ${ctx.method} ${ctx.path} for one of them under routes[].policies.authz.permissions, or grant a role that has one (consumers[].roles).`,
        detail: { consumer: identity.consumer, method: ctx.method, path: ctx.path, granted: [...identity.roles], considered },
      })
    }

    function evaluateRules(ctx: RequestContext, identity: RuleIdentity): Verdict {
      const activation = buildActivation(ctx, identity, clock.now())
      for (const rule of rules) {
        let result: unknown
        try {
          result = rule.expression.run(activation)
        } catch (error) {
          return denyRule(accessRules.ruleError, rule, activation, `Rule '${rule.name}' could not be evaluated for this request.`, summaryOf(error))
        }
        if (typeof result !== 'boolean') {
          return denyRule(accessRules.ruleError, rule, activation, `Rule '${rule.name}' could not be evaluated for this request.`, `the expression gave ${typeof result}, not true or false`)
        }
        if (result !== rule.isAllow) return denyRule(accessRules.ruleDenied, rule, activation, rule.message ?? `Refused by access rule '${rule.name}'.`)
      }
      return allow()
    }

    function denyRule(kind: typeof accessRules.ruleDenied | typeof accessRules.ruleError, rule: CompiledRule, activation: Record<string, unknown>, message: string, error?: string): Verdict {
      const { saw, absent } = describeSaw(rule.expression.references, activation)
      const detail: JsonObject = { rule: rule.name, [rule.isAllow ? 'allow' : 'deny']: rule.expression.source, saw }
      if (absent.length > 0) detail.absent = absent
      if (error !== undefined) detail.error = error
      const remediation =
        error === undefined
          ? `Access rule '${rule.name}' (routes[].policies.authz.rules) ${rule.isAllow ? 'did not allow' : 'denied'} the request; the trace shows the values it saw. Change the rule if this request should pass.`
          : `Access rule '${rule.name}' failed: ${error}. Rules fail closed; guard optional fields with has(...) or fix the expression.`
      return deny(kind, { message, remediation, detail })
    }

    return function evaluateAuthzRules(ctx: RequestContext): Verdict {
      if (ctx.identity === undefined) return unauthenticated
      const identity = resolveIdentity(ctx.identity)
      if (requiredRoles !== undefined && !holdsAny(identity.roles, requiredRoles)) return denyRoles(identity, requiredRoles)
      if (permissions !== undefined) {
        if (!isPermitted(permissions, identity.roles, ctx.method, ctx.path)) return denyPermission(ctx, identity, permissions)
      }
      return rules.length === 0 ? allow() : evaluateRules(ctx, identity)
    }
  },
})

// Few roles on either side: a nested scan beats building a Set per request.
function holdsAny(granted: readonly string[], required: readonly string[]): boolean {
  for (let i = 0; i < required.length; i++) if (granted.includes(required[i])) return true
  return false
}

/** Some permission of a held role covers the method and path. */
function isPermitted(permissions: readonly CompiledPermission[], roles: readonly string[], method: string, path: string): boolean {
  for (let i = 0; i < permissions.length; i++) {
    const p = permissions[i]
    if (!roles.includes(p.role) || !allowsMethod(p, method)) continue
    for (let k = 0; k < p.paths.length; k++) if (matchesPath(p.paths[k], path)) return true
  }
  return false
}
