import type { NginxDirective } from './parse.js'

/** The `http` context's directives; a snippet with `server`/`location` at top level is its own context. */
export function httpLevel(top: NginxDirective[]): NginxDirective[] {
  const blocks = top.filter((d) => d.name === 'http' && d.block)
  if (blocks.length === 0) return top
  return blocks.flatMap((d) => d.block ?? [])
}

/** Server blocks of the http context. */
export function serverBlocks(http: NginxDirective[]): NginxDirective[] {
  return http.filter((d) => d.name === 'server' && d.block)
}

/** Location modifiers nginx knows. */
export type LocationModifier = '=' | '^~' | '' | '~' | '~*' | '@'

/** A location's modifier and pattern, from `location [mod] pattern`. */
export function locationKind(d: NginxDirective): { modifier: LocationModifier; pattern: string } {
  const [a, b] = d.args
  if (a === '=' || a === '^~' || a === '~' || a === '~*') return { modifier: a, pattern: b ?? '' }
  if (a?.startsWith('@')) return { modifier: '@', pattern: a }
  // nginx also accepts the modifier glued to the pattern: `location =/x`, `location ~*\.php`.
  for (const m of ['^~', '~*', '=', '~'] as const) {
    if (a?.startsWith(m) && a.length > m.length) return { modifier: m, pattern: a.slice(m.length) }
  }
  return { modifier: '', pattern: a ?? '' }
}

/** `location /admin`, `location ~ \.php$`: how messages name a location. */
export function describeLocation(d: NginxDirective): string {
  const { modifier, pattern } = locationKind(d)
  return modifier ? `location ${modifier} ${pattern}` : `location ${pattern}`
}

/** Child directives named `name` of a block. */
export function children(block: NginxDirective[] | null | undefined, name: string): NginxDirective[] {
  return (block ?? []).filter((d) => d.name === name)
}

/** Methods `limit_except` understands; any other method is limited too (it has no bit to except). */
export const limitExceptMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'OPTIONS', 'PROPFIND', 'PROPPATCH', 'LOCK', 'UNLOCK', 'PATCH']

/** Methods a `limit_except` block lets through without its rules (GET implies HEAD). */
export function exceptedMethods(d: NginxDirective): Set<string> {
  const set = new Set(d.args.map((m) => m.toUpperCase()))
  if (set.has('GET')) set.add('HEAD')
  return set
}
