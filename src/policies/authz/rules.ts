import type { Rule } from '../../core/denial.js'

/** Every rule the authz layer can deny with. The only place these ids are spelled. */
export const rules = {
  unauthenticated: {
    id: 'authz.unauthenticated',
    status: 401,
    title: 'Authentication required',
    meaning: "The route requires scopes but no layer established who the caller is: the route has 'scopes' without an 'auth' policy, which is a configuration mistake.",
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
