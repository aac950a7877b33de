/** Result of normalising a request target. */
export type NormalizedTarget = { ok: true; path: string; query: string } | { ok: false; reason: string }

const unreserved = /[A-Za-z0-9\-._~]/

/**
 * Turns the raw request target into the one path that the router, every policy and the
 * upstream all see, so that a policy can never check one path while the upstream serves
 * another (`/admin` vs `/%61dmin` vs `/x/../admin`).
 *
 * - absolute-form (`http://host/p`) is reduced to its path;
 * - percent-encoded unreserved characters are decoded, other escapes upper-cased; an
 *   encoded `/` stays encoded, so it never becomes a separator;
 * - empty segments (`//`) collapse and dot segments are resolved (RFC 3986 §5.2.4);
 *   climbing above the root is refused, as nginx does.
 */
export function normalizeTarget(raw: string): NormalizedTarget {
  let target = raw
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf('://')
    if (scheme > 0 && scheme < 10) {
      const slash = target.indexOf('/', scheme + 3)
      target = slash === -1 ? '/' : target.slice(slash)
    } else {
      return { ok: false, reason: 'the request target must start with /' }
    }
  }
  const q = target.indexOf('?')
  let path = q === -1 ? target : target.slice(0, q)
  const query = q === -1 ? '' : target.slice(q + 1)
  const hash = path.indexOf('#')
  if (hash !== -1) path = path.slice(0, hash)

  // Fast path: nothing to decode and no segment to resolve.
  if (path.indexOf('%') === -1 && path.indexOf('//') === -1 && path.indexOf('/.') === -1) {
    return { ok: true, path, query }
  }

  let decoded = ''
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]
    if (ch !== '%') {
      decoded += ch
      continue
    }
    const hex = path.slice(i + 1, i + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, reason: `invalid percent-encoding '%${hex}' in the path` }
    const char = String.fromCharCode(parseInt(hex, 16))
    decoded += unreserved.test(char) ? char : `%${hex.toUpperCase()}`
    i += 2
  }

  const out: string[] = []
  const segments = decoded.split('/')
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]
    const isLast = i === segments.length - 1
    if (segment === '' && !isLast) continue
    if (segment === '.') {
      if (isLast) out.push('')
      continue
    }
    if (segment === '..') {
      if (out.length === 0) return { ok: false, reason: "the path climbs above the root with '..'" }
      out.pop()
      if (isLast) out.push('')
      continue
    }
    out.push(segment)
  }
  return { ok: true, path: `/${out.join('/')}`, query }
}
