import { matchCidr } from '../ip-match.js'
import { hasCredentials, normalizeUriPath, splitQuery } from '../request.js'
import type { Finding, LintRequest, Verdict } from '../types.js'
import { compileUserRegex } from '../user-regex.js'
import { matchWildcard } from '../wildcard.js'
import { children, describeLocation, exceptedMethods, httpLevel, locationKind, serverBlocks } from './model.js'
import { renderDirective, type NginxConfig, type NginxDirective } from './parse.js'
import { NginxVariables, Unknown } from './variables.js'

/** The verdict for one request plus notes (unevaluable conditions, auth_request, ...). */
export interface NginxEvaluation {
  verdict: Verdict
  findings: Finding[]
  /** The server and locations that handled the request, outermost first. */
  trail: string[]
}

/** One level of configuration the request passes through, outermost first. */
interface Level {
  label: string
  directive: NginxDirective | null
  block: NginxDirective[]
}

type RewriteOutcome =
  | { kind: 'continue' }
  | { kind: 'break' }
  | { kind: 'return'; status: number; directive: NginxDirective; why: string }
  | { kind: 'last'; uri: string; directive: NginxDirective }

const maxLocationRestarts = 10

/** Picks the server block for the request: port, then server_name, then default_server. */
export function selectServer(http: NginxDirective[], req: LintRequest): NginxDirective | null {
  const servers = serverBlocks(http)
  if (servers.length === 0) return null
  const listens = servers.map((s) => {
    const list = children(s.block, 'listen')
    if (list.length === 0) return [{ port: 80, isDefault: false }]
    return list.map((l) => ({ port: listenPort(l.args[0] ?? ''), isDefault: l.args.includes('default_server') || l.args.includes('default') }))
  })
  let candidates = servers.map((s, i) => ({ s, i })).filter(({ i }) => listens[i].some((l) => l.port === req.port))
  // No server listens on the request's port: the caller most likely left --host's port out.
  if (candidates.length === 0) candidates = servers.map((s, i) => ({ s, i }))
  if (req.host) {
    const host = req.host
    let best: { s: NginxDirective; rank: number; len: number } | null = null
    for (const { s } of candidates) {
      for (const d of children(s.block, 'server_name')) {
        for (const raw of d.args) {
          const name = raw.toLowerCase()
          let rank = -1
          let len = 0
          if (name.startsWith('~')) {
            const compiled = compileUserRegex(name.slice(1), true)
            if (compiled.ok && compiled.regex.exec(host)) rank = 3
          } else if (name === host) {
            rank = 0
          } else if (name.startsWith('*.') && host.endsWith(name.slice(1))) {
            rank = 1
            len = name.length
          } else if (name.startsWith('.') && (host === name.slice(1) || host.endsWith(name))) {
            rank = 1
            len = name.length
          } else if (name.endsWith('.*') && host.startsWith(name.slice(0, -1))) {
            rank = 2
            len = name.length
          }
          if (rank < 0) continue
          if (!best || rank < best.rank || (rank === best.rank && (rank === 1 || rank === 2) && len > best.len)) best = { s, rank, len }
        }
      }
    }
    if (best) return best.s
  }
  const byDefault = candidates.find(({ i }) => listens[i].some((l) => l.port === req.port && l.isDefault))
  return (byDefault ?? candidates[0]).s
}

function listenPort(arg: string): number {
  if (arg.startsWith('unix:')) return -1
  const m = /(?:^|:)(\d{1,5})$/.exec(arg)
  if (m) return Number(m[1])
  return 80
}

/**
 * Finds the location for `uri` among `block`'s locations, nginx's way: an exact `=` match
 * ends the search; otherwise the longest prefix is remembered and its nested locations are
 * searched; unless that prefix is `^~`, regex locations are then tried in order of
 * appearance and the first match wins (and its nested locations are searched).
 */
export function findLocation(block: NginxDirective[], uri: string, notes: Finding[]): { path: NginxDirective[]; final: boolean; captures: string[] } {
  const locations = children(block, 'location').filter((d) => d.block)
  let bestPrefix: NginxDirective | null = null
  let bestLen = -1
  for (const loc of locations) {
    const { modifier, pattern } = locationKind(loc)
    if (modifier === '=' && pattern === uri) return { path: [loc], final: true, captures: [] }
    if ((modifier === '' || modifier === '^~') && uri.startsWith(pattern) && pattern.length > bestLen) {
      bestPrefix = loc
      bestLen = pattern.length
    }
  }
  let candidate: NginxDirective[] = []
  let captures: string[] = []
  if (bestPrefix) {
    const nested = findLocation(bestPrefix.block ?? [], uri, notes)
    candidate = [bestPrefix, ...nested.path]
    captures = nested.captures
    if (nested.final || locationKind(bestPrefix).modifier === '^~') return { path: candidate, final: true, captures }
  }
  for (const loc of locations) {
    const { modifier, pattern } = locationKind(loc)
    if (modifier !== '~' && modifier !== '~*') continue
    const compiled = compileUserRegex(pattern, modifier === '~*')
    if (!compiled.ok) {
      notes.push(note(loc, `regex of ${describeLocation(loc)} is not evaluated (${compiled.reason}); assumed not to match`, 'nginx.regex-not-evaluated'))
      continue
    }
    const m = compiled.regex.exec(uri)
    if (m) {
      const nested = findLocation(loc.block ?? [], uri, notes)
      return { path: [loc, ...nested.path], final: true, captures: nested.path.length ? nested.captures : m }
    }
  }
  return { path: candidate, final: false, captures }
}

function note(d: NginxDirective, message: string, rule: string): Finding {
  return { file: d.file, line: d.line, col: d.col, severity: 'warning', message, rule }
}

/**
 * Applies ngx_http_realip_module: when the connecting address is in `set_real_ip_from`, the
 * client address comes from `real_ip_header` (last X-Forwarded-For entry, or the first
 * untrusted one from the right with `real_ip_recursive on`).
 */
export function resolveClientIp(levels: Level[], req: LintRequest): { req: LintRequest; note?: string } {
  let trusted: NginxDirective[] = []
  for (let i = levels.length - 1; i >= 0 && trusted.length === 0; i--) trusted = children(levels[i].block, 'set_real_ip_from')
  if (trusted.length === 0) return { req }
  const innermost = (name: string) => {
    for (let i = levels.length - 1; i >= 0; i--) {
      const found = children(levels[i].block, name)
      if (found.length) return found[found.length - 1]
    }
    return undefined
  }
  const headerName = (innermost('real_ip_header')?.args[0] ?? 'X-Real-IP').toLowerCase()
  const recursive = innermost('real_ip_recursive')?.args[0] === 'on'
  const isTrusted = (ip: string) => trusted.some((d) => matchCidr(ip, d.args[0] ?? '') === true)
  if (!isTrusted(req.ip)) {
    return { req, note: `real_ip_header ${headerName} is ignored: ${req.ip} is not in set_real_ip_from` }
  }
  if (headerName === 'proxy_protocol') return { req, note: 'the client address comes from the PROXY protocol header, which lint does not see' }
  const value = req.headers[headerName]
  if (!value) return { req, note: `${req.ip} is a trusted proxy but the request has no ${headerName} header` }
  const list = value.split(',').map((v) => v.trim()).filter(Boolean)
  let chosen = list[list.length - 1]
  if (recursive) {
    chosen = list[0]
    for (let i = list.length - 1; i >= 0; i--) {
      if (!isTrusted(list[i])) {
        chosen = list[i]
        break
      }
    }
  }
  if (!chosen || matchCidr(chosen, chosen) === null) return { req, note: `${headerName} "${value}" holds no usable address` }
  return { req: { ...req, ip: chosen }, note: `client address ${chosen} taken from ${headerName} because ${req.ip} is in set_real_ip_from` }
}

/** Evaluates a request against a parsed nginx config. */
export function evaluateNginx(config: NginxConfig, request: LintRequest): NginxEvaluation {
  let req = request
  const notes: Finding[] = []
  const trail: string[] = []
  const http = httpLevel(config.directives)
  const server = selectServer(http, req)
  // A snippet without server blocks (a conf.d file included into one) acts as the server.
  const serverBlock = server ? (server.block ?? []) : http
  const serverName = server ? (children(server.block, 'server_name')[0]?.args[0] ?? '') : ''
  const serverLabel = server ? `server ${serverName || '_'} (${server.file}:${server.line})` : 'top level'
  trail.push(serverLabel)
  let uri = normalizeUriPath(splitQuery(req.path).path)
  const vars = new NginxVariables(req, uri, http, serverName)
  vars.serverNames = server ? children(server.block, 'server_name').flatMap((d) => d.args) : []
  const levels: Level[] = []
  if (http !== config.directives) levels.push({ label: 'http', directive: null, block: http })
  levels.push({ label: server ? `server ${serverName || '_'}` : 'top level', directive: server, block: serverBlock })
  vars.validReferers = innermostDirective(levels, 'valid_referers')?.d ?? null

  const denied = (status: number, d: NginxDirective, why: string, context: string): NginxEvaluation => ({
    verdict: { denied: status >= 400, status, file: d.file, line: d.line, col: d.col, directive: renderDirective(d), why, context },
    findings: notes,
    trail,
  })

  // realip runs in the post-read phase with the server's settings, before any rewrite.
  const serverIp = resolveClientIp(levels, req)
  req = serverIp.req
  vars.setRequest(req)

  // Server-level rewrite directives run before a location is chosen.
  const serverRewrite = runRewrite(serverBlock, vars, notes, server ? `server ${serverName || '_'}` : 'top level')
  if (serverRewrite.kind === 'return') return denied(serverRewrite.status, serverRewrite.directive, serverRewrite.why, levels[levels.length - 1].label)
  if (serverRewrite.kind === 'last') uri = serverRewrite.uri

  let locationPath: NginxDirective[] = []
  for (let restart = 0; restart <= maxLocationRestarts; restart++) {
    vars.uri = uri
    const found = findLocation(serverBlock, uri, notes)
    locationPath = found.path
    vars.captures = found.captures
    const innermost = locationPath[locationPath.length - 1]
    if (innermost) trail.push(`${describeLocation(innermost)} (${innermost.file}:${innermost.line})`)
    else trail.push(`no location matches ${uri}; server-level settings apply`)
    // After rewrite ... last the request is internal, so `internal` locations accept it.
    for (const loc of restart === 0 ? locationPath : []) {
      const internal = children(loc.block, 'internal')[0]
      if (internal) return denied(404, internal, `${describeLocation(loc)} is internal: only internal redirects reach it, external requests get 404`, describeLocation(loc))
    }
    const locLevels = [...levels, ...locationPath.map((l) => ({ label: describeLocation(l), directive: l, block: l.block ?? [] }))]
    // client_max_body_size is checked when the location is found, before its rewrites.
    const tooLarge = checkBodySize(locLevels, req)
    if (tooLarge) return { verdict: { denied: true, status: 413, ...tooLarge }, findings: notes, trail }
    if (!innermost) break
    vars.validReferers = innermostDirective(locLevels, 'valid_referers')?.d ?? null
    const outcome = runRewrite(innermost.block ?? [], vars, notes, describeLocation(innermost))
    if (outcome.kind === 'return') return denied(outcome.status, outcome.directive, outcome.why, describeLocation(innermost))
    if (outcome.kind === 'last') {
      uri = outcome.uri
      continue
    }
    break
  }

  for (const loc of locationPath) levels.push({ label: describeLocation(loc), directive: loc, block: loc.block ?? [] })
  // limit_except swaps in its own configuration for methods it does not except. Only the
  // innermost location's own limit_except counts (checked against nginx 1.22: a nested
  // location does not inherit it).
  const innermostLocation = locationPath[locationPath.length - 1]
  const limit = innermostLocation ? children(innermostLocation.block, 'limit_except').find((d) => d.block) : undefined
  let limitNote = ''
  if (limit && !exceptedMethods(limit).has(req.method)) {
    levels.push({ label: `limit_except ${limit.args.join(' ')}`, directive: limit, block: limit.block ?? [] })
    limitNote = `${req.method} is not in limit_except ${limit.args.join(' ')}${limit.args.includes('GET') ? ' (GET implies HEAD)' : ''}, so its rules apply`
  }
  // A location may carry its own realip settings, applied again before access checks.
  const locationIp = resolveClientIp(levels, request)
  req = locationIp.req
  const ipNote = locationIp.note ?? serverIp.note
  const access = evaluateAccess(levels, req, notes, limitNote)
  if (access && ipNote && access.status === 403) access.why = `${access.why} (${ipNote})`
  if (access) {
    return {
      verdict: { denied: true, status: access.status, file: access.directive.file, line: access.directive.line, col: access.directive.col, directive: renderDirective(access.directive), why: access.why, context: access.context },
      findings: notes,
      trail,
    }
  }
  const where = locationPath.length ? describeLocation(locationPath[locationPath.length - 1]) : serverLabel
  const indexNote = directoryIndexNote(levels, uri, locationPath[locationPath.length - 1] ?? server)
  if (indexNote) notes.push(indexNote)
  const staticNote = staticMethodNote(levels, req.method, locationPath[locationPath.length - 1] ?? server)
  if (staticNote) notes.push(staticNote)
  const rate = innermostDirective(levels, 'limit_req')
  if (rate) {
    const status = innermostDirective(levels, 'limit_req_status')?.d.args[0] ?? '503'
    notes.push(note(rate.d, `${renderDirective(rate.d)} applies: requests above the rate are answered ${status}${status === '503' ? ' (the default; set limit_req_status 429)' : ''}`, 'nginx.rate-limited'))
  }
  const handler = innermostLocation ? (innermostLocation.block ?? []).find((d) => upstreamHandlers.includes(d.name)) : undefined
  const upstream = handler ? `; ${handler.name} sends it to ${handler.args[0] ?? 'an upstream'} (line ${handler.line}), so a 403 would come from there` : ''
  return {
    verdict: { denied: false, status: null, file: null, line: null, col: null, directive: null, why: `no directive denies ${req.method} ${uri} from ${req.ip} in ${where}${ipNote ? ` (${ipNote})` : ''}${upstream}`, context: where },
    findings: notes,
    trail,
  }
}

/** Parses an nginx size (`10m`, `512k`, `1g`, bytes); null when malformed. */
export function parseNginxSize(text: string): number | null {
  const m = /^(\d{1,15})([kKmMgG]?)$/.exec(text)
  if (!m) return null
  const unit = m[2].toLowerCase()
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1)
}

function checkBodySize(levels: Level[], req: LintRequest): Omit<Verdict, 'denied' | 'status'> | null {
  const length = Number(req.headers['content-length'] ?? '')
  if (!Number.isFinite(length) || length <= 0) return null
  const found = innermostDirective(levels, 'client_max_body_size')
  const limit = found ? parseNginxSize(found.d.args[0] ?? '') : 1024 ** 2
  if (limit === null || limit === 0 || length <= limit) return null
  const d = found?.d
  const why = `Content-Length ${length} is over client_max_body_size ${found ? found.d.args[0] : '1m (the default)'}: nginx answers 413 Request Entity Too Large`
  if (!d) {
    const at = levels[levels.length - 1].directive ?? levels.find((l) => l.directive)?.directive
    return at ? { file: at.file, line: at.line, col: at.col, directive: 'client_max_body_size 1m; (default, not set)', why, context: levels[levels.length - 1].label } : null
  }
  return { file: d.file, line: d.line, col: d.col, directive: renderDirective(d), why, context: found.level.label }
}

const upstreamHandlers = ['proxy_pass', 'fastcgi_pass', 'uwsgi_pass', 'scgi_pass', 'grpc_pass']

const contentHandlers = ['proxy_pass', 'fastcgi_pass', 'uwsgi_pass', 'scgi_pass', 'grpc_pass', 'memcached_pass', 'return', 'try_files']

/**
 * The classic nginx 403 no directive names: a URI ending in `/` served from disk whose
 * directory has no index file, with autoindex off ("directory index of ... is forbidden").
 */
function directoryIndexNote(levels: Level[], uri: string, at: NginxDirective | null): Finding | null {
  if (!uri.endsWith('/') || !at) return null
  const innermostLocation = levels[levels.length - 1].block
  if (innermostLocation.some((d) => contentHandlers.includes(d.name))) return null
  const autoindex = innermostDirective(levels, 'autoindex')
  if (autoindex?.d.args[0] === 'on') return null
  const index = innermostDirective(levels, 'index')?.d.args.join(' ') ?? 'index.html'
  const root = innermostDirective(levels, 'alias') ?? innermostDirective(levels, 'root')
  const dir = root ? `${root.d.args[0]}${root.d.name === 'root' ? uri : ''}` : `html${uri}`
  return note(at, `if ${dir} has no ${index}, nginx answers 403 ("directory index of ... is forbidden") because autoindex is off`, 'nginx.directory-index')
}

/** nginx's static file handler answers 405 to methods other than GET/HEAD. */
function staticMethodNote(levels: Level[], method: string, at: NginxDirective | null): Finding | null {
  if (method === 'GET' || method === 'HEAD' || !at) return null
  if (levels[levels.length - 1].block.some((d) => contentHandlers.includes(d.name))) return null
  return note(at, `no proxy_pass/fastcgi_pass/return here: files are served from disk and nginx answers ${method} with 405 Not Allowed`, 'nginx.static-405')
}

interface AccessDenial {
  status: number
  directive: NginxDirective
  why: string
  context: string
}

type CheckResult = { result: 'ok' | 'declined' } | { result: 'deny'; denial: AccessDenial }

/** Runs the access phase (allow/deny, auth_basic, auth_request) under `satisfy`. */
function evaluateAccess(levels: Level[], req: LintRequest, notes: Finding[], limitNote: string): AccessDenial | null {
  const innermost = levels[levels.length - 1]
  const satisfyDirective = innermostDirective(levels, 'satisfy')
  const satisfyAny = satisfyDirective?.d.args[0] === 'any'
  const checks: CheckResult[] = [checkAllowDeny(levels, req, limitNote), checkAuthBasic(levels, req), checkAuthRequest(levels, notes, satisfyAny)]
  if (!satisfyAny) {
    for (const c of checks) if (c.result === 'deny') return c.denial
    return null
  }
  if (checks.some((c) => c.result === 'ok')) return null
  const failures = checks.filter((c): c is { result: 'deny'; denial: AccessDenial } => c.result === 'deny')
  if (failures.length === 0) return null
  // Under satisfy any a 401 from auth wins over a 403 (ngx_http_core_access_phase).
  const pick = failures.find((f) => f.denial.status === 401) ?? failures[0]
  const why = `${pick.denial.why}; satisfy any (${satisfyDirective?.d.file}:${satisfyDirective?.d.line}) needs one check to pass and none did`
  return { ...pick.denial, why, context: pick.denial.context || innermost.label }
}

function innermostDirective(levels: Level[], name: string): { d: NginxDirective; level: Level } | null {
  for (let i = levels.length - 1; i >= 0; i--) {
    const found = children(levels[i].block, name)
    if (found.length) return { d: found[found.length - 1], level: levels[i] }
  }
  return null
}

/**
 * allow/deny: the innermost level that has any of them supplies the whole list (lists are
 * not merged across levels); rules run in order and the first match decides.
 */
function checkAllowDeny(levels: Level[], req: LintRequest, limitNote: string): CheckResult {
  for (let i = levels.length - 1; i >= 0; i--) {
    const rules = levels[i].block.filter((d) => d.name === 'allow' || d.name === 'deny')
    if (rules.length === 0) continue
    const level = levels[i]
    const inherited = i < levels.length - 1 ? ` (inherited from ${level.label}, because ${levels[levels.length - 1].label} has no allow/deny of its own)` : ''
    let allowsSeen = 0
    for (const rule of rules) {
      const spec = rule.args[0] ?? ''
      const matched = spec === 'all' ? true : spec.startsWith('unix:') ? false : matchCidr(req.ip, spec)
      if (matched === null) continue
      if (!matched) {
        if (rule.name === 'allow') allowsSeen += 1
        continue
      }
      if (rule.name === 'allow') return { result: 'ok' }
      const who = spec === 'all'
        ? allowsSeen > 0 ? `client ${req.ip} is not in any allow` : 'deny all refuses every client'
        : `client ${req.ip} matches deny ${spec}`
      const prefix = limitNote ? `${limitNote}; ` : ''
      return { result: 'deny', denial: { status: 403, directive: rule, why: `${prefix}${who}${inherited}`, context: level.label } }
    }
    return { result: 'declined' }
  }
  return { result: 'declined' }
}

function checkAuthBasic(levels: Level[], req: LintRequest): CheckResult {
  const found = innermostDirective(levels, 'auth_basic')
  if (!found || found.d.args[0] === 'off') return { result: 'declined' }
  // Without a password file nginx's auth_basic handler declines: no password is asked.
  if (!innermostDirective(levels, 'auth_basic_user_file')) return { result: 'declined' }
  if (hasCredentials(req, 'basic')) return { result: 'ok' }
  return {
    result: 'deny',
    denial: { status: 401, directive: found.d, why: `auth_basic requires a user and password and the request has no Authorization: Basic header (nginx answers 401 with WWW-Authenticate)`, context: found.level.label },
  }
}

function checkAuthRequest(levels: Level[], notes: Finding[], satisfyAny: boolean): CheckResult {
  const found = innermostDirective(levels, 'auth_request')
  if (!found || found.d.args[0] === 'off') return { result: 'declined' }
  notes.push(note(found.d, `auth_request ${found.d.args[0]} decides this request: the subrequest's 2xx allows, 401 or 403 is returned to the client${satisfyAny ? ' (under satisfy any)' : ''}; lint cannot know its answer`, 'nginx.auth-request'))
  return { result: 'declined' }
}

/**
 * Runs rewrite-module directives (set, if, return, rewrite, break) of one block in order,
 * like ngx_http_rewrite_module does in the rewrite phase.
 */
function runRewrite(block: NginxDirective[], vars: NginxVariables, notes: Finding[], context: string): RewriteOutcome {
  for (const d of block) {
    switch (d.name) {
      case 'set': {
        const [name, value] = d.args
        if (!name) break
        const v = vars.interpolate(value ?? '')
        vars.sets.set(name.replace(/^\$/, '').toLowerCase(), v instanceof Unknown ? '' : v)
        break
      }
      case 'break':
        return { kind: 'break' }
      case 'return': {
        const code = Number(d.args[0])
        if (!Number.isInteger(code)) return { kind: 'return', status: 302, directive: d, why: `return redirects to ${d.args[0]}` }
        return { kind: 'return', status: code, directive: d, why: returnWhy(code, context) }
      }
      case 'rewrite': {
        const [pattern, replacement, flag] = d.args
        if (!pattern || replacement === undefined) break
        const compiled = compileUserRegex(pattern)
        if (!compiled.ok) {
          notes.push(note(d, `rewrite regex not evaluated (${compiled.reason}); assumed not to match`, 'nginx.regex-not-evaluated'))
          break
        }
        const m = compiled.regex.exec(vars.uri)
        if (!m) break
        vars.captures = m
        const target = vars.interpolate(replacement)
        if (target instanceof Unknown) {
          notes.push(note(d, `rewrite target not evaluated: ${target.reason}`, 'nginx.not-evaluated'))
          return { kind: 'break' }
        }
        if (flag === 'redirect' || flag === 'permanent' || /^https?:\/\//.test(target)) {
          return { kind: 'return', status: flag === 'permanent' ? 301 : 302, directive: d, why: `rewrite redirects to ${target}` }
        }
        const newUri = normalizeUriPath(splitQuery(target).path)
        if (flag === 'last') return { kind: 'last', uri: newUri, directive: d }
        vars.uri = newUri
        if (flag === 'break') return { kind: 'break' }
        break
      }
      case 'if': {
        const result = evaluateIf(d, vars)
        if (result instanceof Unknown) {
          const inner = runRewrite(d.block ?? [], vars, [], context)
          if (inner.kind === 'return' && inner.status >= 400) {
            notes.push(note(d, `may deny: ${renderCondition(d)} would return ${inner.status}, but ${result.reason}; assumed false`, 'nginx.may-deny'))
          }
          break
        }
        if (!result) break
        const inner = runRewrite(d.block ?? [], vars, notes, context)
        if (inner.kind === 'return') return { ...inner, why: `${renderCondition(d)} is true (${explainCondition(d, vars)}), so ${inner.why}` }
        if (inner.kind !== 'continue') return inner
        break
      }
    }
  }
  return { kind: 'continue' }
}

function returnWhy(code: number, context: string): string {
  if (code === 444) return `return 444 in ${context} closes the connection without any response`
  if (code >= 400) return `return ${code} in ${context} answers every request that reaches it`
  if (code >= 300) return `return ${code} redirects`
  return `return ${code} answers without reaching the content handler`
}

/** `if ($request_method = POST)` as written. */
export function renderCondition(d: NginxDirective): string {
  let text = d.args.join(' ').trim()
  if (text.startsWith('(')) text = text.slice(1).trimStart()
  if (text.endsWith(')')) text = text.slice(0, -1).trimEnd()
  return `if (${text})`
}

function conditionParts(d: NginxDirective): string[] {
  const args = [...d.args]
  if (args[0] === '(') args.shift()
  else if (args[0]?.startsWith('(')) args[0] = args[0].slice(1)
  const last = args.length - 1
  if (args[last] === ')') args.pop()
  else if (args[last]?.endsWith(')')) args[last] = args[last].slice(0, -1)
  return args
}

function explainCondition(d: NginxDirective, vars: NginxVariables): string {
  const parts = conditionParts(d)
  const v = vars.interpolate(parts[0] ?? '')
  const shown = v instanceof Unknown ? '?' : v.length > 80 ? `${v.slice(0, 77)}...` : v
  return `${parts[0]} is "${shown}"`
}

/** Evaluates an `if` condition; Unknown when it depends on what lint cannot see. */
export function evaluateIf(d: NginxDirective, vars: NginxVariables): boolean | Unknown {
  const parts = conditionParts(d)
  if (parts.length === 0) return new Unknown('empty condition')
  const [first, op, operand] = parts
  if (/^!?-[fdex]$/.test(first)) return new Unknown(`${first} tests the file system`)
  const value = vars.interpolate(first)
  if (value instanceof Unknown) return value
  if (op === undefined) return value !== '' && value !== '0'
  if (op === '=' || op === '!=') {
    const right = vars.interpolate(operand ?? '')
    if (right instanceof Unknown) return right
    return (value === right) === (op === '=')
  }
  if (op === '~' || op === '~*' || op === '!~' || op === '!~*') {
    const compiled = compileUserRegex(operand ?? '', op.endsWith('*'))
    if (!compiled.ok) return new Unknown(`regex "${operand}" not evaluated (${compiled.reason})`)
    const m = compiled.regex.exec(value)
    if (m && !op.startsWith('!')) vars.captures = m
    return op.startsWith('!') ? !m : Boolean(m)
  }
  return new Unknown(`operator "${op}" is not understood`)
}

/** Matches a server_name-like wildcard (exported for the risky-rule checks). */
export function matchesServerName(pattern: string, host: string): boolean {
  return matchWildcard(pattern, host, true)
}
