import { z } from 'zod'

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
