/** A problem found in a route's `auth` block that only the whole file can reveal. */
export interface AuthnReferenceProblem {
  /** Path relative to the route's `policies.auth`. */
  path: (string | number)[]
  message: string
}

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/

/**
 * Checks an `auth` block against the rest of the config before anything is compiled, so
 * `gatehouse check` reports what would otherwise stop `start`: consumers that do not exist
 * and `env:NAME` secrets whose variable is unset. Reads defensively: the block may also
 * have schema problems, which are reported elsewhere.
 */
export function checkAuthnReferences(auth: unknown, consumerNames: ReadonlySet<string>, env: Record<string, string | undefined>): AuthnReferenceProblem[] {
  const problems: AuthnReferenceProblem[] = []
  if (typeof auth !== 'object' || auth === null) return problems
  const block = auth as Record<string, unknown>
  const known = consumerNames.size === 0 ? 'no consumers are defined' : `defined consumers: ${[...consumerNames].join(', ')}`
  const entries = (method: string, list: string): [number, Record<string, unknown>][] => {
    const options = block[method] as Record<string, unknown> | undefined
    const items = options?.[list]
    return Array.isArray(items) ? items.map((item, i): [number, Record<string, unknown>] => [i, (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>]) : []
  }
  const consumer = (path: (string | number)[], value: unknown) => {
    if (typeof value === 'string' && !consumerNames.has(value)) problems.push({ path, message: `unknown consumer '${value}'; ${known}` })
  }
  const secret = (path: (string | number)[], value: unknown) => {
    const named = typeof value === 'string' ? ENV_REF.exec(value) : null
    if (named && (env[named[1]] === undefined || env[named[1]] === '')) problems.push({ path, message: `environment variable ${named[1]} is not set (or is empty)` })
  }
  for (const [i, user] of entries('basic', 'users')) consumer(['basic', 'users', i, 'consumer'], user.consumer)
  for (const [i, key] of entries('hmac', 'keys')) {
    consumer(['hmac', 'keys', i, 'consumer'], key.consumer)
    secret(['hmac', 'keys', i, 'secret'], key.secret)
  }
  for (const [i, entry] of entries('mtls', 'consumers')) consumer(['mtls', 'consumers', i, 'consumer'], entry.consumer)
  const session = block.session as Record<string, unknown> | undefined
  if (session !== undefined) {
    secret(['session', 'secret'], session.secret)
    if (Array.isArray(session.previousSecrets)) session.previousSecrets.forEach((s, i) => secret(['session', 'previousSecrets', i], s))
  }
  const introspection = block.introspection as Record<string, unknown> | undefined
  if (introspection !== undefined) secret(['introspection', 'clientSecret'], introspection.clientSecret)
  const jwt = block.jwt as Record<string, unknown> | undefined
  if (jwt !== undefined) secret(['jwt', 'secret'], jwt.secret)
  return problems
}
