import type { Finding, Severity } from '../types.js'
import { matchCidr } from '../ip-match.js'
import { compileUserRegex } from '../user-regex.js'
import { regexWitness } from '../regex-witness.js'
import { children, describeLocation, exceptedMethods, httpLevel, locationKind, serverBlocks } from './model.js'
import { renderDirective, type NginxConfig, type NginxDirective } from './parse.js'

const commonMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

function finding(d: NginxDirective, severity: Severity, message: string, rule: string): Finding {
  return { file: d.file, line: d.line, col: d.col, severity, message, rule }
}

/** Lists risky nginx rules: what silently denies, shadows or is never reached. */
export function findRiskyNginxRules(config: NginxConfig): Finding[] {
  const out: Finding[] = []
  const http = httpLevel(config.directives)
  const servers = serverBlocks(http)
  checkAccessList(http, 'http', out)
  const scopes = servers.length ? servers : [null]
  for (const server of scopes) {
    const block = server ? (server.block ?? []) : http
    const label = server ? `server ${children(server.block, 'server_name')[0]?.args[0] ?? '_'}` : 'top level'
    if (server) checkAccessList(block, label, out)
    checkLevelDenyAll(http, block, label, out, server === null)
    walkLocations(block, out, [], server ? [http, block] : [http])
    checkAuthBasic(block, [server ? http : []], label, out)
  }
  return out
}

/** True when a block itself refuses clients: deny, auth, return 4xx, internal. */
function isRestricted(block: NginxDirective[]): boolean {
  return block.some((d) =>
    d.name === 'deny' ||
    (d.name === 'auth_basic' && d.args[0] !== 'off') ||
    (d.name === 'auth_request' && d.args[0] !== 'off') ||
    d.name === 'internal' ||
    (d.name === 'return' && Number(d.args[0]) >= 400) ||
    (d.name === 'if' && (d.block ?? []).some((x) => x.name === 'return' && Number(x.args[0]) >= 400)) ||
    d.name === 'limit_except')
}

/** auth_basic without any auth_basic_user_file in reach: nginx then checks no password at all. */
function checkAuthBasic(block: NginxDirective[], ancestors: NginxDirective[][], label: string, out: Finding[]): void {
  const auth = block.find((d) => d.name === 'auth_basic' && d.args[0] !== 'off')
  if (!auth) return
  const hasFile = [...ancestors, block].some((b) => b.some((d) => d.name === 'auth_basic_user_file'))
  if (!hasFile) out.push(finding(auth, 'error', `auth_basic in ${label} without auth_basic_user_file here or above: nginx asks for no password at all`, 'nginx.auth-basic-no-user-file'))
}

function walkLocations(block: NginxDirective[], out: Finding[], outer: NginxDirective[], ancestors: NginxDirective[][]): void {
  const locations = children(block, 'location').filter((d) => d.block)
  checkRegexShadowing(locations, out)
  for (const loc of locations) {
    const inner = loc.block ?? []
    checkAccessList(inner, describeLocation(loc), out)
    checkAuthBasic(inner, ancestors, describeLocation(loc), out)
    for (const le of children(inner, 'limit_except')) checkAuthBasic(le.block ?? [], [...ancestors, inner], `limit_except in ${describeLocation(loc)}`, out)
    for (const d of inner) {
      if (d.name === 'if' && d.block) {
        const onlySafe = d.block.every((x) => x.name === 'return' || (x.name === 'rewrite' && x.args[2] === 'last'))
        const message = onlySafe
          ? `if inside ${describeLocation(loc)} holds only return / rewrite ... last, the safe cases of nginx's "if is evil"; a map variable tested at server level is easier to audit`
          : `if inside ${describeLocation(loc)} holds directives other than return / rewrite ... last: nginx's "if is evil" — they run in a hidden nested location and behave unexpectedly; use map + a separate location`
        out.push(finding(d, 'warning', message, 'nginx.if-in-location'))
        for (const x of d.block) checkReturn(x, out, d.commented)
      }
      checkReturn(d, out)
      if (d.name === 'limit_except' && d.block) checkLimitExcept(d, loc, out)
    }
    walkLocations(inner, out, [...outer, loc], [...ancestors, inner])
  }
  for (const d of block) if (d.name === 'if' && d.block) for (const x of d.block) checkReturn(x, out, d.commented)
}

/** `return 403` with no comment on it, above it, or above its enclosing `if`. */
function checkReturn(d: NginxDirective, out: Finding[], parentCommented = false): void {
  if (d.name === 'return' && d.args[0] === '403' && !d.commented && !parentCommented) {
    out.push(finding(d, 'warning', 'return 403 with no comment saying why; whoever debugs the 403 later has nothing to go on', 'nginx.return-403-uncommented'))
  }
}

function checkLimitExcept(d: NginxDirective, loc: NginxDirective, out: Finding[]): void {
  const rules = (d.block ?? []).filter((x) => x.name === 'allow' || x.name === 'deny')
  const denies = rules.some((x) => x.name === 'deny')
  const auth = (d.block ?? []).some((x) => x.name === 'auth_basic' && x.args[0] !== 'off')
  if (!denies && !auth) return
  const excepted = exceptedMethods(d)
  const blocked = commonMethods.filter((m) => !excepted.has(m))
  const allowed = rules.filter((x) => x.name === 'allow').map((x) => x.args[0])
  const who = allowed.length ? `clients outside ${allowed.join(', ')}` : 'every client'
  out.push(finding(d, 'warning', `limit_except ${d.args.join(' ')} in ${describeLocation(loc)} blocks ${blocked.join(', ')} for ${who}${auth ? ' without credentials' : ''} (only ${[...excepted].join(', ')} pass; GET implies HEAD)`, 'nginx.limit-except-blocks-methods'))
}

/** Order problems inside one allow/deny list: first match wins. */
function checkAccessList(block: NginxDirective[], label: string, out: Finding[]): void {
  const rules = block.filter((d) => d.name === 'allow' || d.name === 'deny')
  if (rules.length === 0) return
  for (const d of rules) {
    const spec = d.args[0] ?? ''
    if (spec !== 'all' && !spec.startsWith('unix:') && matchCidr('127.0.0.1', spec) === null) {
      out.push(finding(d, 'error', `'${renderDirective(d)}': "${spec}" is not an address or CIDR; nginx refuses to load this config`, 'nginx.invalid-address'))
    }
  }
  const catchAll = rules.findIndex((d) => d.args[0] === 'all')
  if (catchAll >= 0 && catchAll < rules.length - 1) {
    const stopper = rules[catchAll]
    for (const later of rules.slice(catchAll + 1)) {
      const severity: Severity = later.name !== stopper.name ? 'error' : 'warning'
      out.push(finding(later, severity, `'${renderDirective(later)}' in ${label} is never reached: '${renderDirective(stopper)}' at line ${stopper.line} matches every client first (allow/deny stop at the first match)`, 'nginx.access-rule-unreachable'))
    }
  }
  if (rules.every((d) => d.name === 'allow') && !rules.some((d) => d.args[0] === 'all')) {
    out.push(finding(rules[0], 'warning', `${label} has allow rules but no deny: clients not listed are still allowed (add 'deny all;' after the allows)`, 'nginx.allow-without-deny'))
  }
}

/** `deny all` at server/http level, with allows only in some locations. */
function checkLevelDenyAll(http: NginxDirective[], block: NginxDirective[], label: string, out: Finding[], isSnippet: boolean): void {
  const own = block.find((d) => d.name === 'deny' && d.args[0] === 'all')
  const fromHttp = !own && !isSnippet && !block.some((d) => d.name === 'allow' || d.name === 'deny') ? http.find((d) => d.name === 'deny' && d.args[0] === 'all') : undefined
  const denyAll = own ?? fromHttp
  if (!denyAll) return
  const allLocations: NginxDirective[] = []
  const collect = (b: NginxDirective[]) => {
    for (const loc of children(b, 'location').filter((d) => d.block)) {
      allLocations.push(loc)
      collect(loc.block ?? [])
    }
  }
  collect(block)
  const withAllow = allLocations.filter((l) => (l.block ?? []).some((d) => d.name === 'allow'))
  if (withAllow.length === 0) return
  const inheriting = allLocations.filter((l) => !(l.block ?? []).some((d) => d.name === 'allow' || d.name === 'deny'))
  const names = (list: NginxDirective[]) => list.slice(0, 5).map((l) => describeLocation(l).replace(/^location /, '')).join(', ') + (list.length > 5 ? ', ...' : '')
  out.push(finding(denyAll, 'warning', `'deny all;' at ${own ? label : 'http'} level: only ${names(withAllow)} allow clients; ${inheriting.length ? `${names(inheriting)} and any unmatched path inherit the deny and answer 403` : 'every other path answers 403'}`, 'nginx.server-deny-all'))
}

/** A regex location that wins over a (non `^~`) prefix location for some of its URIs. */
function checkRegexShadowing(locations: NginxDirective[], out: Finding[]): void {
  const regexes = locations.filter((l) => ['~', '~*'].includes(locationKind(l).modifier))
  const prefixes: NginxDirective[] = []
  const collectPrefixes = (list: NginxDirective[]) => {
    for (const l of list) {
      if (locationKind(l).modifier !== '') continue
      prefixes.push(l)
      // Regexes of an outer level also beat prefix locations nested in a prefix location.
      collectPrefixes(children(l.block, 'location').filter((d) => d.block))
    }
  }
  collectPrefixes(locations)
  for (const re of regexes) {
    const { modifier, pattern } = locationKind(re)
    const compiled = compileUserRegex(pattern, modifier === '~*')
    if (!compiled.ok) {
      out.push(finding(re, 'warning', `regex of ${describeLocation(re)} is not evaluated (${compiled.reason})`, 'nginx.regex-not-evaluated'))
      continue
    }
    const witness = regexWitness(pattern)
    if (witness === null) continue
    const bypassed: { pre: NginxDirective; example: string }[] = []
    const quiet: { pre: NginxDirective; example: string }[] = []
    for (const pre of prefixes) {
      const p = locationKind(pre).pattern
      if (!p || p === '/') continue
      const tail = witness.replace(/^\//, '')
      const candidates = pattern.startsWith('^') ? [witness] : [`${p}${tail.startsWith('.') ? 'x' : ''}${tail}`, `${p}${p.endsWith('/') ? '' : '/'}x${tail}`]
      const example = candidates.find((c) => c.startsWith(p) && compiled.regex.exec(c))
      if (!example) continue
      if (isRestricted(pre.block ?? []) && !isRestricted(re.block ?? [])) bypassed.push({ pre, example })
      else quiet.push({ pre, example })
    }
    const list = (items: { pre: NginxDirective }[]) => items.slice(0, 4).map((q) => `${locationKind(q.pre).pattern} (line ${q.pre.line})`).join(', ') + (items.length > 4 ? ` and ${items.length - 4} more` : '')
    if (bypassed.length) {
      const first = locationKind(bypassed[0].pre).pattern
      out.push(finding(re, 'error', `${describeLocation(re)} (line ${re.line}) takes precedence over prefix location${bypassed.length > 1 ? 's' : ''} ${list(bypassed)} for URIs like ${bypassed[0].example}, so their access restrictions (allow/deny, auth, return, internal) do not apply to such URIs; use 'location ^~ ${first}' or nest the regex inside the prefix location`, 'nginx.regex-shadows-prefix'))
    }
    if (quiet.length) {
      out.push(finding(re, 'warning', `${describeLocation(re)} (line ${re.line}) takes precedence over prefix location${quiet.length > 1 ? 's' : ''} ${list(quiet)} for URIs like ${quiet[0].example}; their settings do not apply to such URIs`, 'nginx.regex-shadows-prefix'))
    }
  }
}
