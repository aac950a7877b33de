/** One permission as compiled: a role, methods (undefined: any) and path patterns. */
export interface CompiledPermission {
  role: string
  methods: ReadonlySet<string> | undefined
  paths: readonly PathPattern[]
  /** As written, for traces: `orders-writer: POST,PUT /orders/*`. */
  label: string
}

/** `/orders`, `/orders/:id`, `/orders/*`: literal segments, one-segment parameters, a trailing prefix wildcard. */
export interface PathPattern {
  /** Segments after the leading slash; null stands for a `:param`. */
  segments: readonly (string | null)[]
  /** Ends in `/*`: matches any path below the segments. */
  prefix: boolean
}

/** Compiles `/orders/:id/*` style patterns; the schema has already checked their shape. */
export function compilePathPattern(pattern: string): PathPattern {
  const prefix = pattern.endsWith('/*')
  const body = prefix ? pattern.slice(0, -2) : pattern
  const segments = body === '' || body === '/' ? [] : body.slice(1).split('/').map((s) => (s.startsWith(':') ? null : s))
  // `/` alone is the root path, one empty segment, unless it is the `/*` catch-all.
  if (!prefix && body === '/') return { segments: [''], prefix }
  return { segments, prefix }
}

/**
 * Whether a pattern covers a normalised request path. Parameters match one non-empty
 * segment; a prefix pattern needs at least one more segment, like the route matcher.
 * Walks the path in place: no split, no allocation.
 */
export function matchesPath(pattern: PathPattern, path: string): boolean {
  const { segments, prefix } = pattern
  let at = 1 // after the leading slash
  for (let i = 0; i < segments.length; i++) {
    if (at > path.length) return false
    let end = path.indexOf('/', at)
    if (end === -1) end = path.length
    const want = segments[i]
    if (want === null) {
      if (end === at) return false
    } else if (end - at !== want.length || !path.startsWith(want, at)) {
      return false
    }
    at = end + 1
  }
  // Exact: the path ends right after the last segment. Prefix: at least one more segment.
  return prefix ? at <= path.length : at === path.length + 1
}

/** Whether a permission allows a method (HEAD counts as GET, as the route matcher treats it). */
export function allowsMethod(permission: CompiledPermission, method: string): boolean {
  const methods = permission.methods
  return methods === undefined || methods.has(method) || (method === 'HEAD' && methods.has('GET'))
}
