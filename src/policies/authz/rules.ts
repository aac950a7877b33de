import type { Rule } from '../../core/denial.js'

/** Rules of the scope check (`routes[].policies.scopes`). */
export const scopeRules = {
  unauthenticated: {
    id: 'authz.unauthenticated',
    status: 401,
    title: 'Authentication required',
    meaning:
      "The route requires scopes, roles, permissions or attribute rules but no layer established who the caller is: the route has 'scopes' or 'authz' without an 'auth' policy, which is a configuration mistake.",
    remedy: 'Authenticate and retry; if this persists, the API operator must fix the route configuration.',
  },
  missingScope: {
    id: 'authz.missing-scope',
    status: 403,
    title: 'Missing required scope',
    meaning: 'The caller is authenticated but lacks one or more scopes the route requires.',
    remedy: 'Ask the API owner to grant your credentials the scope this operation needs.',
  },
} as const satisfies Record<string, Rule>

/** Rules of roles, permissions and attribute rules (`routes[].policies.authz`). 401 is `authz.unauthenticated` above. */
export const accessRules = {
  roleMissing: {
    id: 'authz.role-missing',
    status: 403,
    title: 'Missing required role',
    meaning: 'The caller is authenticated but holds none of the roles the route accepts (authz.roles).',
    remedy: 'Ask the API owner to grant your consumer a role that may use this operation.',
  },
  permissionDenied: {
    id: 'authz.permission-denied',
    status: 403,
    title: 'No permission for this method and path',
    meaning: "None of the route's permissions (authz.permissions) for the caller's roles covers the request's method and path.",
    remedy: 'Ask the API owner to grant your consumer a role permitted to call this method on this path.',
  },
  ruleDenied: {
    id: 'authz.rule-denied',
    status: 403,
    title: 'Refused by an access rule',
    meaning: "An attribute rule (authz.rules) refused the request: an 'allow' expression was false or a 'deny' expression was true. The trace names the rule and the values it saw.",
    remedy: 'The request does not meet an access condition of this API (for example tenant, time or ownership); check the operation and its parameters, or ask the API owner.',
  },
  ruleError: {
    id: 'authz.rule-error',
    status: 403,
    title: 'Access rule could not be evaluated',
    meaning:
      'An attribute rule (authz.rules) failed while evaluating, for example on a missing field or a value of the wrong type. Rules fail closed: the request is refused rather than let through unchecked. The trace holds the error.',
    remedy: 'The request could not be checked against an access rule of this API; ask the API owner, quoting the request id.',
  },
} as const satisfies Record<string, Rule>

/** Every rule the authz layer can deny with. The only place these ids are spelled. */
export const rules = { ...scopeRules, ...accessRules }
