/** Result of normalising a request target. */
export type NormalizedTarget = { ok: true; path: string; query: string } | { ok: false; reason: string }

const unreserved = /[A-Za-z0-9\-._~]/
const hexPair = /^[0-9A-Fa-f]{2}$/
const doubleEncoded = /%25[0-9A-Fa-f]{2}/

/**
 * Turns the raw request target into the one path that the router, every policy and the
 * upstream all see, so that a policy can never check one path while the upstream serves
 * another (`/admin` vs `/%61dmin` vs `/x/../admin`).
 *
 * - absolute-form (`http://host/p`) is reduced to its path; a fragment is dropped;
 * - percent-encoded unreserved characters are decoded, other escapes upper-cased;
 * - empty segments (`//`) collapse and dot segments are resolved (RFC 3986 §5.2.4);
 *   climbing above the root is refused, as nginx does.
 *
 * Refused outright (400 `gateway.bad-path`), because the upstream behind the gateway may
 * read them differently from the router, and a path the policies checked as `/public/...`
 * would then be served as `/admin`:
 * - an encoded `/` (`%2F`) or any backslash (`\`, `%5C`): servers that decode `%2F`
 *   (Tomcat with ALLOW_ENCODED_SLASH, many proxies) or fold `\` into `/` (IIS, ASP.NET)
 *   turn `/public/..%2Fadmin` into `/admin`. Apache httpd refuses `%2F` by default too
 *   (`AllowEncodedSlashes Off`); APIs that need it (GitLab-style `group%2Fproject` ids)
 *   would need an opt-in per route;
 * - `;` path parameters (raw or `%3B`): Tomcat, Jetty and Spring strip `;...` from each segment, so
 *   `/public/..;/admin` reaches `/admin` and `/admin;x=1` dodges an `/admin` route. Stripping
 *   them here would silently change what the client asked for; APIs rarely use them;
 * - an encoded `%` that forms another escape (`%252e`): a double-decoding upstream sees `.`;
 * - control characters (`%00`–`%1F`, `%7F`): NUL truncates paths in C-based servers and
 *   CR/LF ends up in redirect headers;
 * - escapes that are not valid UTF-8, including overlong forms (`%C0%AE` for `.`) that old
 *   decoders accept.
 */
export function normalizeTarget(raw: string): NormalizedTarget {
  let target = raw
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf('://')
    if (scheme > 0 && scheme < 10) {
      // The authority ends at the first '/', '?' or '#': `http://evil?/admin` asks for `/`.
      const rest = target.slice(scheme + 3)
      const end = rest.search(/[/?#]/)
      target = end === -1 ? '/' : rest[end] === '/' ? rest.slice(end) : `/${rest.slice(end)}`
    } else {
      return { ok: false, reason: 'the request target must start with /' }
    }
  }
  const q = target.indexOf('?')
  let path = q === -1 ? target : target.slice(0, q)
  const query = q === -1 ? '' : target.slice(q + 1)
  const hash = path.indexOf('#')
  if (hash !== -1) path = path.slice(0, hash)

  if (path.indexOf('\\') !== -1) return { ok: false, reason: 'a backslash in the path' }
  if (path.indexOf(';') !== -1) return { ok: false, reason: "a ';' path parameter in the path" }

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
    if (!hexPair.test(hex)) return { ok: false, reason: `invalid percent-encoding '%${hex}' in the path` }
    const code = parseInt(hex, 16)
    if (code >= 0x80) {
      // A multi-byte UTF-8 sequence: check it whole and keep it encoded.
      const run = readUtf8Run(path, i)
      if (run === undefined) return { ok: false, reason: 'a percent-encoded byte sequence that is not valid UTF-8 in the path' }
      decoded += run.text
      i = run.end - 1
      continue
    }
    const refusal = refuseEscape(code)
    if (refusal) return { ok: false, reason: refusal }
    const char = String.fromCharCode(code)
    decoded += unreserved.test(char) ? char : `%${hex.toUpperCase()}`
    i += 2
  }

  // Checked after decoding: `%25%61d` becomes `%25ad` only once `%61` is decoded.
  if (doubleEncoded.test(decoded)) return { ok: false, reason: "a double-encoded escape ('%25' followed by hex digits) in the path" }

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

/** Why an escape of an ASCII byte is refused, or undefined when it is acceptable. */
function refuseEscape(code: number): string | undefined {
  if (code === 0x2f) return "an encoded '/' (%2F) in the path"
  if (code === 0x5c) return "an encoded backslash (%5C) in the path"
  if (code === 0x3b) return "an encoded ';' (%3B) in the path"
  if (code < 0x20 || code === 0x7f) return 'an encoded control character in the path'
  return undefined
}

/**
 * Reads the percent-escapes of one UTF-8 character starting at `at` (the first byte is
 * >= 0x80). Returns the escapes upper-cased and the index after them, or undefined for an
 * invalid, overlong or surrogate sequence (RFC 3629 §4).
 */
function readUtf8Run(path: string, at: number): { text: string; end: number } | undefined {
  const byteAt = (k: number): number | undefined => {
    const start = at + k * 3
    if (path[start] !== '%') return undefined
    const hex = path.slice(start + 1, start + 3)
    return hexPair.test(hex) ? parseInt(hex, 16) : undefined
  }
  const first = byteAt(0)
  if (first === undefined) return undefined
  let length: number
  let min: number
  let max: number
  if (first >= 0xc2 && first <= 0xdf) [length, min, max] = [2, 0x80, 0xbf]
  else if (first === 0xe0) [length, min, max] = [3, 0xa0, 0xbf]
  else if (first === 0xed) [length, min, max] = [3, 0x80, 0x9f]
  else if (first >= 0xe1 && first <= 0xef) [length, min, max] = [3, 0x80, 0xbf]
  else if (first === 0xf0) [length, min, max] = [4, 0x90, 0xbf]
  else if (first === 0xf4) [length, min, max] = [4, 0x80, 0x8f]
  else if (first >= 0xf1 && first <= 0xf3) [length, min, max] = [4, 0x80, 0xbf]
  else return undefined
  let text = `%${first.toString(16).toUpperCase()}`
  for (let k = 1; k < length; k++) {
    const byte = byteAt(k)
    // Only the second byte has a narrowed range; the rest are plain continuation bytes.
    const lo = k === 1 ? min : 0x80
    const hi = k === 1 ? max : 0xbf
    if (byte === undefined || byte < lo || byte > hi) return undefined
    text += `%${byte.toString(16).toUpperCase()}`
  }
  return { text, end: at + length * 3 }
}
