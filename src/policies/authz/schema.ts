import { z } from 'zod'
import { MAX_EXPRESSION_CHARS, tryCompileExpression } from './cel.js'

/**
 * Scope token characters allowed by RFC 6749 §3.3 (printable ASCII except space, `"` and `\`).
 * One character class, so matching is linear.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** `routes[].policies.scopes`: scopes a caller must hold, all of them. */
export const AuthzConfig = z
  .array(
    z
      .string()
      .min(1, { error: 'a scope cannot be empty' })
      .max(256, { error: 'a scope is at most 256 characters' })
      .regex(SCOPE_TOKEN, { error: 'a scope is one word of printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)' })
      .describe("One required scope, such as 'orders:write', compared exactly (case-sensitive)."),
  )
  .min(1, { error: "list at least one scope, or remove 'scopes' from the route" })
  .max(64)
  .describe(
    "Scopes the authenticated caller must hold, all of them. A consumer's scopes come from consumers[].scopes, a token's from its scope claim (see auth.jwt.scopesClaim). Needs an 'auth' policy on the same route. Callers lacking one get 403 authz.missing-scope.",
  )

export type AuthzConfig = z.output<typeof AuthzConfig>

const NAME = /^[a-zA-Z0-9._:-]+$/
const METHOD = /^[A-Z]+$/
/** Literal segments of safe characters or `:param`, optionally ending in `/*`. One pass, no backtracking. */
const PATH_PATTERN = /^(\/(:?[A-Za-z0-9._~!$&'()+,;=@%-]+))*(\/\*?)?$/

const roleName = z
  .string()
  .min(1, { error: 'a role cannot be empty' })
  .max(128)
  .regex(NAME, { error: 'role names use letters, digits, dot, colon, dash and underscore' })

const expression = z
  .string()
  .min(1, { error: 'an expression cannot be empty' })
  .max(MAX_EXPRESSION_CHARS, { error: `an expression is at most ${MAX_EXPRESSION_CHARS} characters` })
  .superRefine((source, ctx) => {
    const compiled = tryCompileExpression(source)
    if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.message })
  })

const permission = z
  .object({
    role: roleName.describe('The role this permission is for (consumers[].roles, or the roles claim of a token).'),
    methods: z
      .array(z.string().regex(METHOD, { error: 'methods are upper-case tokens such as GET or POST' }))
      .min(1)
      .optional()
      .describe('HTTP methods allowed, upper-case. Every method when absent. GET also allows HEAD.'),
    paths: z
      .array(
        z
          .string()
          .startsWith('/', { error: 'a path starts with /' })
          .max(512)
          .regex(PATH_PATTERN, { error: "paths are '/orders' (exact), '/orders/:id' (one segment) or '/orders/*' (anything below)" }),
      )
      .min(1, { error: 'list at least one path' })
      .describe("Request paths allowed: '/orders' exact, '/orders/:id' with ':id' matching one segment, '/orders/*' for anything below /orders/."),
  })
  .strict()

const rule = z
  .object({
    name: z.string().min(1).max(64).regex(NAME, { error: 'rule names use letters, digits, dot, colon, dash and underscore' }).describe('Unique name of the rule; denials and traces quote it.'),
    allow: expression
      .optional()
      .describe(`CEL expression that must be true for the request to pass, e.g. 'identity.tenant == params.tenant'. At most ${MAX_EXPRESSION_CHARS} characters.`),
    deny: expression.optional().describe("CEL expression that refuses the request when true, e.g. 'time.hour < 6'. Give either allow or deny."),
    message: z.string().min(1).max(256).optional().describe('What the consumer is told when this rule refuses a request. Default: the rule name.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.allow === undefined) === (value.deny === undefined)) ctx.addIssue({ code: 'custom', message: "give exactly one of 'allow' or 'deny'", path: [] })
  })

/** `routes[].policies.authz`: roles, permissions and attribute rules, all of which must pass. */
export const AuthzRulesConfig = z
  .object({
    roles: z
      .array(roleName)
      .min(1, { error: "list at least one role, or remove 'roles'" })
      .max(64)
      .optional()
      .describe('The caller must hold at least one of these roles (consumers[].roles, or the roles claim of a token); otherwise 403 authz.role-missing.'),
    permissions: z
      .array(permission)
      .min(1, { error: "list at least one permission, or remove 'permissions'" })
      .max(256)
      .optional()
      .describe('Role-based permissions: a request passes when some permission for a role the caller holds covers its method and path; otherwise 403 authz.permission-denied.'),
    rules: z
      .array(rule)
      .min(1, { error: "list at least one rule, or remove 'rules'" })
      .max(32)
      .optional()
      .superRefine((list, ctx) => {
        const seen = new Set<string>()
        list?.forEach((r, i) => {
          if (seen.has(r.name)) ctx.addIssue({ code: 'custom', message: `duplicate rule name '${r.name}'`, path: [i, 'name'] })
          seen.add(r.name)
        })
      })
      .describe(
        "Attribute rules in CEL (the Common Expression Language), checked in order after roles and permissions. They read identity (consumer, tenant, scopes, roles, attributes, claims), request (method, path, query, headers without credentials), params, body (parsed JSON or null), client.ip and time (hour, minute, weekday 0=Sunday, epochSeconds, now; UTC). A false 'allow' or true 'deny' gives 403 authz.rule-denied; an expression that fails (missing field, wrong type) refuses the request with 403 authz.rule-error.",
      ),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.roles === undefined && value.permissions === undefined && value.rules === undefined) {
      ctx.addIssue({ code: 'custom', message: "give roles, permissions or rules, or remove 'authz' from the route", path: [] })
    }
  })
  .describe("Authorization by roles, per-role permissions and attribute rules. Needs an 'auth' policy on the same route. Runs after 'scopes'.")

export type AuthzRulesConfig = z.output<typeof AuthzRulesConfig>
