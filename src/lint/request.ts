import type { LintRequest } from './types.js'

/** Longest path we evaluate; longer ones are cut, like a server's URI limit would refuse. */
export const maxPathLength = 8192

/** Splits `path?query`. */
export function splitQuery(path: string): { path: string; query: string } {
  const q = path.indexOf('?')
  return q < 0 ? { path, query: '' } : { path: path.slice(0, q), query: path.slice(q + 1) }
}

/** Decodes %XX escapes byte-wise without throwing on malformed input. */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(c, 'utf8'))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * Normalises a URI path the way nginx and Apache do before matching locations: decode
 * %XX, merge slashes, resolve `.` and `..` (never above the root).
 */
export function normalizeUriPath(raw: string): string {
  const decoded = percentDecode(raw.slice(0, maxPathLength))
  const withSlash = decoded.startsWith('/') ? decoded : `/${decoded}`
  const out: string[] = []
  const segments = withSlash.split('/')
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]
    const last = i === segments.length - 1
    if (s === '' && !last) continue
    if (s === '.') {
      if (last) out.push('')
      continue
    }
    if (s === '..') {
      out.pop()
      if (last) out.push('')
      continue
    }
    out.push(s)
  }
  return `/${out.join('/')}`
}

/** Parses a query string into first-value-wins pairs (nginx `$arg_name` semantics). */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const pair of query.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    const name = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase()
    if (!out.has(name)) out.set(name, eq < 0 ? '' : pair.slice(eq + 1))
  }
  return out
}

/** Reads a cookie from the Cookie header. */
export function readCookie(req: LintRequest, name: string): string | undefined {
  const header = req.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** True when the request carries credentials of the given scheme (`basic`) or any scheme. */
export function hasCredentials(req: LintRequest, scheme?: string): boolean {
  const auth = req.headers.authorization
  if (!auth) return false
  return scheme === undefined || auth.toLowerCase().startsWith(`${scheme} `)
}

/** Builds a request with defaults for what was not given. */
export function createLintRequest(input: {
  method?: string
  path?: string
  ip?: string
  host?: string
  scheme?: 'http' | 'https'
  headers?: Record<string, string>
}): LintRequest {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v
  const scheme = input.scheme ?? 'http'
  const hostHeader = input.host ?? headers.host
  let host: string | undefined
  let port = scheme === 'https' ? 443 : 80
  if (hostHeader) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim())
    host = (m ? m[1] : hostHeader).toLowerCase().replace(/\.$/, '')
    if (m?.[2]) port = Number(m[2])
    headers.host = hostHeader
  }
  return {
    method: (input.method ?? 'GET').toUpperCase(),
    path: input.path ?? '/',
    ip: input.ip ?? defaultClientIp,
    host,
    port,
    scheme,
    headers,
  }
}

/** The client address assumed when `--ip` is not given: an outside client (TEST-NET-3). */
export const defaultClientIp = '203.0.113.10'
