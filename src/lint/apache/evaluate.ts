import { basename, posix } from 'node:path'
import { matchCidr, parseIp } from '../ip-match.js'
import { hasCredentials, normalizeUriPath, splitQuery } from '../request.js'
import type { Finding, LintRequest, Verdict } from '../types.js'
import { compileUserRegex } from '../user-regex.js'
import { matchWildcard } from '../wildcard.js'
import { isNamed, type ApacheConfig, type ApacheNode } from './parse.js'

/** Verdict plus notes for one request against an Apache config. */
export interface ApacheEvaluation {
  verdict: Verdict
  findings: Finding[]
  /** Sections applied, in merge order. */
  trail: string[]
}

/** The version `<IfVersion>` is evaluated against. */
const assumedVersion = [2, 4, 62]

/** A configuration section that applies to the request, in merge order. */
export interface Scope {
  label: string
  node: ApacheNode | null
  kind: 'server' | 'directory' | 'htaccess' | 'files' | 'location'
  /** Directives that apply to this request (conditionals and <Limit> resolved). */
  directives: ApacheNode[]
  /** Filesystem directory for per-directory rewrite subjects. */
  dir?: string
}

interface Denial {
  status: number
  node: ApacheNode
  why: string
  context: string
}

const sectionNames = ['Directory', 'DirectoryMatch', 'Files', 'FilesMatch', 'Location', 'LocationMatch']

/** Whether `<IfModule>`, `<IfDefine>`, `<IfVersion>` contents count: a stock 2.4 with the usual modules. */
function conditionalHolds(node: ApacheNode): boolean {
  const arg = node.args.join(' ').trim()
  if (isNamed(node, 'IfModule', 'IfDefine', 'IfFile', 'IfDirective', 'IfSection')) return !arg.startsWith('!')
  if (isNamed(node, 'IfVersion')) {
    const m = /^(!?)\s*(=|==|>|>=|<|<=)?\s*(\d+(?:\.\d+){0,2})$/.exec(arg)
    if (!m) return true
    const want = m[3].split('.').map(Number)
    let cmp = 0
    for (let i = 0; i < want.length && cmp === 0; i++) cmp = Math.sign(assumedVersion[i] - want[i])
    const op = m[2] ?? '='
    const ok = op === '>' ? cmp > 0 : op === '>=' ? cmp >= 0 : op === '<' ? cmp < 0 : op === '<=' ? cmp <= 0 : cmp === 0
    return m[1] ? !ok : ok
  }
  return true
}

/** True when `<Limit>` / `<LimitExcept>` covers the method (HEAD counts as GET in httpd). */
export function limitApplies(node: ApacheNode, method: string): boolean {
  const methods = new Set(node.args.map((m) => m.toUpperCase()))
  const m = method === 'HEAD' ? 'GET' : method
  const listed = methods.has(m) || methods.has(method)
  return isNamed(node, 'Limit') ? listed : !listed
}

/** Resolves conditionals and <Limit> for the request; keeps authz containers and sections. */
export function flattenFor(nodes: ApacheNode[], method: string | null): ApacheNode[] {
  const out: ApacheNode[] = []
  for (const n of nodes) {
    if (!n.children) {
      out.push(n)
      continue
    }
    if (isNamed(n, 'IfModule', 'IfDefine', 'IfVersion', 'IfFile', 'IfDirective', 'IfSection')) {
      if (conditionalHolds(n)) out.push(...flattenFor(n.children, method))
      continue
    }
    if (isNamed(n, 'Limit', 'LimitExcept')) {
      if (method === null || limitApplies(n, method)) out.push(...flattenFor(n.children, method))
      continue
    }
    out.push(n)
  }
  return out
}

function isAuthzCore(n: ApacheNode): boolean {
  return isNamed(n, 'Require', 'RequireAll', 'RequireAny', 'RequireNone')
}

function isAccessCompat(n: ApacheNode): boolean {
  return isNamed(n, 'Order', 'Allow', 'Deny')
}

/** Picks the VirtualHost for the request: ServerName/ServerAlias, else the first for the port. */
export function selectVirtualHost(nodes: ApacheNode[], req: LintRequest): ApacheNode | null {
  const vhosts = flattenFor(nodes, null).filter((n) => n.children && isNamed(n, 'VirtualHost'))
  if (vhosts.length === 0) return null
  const portOf = (v: ApacheNode) => v.args.map((a) => a.slice(a.lastIndexOf(':') + 1)).filter((p) => /^\d{1,5}$/.test(p)).map(Number)
  let candidates = vhosts.filter((v) => {
    const ports = portOf(v)
    return ports.length === 0 || ports.includes(req.port)
  })
  if (candidates.length === 0) candidates = vhosts
  if (req.host) {
    for (const v of candidates) {
      const names = flattenFor(v.children ?? [], null).filter((n) => isNamed(n, 'ServerName', 'ServerAlias')).flatMap((n) => n.args)
      if (names.some((name) => matchWildcard(name.replace(/^https?:\/\//, '').replace(/:\d+$/, ''), req.host as string, true))) return v
    }
  }
  return candidates[0]
}

function lastValue(scopes: Scope[], name: string): ApacheNode | null {
  let found: ApacheNode | null = null
  for (const s of scopes) for (const d of s.directives) if (!d.children && isNamed(d, name)) found = d
  return found
}

/** Maps a URL path to the file system: Alias first, then DocumentRoot. */
function mapToFile(serverNodes: ApacheNode[], urlPath: string): string {
  for (const a of serverNodes.filter((n) => isNamed(n, 'Alias', 'ScriptAlias') && n.args.length >= 2)) {
    const [from, to] = a.args
    const trimmed = from.replace(/\/$/, '')
    if (urlPath === trimmed || urlPath.startsWith(`${trimmed}/`)) return posix.join(to, urlPath.slice(trimmed.length))
  }
  const root = [...serverNodes].reverse().find((n) => isNamed(n, 'DocumentRoot'))?.args[0] ?? '/usr/local/apache2/htdocs'
  return posix.join(root, urlPath)
}

function directoryMatches(dir: string, fsPath: string): boolean {
  const d = dir.replace(/\/+$/, '')
  if (d === '') return true
  const dirParts = d.split('/')
  const pathParts = fsPath.split('/')
  if (pathParts.length < dirParts.length) return false
  return dirParts.every((p, i) => (/[*?[]/.test(p) ? matchWildcard(p, pathParts[i]) : p === pathParts[i]))
}

function locationMatches(loc: string, urlPath: string): boolean {
  if (/[*?[]/.test(loc)) return matchWildcard(loc, urlPath) || matchWildcard(`${loc.replace(/\/$/, '')}/*`, urlPath)
  const l = loc.replace(/\/$/, '')
  if (l === '') return true
  return urlPath === l || urlPath.startsWith(`${l}/`) || (loc.endsWith('/') && urlPath.startsWith(loc))
}

function regexTest(pattern: string, subject: string, ci: boolean, node: ApacheNode, notes: Finding[]): boolean {
  const compiled = compileUserRegex(pattern, ci)
  if (!compiled.ok) {
    notes.push({ file: node.file, line: node.line, col: node.col, severity: 'warning', message: `regex "${pattern}" is not evaluated (${compiled.reason}); assumed not to match`, rule: 'apache.regex-not-evaluated' })
    return false
  }
  return compiled.regex.exec(subject) !== null
}

/** Describes a section for messages: `<Directory "/var/www/admin">`. */
export function describeSection(n: ApacheNode): string {
  if (isNamed(n, 'Limit', 'LimitExcept', 'RequireAll', 'RequireAny', 'RequireNone')) return `<${[n.name, ...n.args].join(' ')}>`
  return `<${n.name}${n.args.length ? ` "${n.args.join(' ')}"` : ''}>`
}

/**
 * The sections that apply to a request, in httpd's merge order: <Directory> shortest first
 * (then .htaccess), <DirectoryMatch>, <Files>/<FilesMatch>, <Location>/<LocationMatch>;
 * within each group, the main server's before the virtual host's.
 */
export function collectScopes(config: ApacheConfig, req: LintRequest, notes: Finding[]): { scopes: Scope[]; urlPath: string; fsPath: string; server: Scope } {
  const urlPath = normalizeUriPath(splitQuery(req.path).path)
  const method = req.method
  const top = flattenFor(config.nodes, method)
  const vhost = config.htaccess ? null : selectVirtualHost(config.nodes, req)
  const vhostNodes = vhost ? flattenFor(vhost.children ?? [], method) : []
  const serverDirectives = [...top.filter((n) => !n.children), ...vhostNodes.filter((n) => !n.children)]
  const server: Scope = { label: vhost ? `${describeSection(vhost)} (server level)` : 'server config', node: vhost, kind: 'server', directives: serverDirectives }
  const fsPath = config.htaccess ? posix.join(config.baseDir.replaceAll('\\', '/'), urlPath) : mapToFile(serverDirectives, urlPath)
  const file = basename(urlPath.endsWith('/') ? '' : urlPath)
  const dirs: { scope: Scope; depth: number; order: number }[] = []
  const dirMatches: Scope[] = []
  const files: Scope[] = []
  const locations: Scope[] = []
  let order = 0
  const visit = (nodes: ApacheNode[], parentOk: boolean) => {
    for (const n of nodes) {
      if (n.children && isNamed(n, 'If', 'ElseIf', 'Else') && parentOk) {
        const refusing = flattenFor(n.children, method).find((x) => isAuthzCore(x) || isAccessCompat(x) || isNamed(x, 'RewriteRule'))
        if (refusing) notes.push({ file: n.file, line: n.line, col: n.col, severity: 'warning', message: `may deny: ${describeSection(n)} is not evaluated by lint, and it holds '${refusing.text}'`, rule: 'apache.may-deny' })
        continue
      }
      if (!n.children || !sectionNames.some((s) => isNamed(n, s))) continue
      const regex = n.args[0] === '~' || isNamed(n, 'DirectoryMatch', 'FilesMatch', 'LocationMatch')
      const pattern = n.args[0] === '~' ? (n.args[1] ?? '') : (n.args[0] ?? '')
      const inner = flattenFor(n.children, method)
      const scope = (kind: Scope['kind'], dir?: string): Scope => ({ label: describeSection(n), node: n, kind, directives: inner.filter((x) => !x.children || !sectionNames.some((s) => isNamed(x, s))), dir })
      if (isNamed(n, 'Directory', 'DirectoryMatch')) {
        const ok = regex ? regexTest(pattern, posix.dirname(fsPath), false, n, notes) || regexTest(pattern, fsPath, false, n, notes) : directoryMatches(pattern, fsPath)
        if (!ok || !parentOk) continue
        if (regex) dirMatches.push(scope('directory'))
        else dirs.push({ scope: scope('directory', pattern.replace(/\/+$/, '')), depth: pattern.replace(/\/+$/, '').split('/').length, order: order++ })
        visit(inner, true)
      } else if (isNamed(n, 'Files', 'FilesMatch')) {
        const ok = regex ? regexTest(pattern, file, false, n, notes) : matchWildcard(pattern, file)
        if (ok && parentOk) files.push(scope('files'))
      } else {
        const ok = regex ? regexTest(pattern, urlPath, false, n, notes) : locationMatches(pattern, urlPath)
        if (ok && parentOk) locations.push(scope('location'))
      }
    }
  }
  if (config.htaccess) {
    const own: Scope = { label: `.htaccess`, node: null, kind: 'htaccess', directives: top.filter((n) => !n.children || isAuthzCore(n)), dir: config.baseDir }
    dirs.push({ scope: own, depth: 0, order: order++ })
    visit(top, true)
  } else {
    visit(top, true)
    visit(vhostNodes, true)
  }
  dirs.sort((a, b) => a.depth - b.depth || a.order - b.order)
  return { scopes: [...dirs.map((d) => d.scope), ...dirMatches, ...files, ...locations], urlPath, fsPath, server }
}

/** Environment variables set by SetEnvIf/BrowserMatch/SetEnv; `unknown` holds names lint cannot decide. */
export interface ApacheEnv {
  vars: Map<string, string>
  unknown: Set<string>
}

const setEnvNames = ['SetEnvIf', 'SetEnvIfNoCase', 'BrowserMatch', 'BrowserMatchNoCase', 'SetEnv', 'UnsetEnv']

/** Runs SetEnvIf-style directives in order (they run before access checks). */
export function computeEnv(directives: ApacheNode[], req: LintRequest, notes: Finding[]): ApacheEnv {
  const env: ApacheEnv = { vars: new Map(), unknown: new Set() }
  const assign = (specs: string[], matched: boolean | null) => {
    for (const spec of specs) {
      const unset = spec.startsWith('!')
      const [name, value = '1'] = (unset ? spec.slice(1) : spec).split('=', 2)
      if (matched === null) {
        env.unknown.add(name)
        continue
      }
      if (!matched) continue
      if (unset) env.vars.delete(name)
      else env.vars.set(name, value)
      env.unknown.delete(name)
    }
  }
  for (const d of directives) {
    if (d.children || !isNamed(d, ...setEnvNames)) continue
    if (isNamed(d, 'SetEnv')) {
      if (d.args[0]) env.vars.set(d.args[0], d.args[1] ?? '')
      continue
    }
    if (isNamed(d, 'UnsetEnv')) {
      for (const n of d.args) env.vars.delete(n)
      continue
    }
    const browser = isNamed(d, 'BrowserMatch', 'BrowserMatchNoCase')
    const [attrRaw, pattern, ...specs] = browser ? ['User-Agent', ...d.args] : d.args
    if (!attrRaw || pattern === undefined) continue
    const attr = attrRaw.toLowerCase()
    const { path: p } = splitQuery(req.path)
    const subject = attr === 'remote_addr' ? req.ip : attr === 'request_method' ? req.method : attr === 'request_uri' ? p : attr === 'request_protocol' ? 'HTTP/1.1'
      : attr === 'remote_host' || attr === 'server_addr' ? null : req.headers[attr]
    if (subject === null) {
      notes.push({ file: d.file, line: d.line, col: d.col, severity: 'warning', message: `'${d.text}' tests ${attrRaw}, which lint cannot see`, rule: 'apache.not-evaluated' })
      assign(specs, null)
      continue
    }
    if (subject === undefined) continue
    const compiled = compileUserRegex(pattern, isNamed(d, 'SetEnvIfNoCase', 'BrowserMatchNoCase'))
    if (!compiled.ok) {
      notes.push({ file: d.file, line: d.line, col: d.col, severity: 'warning', message: `regex "${pattern}" is not evaluated (${compiled.reason})`, rule: 'apache.regex-not-evaluated' })
      assign(specs, null)
      continue
    }
    assign(specs, compiled.regex.exec(subject) !== null)
  }
  return env
}

/**
 * mod_remoteip: with RemoteIPHeader set and the peer a trusted proxy, the client address is
 * the rightmost untrusted address of the header.
 */
export function resolveRemoteIp(directives: ApacheNode[], req: LintRequest): { req: LintRequest; note?: string } {
  const header = directives.filter((d) => isNamed(d, 'RemoteIPHeader')).pop()?.args[0]
  if (!header) return { req }
  const trusted = directives.filter((d) => isNamed(d, 'RemoteIPTrustedProxy', 'RemoteIPInternalProxy')).flatMap((d) => d.args)
  const isTrusted = (ip: string) => trusted.length === 0
    ? ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', 'fc00::/7', '::1'].some((c) => matchCidr(ip, c) === true)
    : trusted.some((t) => matchHostSpec(t, ip) === true)
  if (!isTrusted(req.ip)) return { req, note: `RemoteIPHeader ${header} is ignored: ${req.ip} is not a trusted proxy` }
  const value = req.headers[header.toLowerCase()]
  if (!value) return { req }
  const list = value.split(',').map((v) => v.trim()).filter(Boolean)
  let chosen = list[0]
  for (let i = list.length - 1; i >= 0; i--) {
    if (!isTrusted(list[i])) {
      chosen = list[i]
      break
    }
  }
  if (!chosen || !parseIp(chosen)) return { req }
  return { req: { ...req, ip: chosen }, note: `client address ${chosen} taken from ${header} (RemoteIPHeader)` }
}

function denialVerdict(d: Denial): Verdict {
  return { denied: d.status >= 400, status: d.status, file: d.node.file, line: d.node.line, col: d.node.col, directive: d.node.text, why: d.why, context: d.context }
}

/** Evaluates a request against an Apache config (httpd.conf or .htaccess). */
export function evaluateApache(config: ApacheConfig, request: LintRequest): ApacheEvaluation {
  const notes: Finding[] = []
  const { scopes, urlPath, fsPath, server } = collectScopes(config, request, notes)
  const remote = resolveRemoteIp(server.directives, request)
  const req = remote.req
  const env = computeEnv([...server.directives, ...scopes.flatMap((sc) => sc.directives)], req, notes)
  const trail = [...(config.htaccess ? [] : [server.label]), ...scopes.map((sc) => `${sc.label}${sc.node ? ` (${sc.node.file}:${sc.node.line})` : ''}`)]
  const deny = (d: Denial): ApacheEvaluation => ({ verdict: denialVerdict(d), findings: notes, trail })
  if (!config.htaccess) {
    const r = runRewrite(server.directives, urlPath, req, server.label, notes, true)
    if (r) return deny(r)
  }
  const satisfy = lastValue(scopes, 'Satisfy')
  const satisfyAny = satisfy?.args[0]?.toLowerCase() === 'any'
  const authType = lastValue(scopes, 'AuthType')
  const hasAuthType = Boolean(authType && authType.args[0]?.toLowerCase() !== 'none')
  const compat = evaluateAccessCompat(scopes, req, notes, env)
  const authz = evaluateAuthz(scopes, req, hasAuthType, notes, env)
  if (remote.note) {
    if (compat) compat.why = `${compat.why} (${remote.note})`
    if (authz && authz.status === 403) authz.why = `${authz.why} (${remote.note})`
  }
  const hasAuthz = scopes.some((sc) => sc.directives.some(isAuthzCore))
  if (satisfyAny && compat && hasAuthz) {
    // Satisfy Any: host-based access or passing the Require rules is enough.
    if (authz === null) return afterAccess(config, scopes, server, req, urlPath, fsPath, notes, trail)
    if (authz.status === 401) return deny({ ...authz, why: `${authz.why}; Satisfy Any, and ${compat.why}` })
    return deny({ ...compat, why: `${compat.why}; Satisfy Any, and the Require rules refuse too` })
  }
  if (satisfyAny && !compat && hasAuthz && scopes.some((sc) => sc.directives.some(isAccessCompat))) return afterAccess(config, scopes, server, req, urlPath, fsPath, notes, trail)
  if (compat) return deny({ ...compat, why: `${compat.why}; error log: AH01797 (mod_access_compat)` })
  if (authz) {
    if (authz.status === 403) authz.why = `${authz.why}; error log: AH01630 (mod_authz_core)`
    const compatScope = [...scopes].reverse().find((s) => s.directives.some(isAccessCompat))
    if (compatScope && authz.status === 403) {
      return deny({ ...authz, why: `${authz.why}; the Order/Allow/Deny in ${compatScope.label} allow the client but do not replace 2.4 Require rules, which still apply (use Require in ${compatScope.label})` })
    }
    return deny(authz)
  }
  return afterAccess(config, scopes, server, req, urlPath, fsPath, notes, trail)
}

/** After access checks pass: per-directory mod_rewrite runs (in the fixup phase), then allowed. */
function afterAccess(config: ApacheConfig, scopes: Scope[], server: Scope, req: LintRequest, urlPath: string, fsPath: string, notes: Finding[], trail: string[]): ApacheEvaluation {
  const dirScopes = scopes.filter((s) => s.kind === 'directory' || s.kind === 'htaccess')
  const withRules = [...dirScopes].reverse().find((s) => s.directives.some((d) => isNamed(d, 'RewriteRule')))
  if (withRules) {
    const engineOn = [server, ...dirScopes].some((s) => s.directives.some((d) => isNamed(d, 'RewriteEngine') && d.args[0]?.toLowerCase() === 'on'))
    if (engineOn) {
      const base = (withRules.dir ?? '').replace(/\/+$/, '')
      const subject = config.htaccess ? urlPath.replace(/^\//, '') : fsPath.startsWith(`${base}/`) ? fsPath.slice(base.length + 1) : fsPath.replace(/^\//, '')
      const r = runRewrite(withRules.directives, subject, req, withRules.label, notes, false)
      if (r) return { verdict: denialVerdict(r), findings: notes, trail }
    }
  }
  // LimitRequestBody is enforced when the handler reads the body, after access checks.
  const length = Number(req.headers['content-length'] ?? '')
  const limitNode = lastValue(scopes, 'LimitRequestBody') ?? server.directives.filter((d) => isNamed(d, 'LimitRequestBody')).pop() ?? null
  const limit = limitNode ? Number(limitNode.args[0]) : 1024 ** 3
  if (Number.isFinite(length) && length > 0 && limit > 0 && length > limit) {
    const at = limitNode ?? scopes[scopes.length - 1]?.node ?? config.nodes[0]
    if (at) {
      const why = `Content-Length ${length} is over LimitRequestBody ${limitNode ? limitNode.args[0] : '1073741824 (the default since 2.4.54)'}: httpd answers 413`
      return { verdict: denialVerdict({ status: 413, node: at, why, context: scopes[scopes.length - 1]?.label ?? server.label }), findings: notes, trail }
    }
  }
  if (urlPath.endsWith('/')) {
    // Options are merged; the last Options line that applies decides whether Indexes is on.
    const options = [server, ...scopes].flatMap((sc) => sc.directives).filter((d) => isNamed(d, 'Options')).pop()
    const indexes = options ? options.args.some((a) => /^\+?indexes$/i.test(a)) : false
    const directoryIndex = [server, ...scopes].flatMap((sc) => sc.directives).filter((d) => isNamed(d, 'DirectoryIndex')).pop()?.args.join(' ') ?? 'index.html'
    const at = options ?? scopes[scopes.length - 1]?.node ?? config.nodes[0]
    if (!indexes && at) {
      notes.push({ file: at.file, line: at.line, col: at.col, severity: 'warning', message: `if the directory for ${urlPath} has no ${directoryIndex}, httpd answers 403 ("Cannot serve directory ... No matching DirectoryIndex ... and forbidden by Options directive") because Indexes is off`, rule: 'apache.directory-index' })
    }
  }
  const proxy = server.directives.filter((d) => isNamed(d, 'ProxyPass') && d.args.length >= 2 && d.args[1] !== '!').find((d) => urlPath === d.args[0].replace(/\/$/, '') || urlPath.startsWith(d.args[0].endsWith('/') ? d.args[0] : `${d.args[0]}/`))
  const upstream = proxy ? `; ProxyPass sends it to ${proxy.args[1]} (${proxy.file}:${proxy.line}), so a 403 would come from there` : ''
  return {
    verdict: { denied: false, status: null, file: null, line: null, col: null, directive: null, why: `no directive denies ${req.method} ${urlPath} from ${req.ip}${upstream}` },
    findings: notes,
    trail,
  }
}

type HostMatch = boolean | null

/** Matches an `Allow from` / `Deny from` / `Require ip` argument. Null: needs DNS or env. */
export function matchHostSpec(spec: string, ip: string): HostMatch {
  const s = spec.trim()
  if (s.toLowerCase() === 'all') return true
  if (s.toLowerCase().startsWith('env=')) return null
  if (s.includes('/')) return matchCidr(ip, s)
  if (parseIp(s)) return matchCidr(ip, s)
  // Partial IPv4 like 10.1 or 10.1. (whole octets).
  if (/^\d{1,3}(\.\d{1,3}){0,3}\.?$/.test(s)) {
    const client = parseIp(ip)
    if (!client || client.kind() !== 'ipv4') return false
    const parts = s.replace(/\.$/, '').split('.')
    const clientParts = client.toString().split('.')
    return parts.every((p, i) => Number(p) === Number(clientParts[i]))
  }
  return null
}

/** mod_access_compat (2.2 style): Order, Allow from, Deny from of the last section that has any. */
function evaluateAccessCompat(scopes: Scope[], req: LintRequest, notes: Finding[], env: ApacheEnv): Denial | null {
  const scope = [...scopes].reverse().find((s) => s.directives.some(isAccessCompat))
  if (!scope) return null
  const directives = scope.directives.filter(isAccessCompat)
  const orderNode = [...directives].reverse().find((d) => isNamed(d, 'Order'))
  const order = (orderNode?.args.join('') ?? 'deny,allow').toLowerCase()
  const match = (kind: 'Allow' | 'Deny') => {
    let hit: ApacheNode | null = null
    let unknown = false
    for (const d of directives.filter((x) => isNamed(x, kind))) {
      const specs = d.args[0]?.toLowerCase() === 'from' ? d.args.slice(1) : d.args
      for (const spec of specs) {
        const m = spec.toLowerCase().startsWith('env=') ? envMatches(env, spec.slice(4)) : matchHostSpec(spec, req.ip)
        if (m === null) {
          unknown = true
          notes.push({ file: d.file, line: d.line, col: d.col, severity: 'warning', message: `'${d.text}': "${spec}" needs DNS or the environment; lint treats it as not matching`, rule: 'apache.not-evaluated' })
        } else if (m && !hit) hit = d
      }
    }
    return { hit, unknown }
  }
  const allow = match('Allow')
  const denyM = match('Deny')
  const ctx = scope.label
  if (order === 'deny,allow') {
    if (denyM.hit && !allow.hit) return { status: 403, node: denyM.hit, why: `client ${req.ip} matches '${denyM.hit.text}' and no Allow from matches it (Order Deny,Allow: Allow overrides Deny, default allow)`, context: ctx }
    return null
  }
  // allow,deny and mutual-failure: allowed only when an Allow matches and no Deny does.
  if (!allow.hit) {
    const node = orderNode ?? directives[0]
    return { status: 403, node, why: `no Allow from matches client ${req.ip}, and Order Allow,Deny denies by default`, context: ctx }
  }
  if (denyM.hit) return { status: 403, node: denyM.hit, why: `client ${req.ip} matches '${denyM.hit.text}'; with Order Allow,Deny a matching Deny wins over '${allow.hit.text}'`, context: ctx }
  return null
}

type AuthzState = 'granted' | 'denied' | 'neutral' | 'no-user' | 'unknown'

interface AuthzResult {
  state: AuthzState
  node: ApacheNode
  why: string
}

/** mod_authz_core (2.4): the Require rules of the last section that has any (AuthMerging Off). */
function envMatches(env: ApacheEnv, spec: string): boolean | null {
  const negate = spec.startsWith('!')
  const name = negate ? spec.slice(1) : spec
  if (env.unknown.has(name)) return null
  return env.vars.has(name) !== negate
}

function evaluateAuthz(scopes: Scope[], req: LintRequest, hasAuthType: boolean, notes: Finding[], env: ApacheEnv): Denial | null {
  let result: AuthzResult | null = null
  let ctx = ''
  for (const scope of scopes) {
    const rules = scope.directives.filter(isAuthzCore)
    if (rules.length === 0) continue
    const merging = lastValue([scope], 'AuthMerging')?.args[0]?.toLowerCase()
    const own = combine('any', rules, req, notes, rules[0], env)
    if (result && merging === 'and') result = combineResults('all', [result, own], own.node)
    else if (result && merging === 'or') result = combineResults('any', [result, own], own.node)
    else result = own
    ctx = scope.label
  }
  if (!result) return null
  switch (result.state) {
    case 'granted':
      return null
    case 'unknown':
      notes.push({ file: result.node.file, line: result.node.line, col: result.node.col, severity: 'warning', message: `may deny: ${result.why}`, rule: 'apache.may-deny' })
      return null
    case 'no-user':
      if (!hasAuthType) return { status: 500, node: result.node, why: `${result.why}, but no AuthType is set (httpd logs "AuthType not set" and answers 500)`, context: ctx }
      return { status: 401, node: result.node, why: `${result.why}; the request has no credentials (401 with WWW-Authenticate)`, context: ctx }
    default:
      return { status: 403, node: result.node, why: result.why, context: ctx }
  }
}

function combineResults(mode: 'all' | 'any' | 'none', results: AuthzResult[], container: ApacheNode): AuthzResult {
  if (mode === 'any') {
    const granted = results.find((r) => r.state === 'granted')
    if (granted) return granted
    const unknown = results.find((r) => r.state === 'unknown')
    if (unknown) return unknown
    const noUser = results.find((r) => r.state === 'no-user')
    if (noUser) return noUser
    const denied = results.filter((r) => r.state === 'denied')
    if (denied.length === 1) return denied[0]
    if (denied.length > 1) return { state: 'denied', node: denied[0].node, why: `none of the Require rules grants access: ${denied.map((d) => d.why).join('; ')}` }
    return { state: 'neutral', node: container, why: 'no Require rule grants access (only negated rules)' }
  }
  if (mode === 'all') {
    const denied = results.find((r) => r.state === 'denied')
    if (denied) return { ...denied, why: `${denied.why} (${container.children ? `inside ${describeSection(container)}` : 'with AuthMerging And'} every rule must pass)` }
    const noUser = results.find((r) => r.state === 'no-user')
    if (noUser) return noUser
    const unknown = results.find((r) => r.state === 'unknown')
    if (unknown) return unknown
    if (results.some((r) => r.state === 'granted')) return { state: 'granted', node: container, why: 'all rules pass' }
    return { state: 'neutral', node: container, why: `${describeSection(container)} has no rule that grants access` }
  }
  const granted = results.find((r) => r.state === 'granted')
  if (granted) return { state: 'denied', node: granted.node, why: `'${granted.node.text}' matches inside ${describeSection(container)}, which refuses matching requests` }
  const unknown = results.find((r) => r.state === 'unknown')
  if (unknown) return unknown
  return { state: 'neutral', node: container, why: 'RequireNone alone never grants access' }
}

function combine(mode: 'all' | 'any' | 'none', nodes: ApacheNode[], req: LintRequest, notes: Finding[], container: ApacheNode, env: ApacheEnv): AuthzResult {
  const results: AuthzResult[] = []
  for (const n of flattenFor(nodes, req.method)) {
    if (n.children && isNamed(n, 'RequireAll')) results.push(combine('all', n.children, req, notes, n, env))
    else if (n.children && isNamed(n, 'RequireAny')) results.push(combine('any', n.children, req, notes, n, env))
    else if (n.children && isNamed(n, 'RequireNone')) results.push(combine('none', n.children, req, notes, n, env))
    else if (!n.children && isNamed(n, 'Require')) results.push(evaluateRequire(n, req, env))
  }
  if (results.length === 0) return { state: 'neutral', node: container, why: `${describeSection(container)} is empty` }
  return combineResults(mode, results, container)
}

/** One `Require [not] provider args...` line. */
function evaluateRequire(n: ApacheNode, req: LintRequest, env: ApacheEnv): AuthzResult {
  const negated = n.args[0]?.toLowerCase() === 'not'
  const [providerRaw, ...args] = negated ? n.args.slice(1) : n.args
  const provider = (providerRaw ?? '').toLowerCase()
  const r = (state: AuthzState, why: string): AuthzResult => ({ state, node: n, why })
  let base: AuthzResult
  switch (provider) {
    case 'all':
      base = args[0]?.toLowerCase() === 'granted' ? r('granted', `'${n.text}'`) : r('denied', `'${n.text}' refuses every request`)
      break
    case 'ip': {
      const hit = args.find((a) => matchHostSpec(a, req.ip) === true)
      base = hit ? r('granted', `client ${req.ip} matches ${hit}`) : r('denied', `client ${req.ip} is not in ${args.join(' ')}`)
      break
    }
    case 'local':
      base = matchCidr(req.ip, '127.0.0.0/8') || matchCidr(req.ip, '::1') ? r('granted', 'client is local') : r('denied', `'${n.text}': client ${req.ip} is not local`)
      break
    case 'method': {
      const methods = args.map((a) => a.toUpperCase())
      const m = req.method === 'HEAD' && methods.includes('GET') ? 'GET' : req.method
      base = methods.includes(m) ? r('granted', `method ${req.method} is listed`) : r('denied', `'${n.text}': method ${req.method} is not listed`)
      break
    }
    case 'valid-user':
    case 'user':
    case 'group':
    case 'ldap-user':
    case 'ldap-group':
    case 'file-group':
      if (!hasCredentials(req)) base = r('no-user', `'${n.text}' needs an authenticated user`)
      else if (provider === 'valid-user') base = r('granted', 'credentials given (assumed valid)')
      else base = r('unknown', `'${n.text}' depends on which user logs in`)
      break
    case 'env': {
      const states = args.map((a) => envMatches(env, a))
      if (states.includes(true)) base = r('granted', `environment variable ${args[states.indexOf(true)]} is set`)
      else if (states.includes(null)) base = r('unknown', `'${n.text}' depends on an environment variable lint cannot decide`)
      else base = r('denied', `'${n.text}': none of ${args.join(', ')} is set`)
      break
    }
    case 'host':
    case 'forward-dns':
      base = r('unknown', `'${n.text}' depends on the client's DNS name`)
      break
    default:
      base = r('unknown', `'${n.text}' (${provider || 'empty'} provider) is not evaluated by lint`)
  }
  if (!negated) return base
  if (base.state === 'granted') return r('denied', `'${n.text}': ${base.why}`)
  if (base.state === 'denied') return r('neutral', `'${n.text}' does not match`)
  return base
}

/** mod_rewrite: RewriteCond/RewriteRule with [F], [G] or [R=4xx] refuse the request. */
function runRewrite(directives: ApacheNode[], subject: string, req: LintRequest, context: string, notes: Finding[], serverLevel: boolean): Denial | null {
  const engine = directives.filter((d) => isNamed(d, 'RewriteEngine')).pop()
  if (!engine || engine.args[0]?.toLowerCase() !== 'on') return null
  let conds: ApacheNode[] = []
  let current = subject
  for (const d of directives) {
    if (isNamed(d, 'RewriteCond')) {
      conds.push(d)
      continue
    }
    if (!isNamed(d, 'RewriteRule')) continue
    const pending = conds
    conds = []
    const [pattern = '', substitution = '-', flagText = ''] = d.args
    const flags = parseFlags(flagText)
    const negate = pattern.startsWith('!')
    const compiled = compileUserRegex(negate ? pattern.slice(1) : pattern, flags.has('NC') || flags.has('NOCASE'))
    if (!compiled.ok) {
      notes.push({ file: d.file, line: d.line, col: d.col, severity: 'warning', message: `RewriteRule regex not evaluated (${compiled.reason}); assumed not to match`, rule: 'apache.regex-not-evaluated' })
      continue
    }
    const m = compiled.regex.exec(current)
    if (negate ? m !== null : m === null) continue
    const captures = negate ? [] : (m ?? [])
    const condResult = evaluateConds(pending, req, captures, current)
    if (condResult.state === false) continue
    const status = flags.has('F') || flags.has('FORBIDDEN') ? 403 : flags.has('G') || flags.has('GONE') ? 410 : redirectStatus(flags)
    if (condResult.state === null) {
      if (status && status >= 400) notes.push({ file: d.file, line: d.line, col: d.col, severity: 'warning', message: `may deny: '${d.text}' would answer ${status}, but ${condResult.why}`, rule: 'apache.may-deny' })
      continue
    }
    if (status && status >= 400) {
      const condText = pending.length ? ` and its RewriteCond${pending.length > 1 ? 's' : ''} (${pending.map((c) => `line ${c.line}`).join(', ')}) hold${pending.length > 1 ? '' : 's'}: ${condResult.why}` : ''
      return { status, node: d, why: `${subject ? `'${subject}'` : 'the empty path'} matches RewriteRule ${pattern}${condText}; [${flagText.replace(/^\[|\]$/g, '')}] answers ${status}${serverLevel ? '' : ' (per-directory rewrite)'}`, context }
    }
    if (flags.has('L') || flags.has('LAST') || flags.has('END') || status) return null
    if (substitution !== '-' && !/^[a-z]+:\/\//i.test(substitution)) current = substitution.replace(/\$(\d)/g, (_, i: string) => captures[Number(i)] ?? '').replace(/^\//, serverLevel ? '/' : '')
  }
  return null
}

function redirectStatus(flags: Set<string>): number | null {
  for (const f of flags) {
    const m = /^R(?:EDIRECT)?(?:=(\d{3}))?$/.exec(f)
    if (m) return m[1] ? Number(m[1]) : 302
  }
  return null
}

function parseFlags(text: string): Set<string> {
  const inner = text.replace(/^\[/, '').replace(/\]$/, '')
  return new Set(inner.split(',').map((f) => f.trim().toUpperCase()).filter(Boolean))
}

function expandServerVars(text: string, req: LintRequest, captures: string[], current: string): string | null {
  let unknown = false
  const { query } = splitQuery(req.path)
  const out = text.replace(/%\{([^}]{1,100})\}|\$(\d)/g, (_, name: string | undefined, digit: string | undefined) => {
    if (digit !== undefined) return captures[Number(digit)] ?? ''
    const n = (name ?? '').toUpperCase()
    if (n.startsWith('HTTP:')) return req.headers[n.slice(5).toLowerCase()] ?? ''
    switch (n) {
      case 'REQUEST_METHOD': return req.method
      case 'REMOTE_ADDR': return req.ip
      case 'REQUEST_URI': return splitQuery(req.path).path
      case 'QUERY_STRING': return query
      case 'THE_REQUEST': return `${req.method} ${req.path} HTTP/1.1`
      case 'HTTPS': return req.scheme === 'https' ? 'on' : 'off'
      case 'REQUEST_SCHEME': return req.scheme
      case 'SERVER_PORT': return String(req.port)
      case 'HTTP_HOST': return req.headers.host ?? ''
      case 'SERVER_PROTOCOL': return 'HTTP/1.1'
      case 'PATH_INFO': return ''
      case 'SCRIPT_FILENAME':
      case 'REQUEST_FILENAME': return current
    }
    if (n.startsWith('HTTP_')) return req.headers[n.slice(5).toLowerCase().replaceAll('_', '-')] ?? ''
    unknown = true
    return ''
  })
  return unknown ? null : out
}

/** RewriteCond lines before a rule: AND by default, [OR] joins with the next. */
function evaluateConds(conds: ApacheNode[], req: LintRequest, captures: string[], current: string): { state: boolean | null; why: string } {
  if (conds.length === 0) return { state: true, why: '' }
  let all: boolean | null = true
  let pendingOr: boolean | null | undefined
  const reasons: string[] = []
  let unknownWhy = ''
  for (let i = 0; i < conds.length; i++) {
    const c = conds[i]
    const [test = '', patternRaw = '', flagText = ''] = c.args
    const flags = parseFlags(flagText)
    const value = expandServerVars(test, req, captures, current)
    let result: boolean | null
    if (value === null) {
      result = null
      unknownWhy = `${test} is not known to lint`
    } else {
      result = testCond(value, patternRaw, flags.has('NC') || flags.has('NOCASE'))
      if (result === null) unknownWhy = `'${patternRaw}' tests the file system or is not evaluated`
      else if (result) reasons.push(`${test} is "${value.length > 60 ? `${value.slice(0, 57)}...` : value}"`)
    }
    // [OR] joins this condition with the next one; groups are then ANDed.
    const value2 = pendingOr === undefined ? result : orValues(pendingOr, result)
    if (flags.has('OR') || flags.has('ORNEXT')) {
      pendingOr = value2
      continue
    }
    pendingOr = undefined
    all = andValues(all, value2)
  }
  if (pendingOr !== undefined) all = andValues(all, pendingOr)
  return { state: all, why: all === null ? unknownWhy : reasons.join(', ') }
}

function orValues(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true
  if (a === null || b === null) return null
  return false
}

function andValues(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false
  if (a === null || b === null) return null
  return true
}

function testCond(value: string, patternRaw: string, ci: boolean): boolean | null {
  const negate = patternRaw.startsWith('!')
  const pattern = negate ? patternRaw.slice(1) : patternRaw
  let result: boolean | null
  if (/^-[dfFhlLsUx]$/.test(pattern)) return null
  if (pattern.startsWith('-ipmatch')) {
    result = matchCidr(value, pattern.slice(8).trim())
  } else if (/^(=|<=|>=|<|>)/.test(pattern) && !pattern.startsWith('=~')) {
    const op = /^(<=|>=|=|<|>)/.exec(pattern)?.[1] ?? '='
    let rhs = pattern.slice(op.length)
    if (rhs === '""') rhs = ''
    const l = ci ? value.toLowerCase() : value
    const r = ci ? rhs.toLowerCase() : rhs
    result = op === '=' ? l === r : op === '<' ? l < r : op === '>' ? l > r : op === '<=' ? l <= r : l >= r
  } else if (/^-(eq|ne|lt|le|gt|ge)$/.test(pattern.split(/\s/)[0])) {
    return null
  } else {
    const compiled = compileUserRegex(pattern, ci)
    if (!compiled.ok) return null
    result = compiled.regex.exec(value) !== null
  }
  if (result === null) return null
  return negate ? !result : result
}
