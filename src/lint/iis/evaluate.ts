import { matchIpWithMask } from '../ip-match.js'
import { hasCredentials, normalizeUriPath, percentDecode, splitQuery } from '../request.js'
import type { Finding, LintRequest, Verdict } from '../types.js'
import { compileUserRegex } from '../user-regex.js'
import { matchWildcard } from '../wildcard.js'
import type { IisConfig, IisSection } from './parse.js'
import { child, path, type XmlElement } from './xml.js'

/** Verdict plus notes for one request against a web.config. */
export interface IisEvaluation {
  verdict: Verdict
  findings: Finding[]
  /** Scopes applied: the file, then matching `<location>`s. */
  trail: string[]
}

interface Denial {
  status: number | null
  subStatus?: number
  el: XmlElement
  why: string
  context: string
}

/** IIS defaults (applicationHost.config) used when web.config does not set them. */
export const iisDefaults = { maxAllowedContentLength: 30_000_000, maxUrl: 4096, maxQueryString: 2048 }

/** Sections that apply to the request path: the file, then matching `<location>`s, least specific first. */
export function applicableSections(config: IisConfig, urlPath: string): IisSection[] {
  const rel = urlPath.replace(/^\/+/, '').toLowerCase()
  return config.sections
    .filter((s) => s.path === '' || rel === s.path.toLowerCase() || rel.startsWith(`${s.path.toLowerCase()}/`))
    .sort((a, b) => a.path.length - b.path.length)
}

/** A merged collection entry and the scope it came from. */
interface Entry {
  el: XmlElement
  scope: string
}

/** Merges `<add>/<remove>/<clear>` collections across scopes, IIS-style. */
export function mergeCollection(containers: { el: XmlElement | undefined; scope: string }[], key: (e: XmlElement) => string): Entry[] {
  let list: Entry[] = []
  for (const { el, scope } of containers) {
    if (!el) continue
    for (const c of el.children) {
      if (c.name === 'clear') list = []
      else if (c.name === 'remove') list = list.filter((x) => key(x.el) !== key(c))
      else if (c.name === 'add') {
        list = list.filter((x) => key(x.el) !== key(c))
        list.push({ el: c, scope })
      }
    }
  }
  return list
}

function lastAttr(containers: { el: XmlElement | undefined; scope: string }[], name: string): { value: string; el: XmlElement; scope: string } | null {
  let found: { value: string; el: XmlElement; scope: string } | null = null
  for (const { el, scope } of containers) if (el && el.attrs[name] !== undefined) found = { value: el.attrs[name], el, scope }
  return found
}

const isFalse = (v: string | undefined) => v?.toLowerCase() === 'false'
const isTrue = (v: string | undefined) => v?.toLowerCase() === 'true'

/** Evaluates a request against a web.config. */
export function evaluateIis(config: IisConfig, req: LintRequest): IisEvaluation {
  const notes: Finding[] = []
  const { path: rawPath, query } = splitQuery(req.path)
  const urlPath = normalizeUriPath(rawPath)
  const sections = applicableSections(config, urlPath)
  const trail = sections.map((sc) => `${sc.label} (${config.file}:${sc.element.line})`)
  const deny = (d: Denial): IisEvaluation => ({
    trail,
    verdict: { denied: true, status: d.status, subStatus: d.subStatus, file: config.file, line: d.el.line, col: d.el.col, directive: d.el.text, why: d.why, context: d.context },
    findings: notes,
  })
  const checks = [checkIpSecurity, checkRequestFiltering, checkRewrite, checkSsl, checkAnonymous, checkUrlAuthorization, checkAspNetAuthorization]
  for (const check of checks) {
    const d = check(sections, req, { urlPath, rawPath, query }, notes, config.file)
    if (d) return deny(d)
  }
  const browse = lastAttr(scoped(sections, 'directoryBrowse'), 'enabled')
  if (urlPath.endsWith('/') && !isTrue(browse?.value) && config.root) {
    const at = browse?.el ?? config.root
    notes.push({ file: config.file, line: at.line, col: at.col, severity: 'warning', message: `if ${urlPath} has no default document (defaultDocument: Default.htm, index.html, ...), IIS answers 403.14 "Directory listing denied" because directoryBrowse is disabled`, rule: 'iis.directory-listing' })
  }
  return {
    verdict: { denied: false, status: null, file: null, line: null, col: null, directive: null, why: `no rule in ${config.file} denies ${req.method} ${urlPath} from ${req.ip}` },
    findings: notes,
    trail,
  }
}

type Check = (sections: IisSection[], req: LintRequest, url: { urlPath: string; rawPath: string; query: string }, notes: Finding[], file: string) => Denial | null

const scoped = (sections: IisSection[], ...names: string[]) => sections.map((s) => ({ el: path(s.webServer, ...names), scope: s.label }))

const checkIpSecurity: Check = (sections, req, _url, notes, file) => {
  const containers = scoped(sections, 'security', 'ipSecurity')
  if (!containers.some((c) => c.el)) return null
  const entries = mergeCollection(containers, (e) => `${e.attrs.ipAddress ?? ''}/${e.attrs.subnetMask ?? ''}/${(e.attrs.domainName ?? '').toLowerCase()}`)
  const allowUnlisted = lastAttr(containers, 'allowUnlisted')
  const action = lastAttr(containers, 'denyAction')?.value ?? 'Forbidden'
  const outcome = (el: XmlElement, why: string, scope: string): Denial => {
    const a = action.toLowerCase()
    if (a === 'abortrequest') return { status: null, el, why: `${why}; denyAction="AbortRequest" drops the connection without a response`, context: scope }
    const status = a === 'unauthorized' ? 401 : a === 'notfound' ? 404 : 403
    return { status, subStatus: 503, el, why: `${why} (IIS 8+ answers ${status}.503; IIS 7 answers 403.6 "IP address rejected")`, context: scope }
  }
  for (const e of entries) {
    if (e.el.attrs.domainName) {
      notes.push({ file, line: e.el.line, col: e.el.col, severity: 'warning', message: `ipSecurity entry for domain ${e.el.attrs.domainName} needs reverse DNS; not evaluated`, rule: 'iis.not-evaluated' })
    }
  }
  const check = (ip: string, who: string): Denial | null => {
    for (const e of entries) {
      if (e.el.attrs.domainName) continue
      const m = matchIpWithMask(ip, e.el.attrs.ipAddress ?? '', e.el.attrs.subnetMask)
      if (!m) continue
      if (isTrue(e.el.attrs.allowed)) return null
      return outcome(e.el, `${who} ${ip} matches ipSecurity entry ${e.el.attrs.ipAddress}${e.el.attrs.subnetMask ? `/${e.el.attrs.subnetMask}` : ''} with allowed="false"`, e.scope)
    }
    if (allowUnlisted && isFalse(allowUnlisted.value)) {
      return outcome(allowUnlisted.el, `${who} ${ip} is not in any ipSecurity entry and allowUnlisted="false"`, allowUnlisted.scope)
    }
    return null
  }
  const direct = check(req.ip, 'client')
  if (direct) return direct
  // enableProxyMode: IIS also checks every address in X-Forwarded-For.
  if (isTrue(lastAttr(containers, 'enableProxyMode')?.value)) {
    for (const ip of (req.headers['x-forwarded-for'] ?? '').split(',').map((v) => v.trim()).filter(Boolean)) {
      const d = check(ip, 'X-Forwarded-For address')
      if (d) return { ...d, why: `${d.why}; enableProxyMode="true" checks forwarded addresses too` }
    }
  }
  return null
}

const checkRequestFiltering: Check = (sections, req, url) => {
  const rf = scoped(sections, 'security', 'requestFiltering')
  const segments = url.urlPath.split('/').filter(Boolean)
  const last = segments[segments.length - 1] ?? ''
  const doubleEscaping = lastAttr(rf, 'allowDoubleEscaping')
  if (!isTrue(doubleEscaping?.value) && rf.some((c) => c.el)) {
    const once = percentDecode(url.rawPath)
    if (url.rawPath.includes('+') || once !== percentDecode(once)) {
      const el = doubleEscaping?.el ?? (rf.find((c) => c.el)?.el as XmlElement)
      return { status: 404, subStatus: 11, el, why: `the URL contains "+" or a double-escaped sequence and allowDoubleEscaping is false${doubleEscaping ? '' : ' (the default)'}`, context: doubleEscaping?.scope ?? 'requestFiltering' }
    }
  }
  const limits = rf.map((c) => ({ el: c.el ? child(c.el, 'requestLimits') : undefined, scope: c.scope }))
  const maxUrl = lastAttr(limits, 'maxUrl')
  if (maxUrl && url.rawPath.length > Number(maxUrl.value)) return { status: 404, subStatus: 14, el: maxUrl.el, why: `the URL is ${url.rawPath.length} characters, over maxUrl=${maxUrl.value}`, context: maxUrl.scope }
  const maxQuery = lastAttr(limits, 'maxQueryString')
  if (maxQuery && url.query.length > Number(maxQuery.value)) return { status: 404, subStatus: 15, el: maxQuery.el, why: `the query string is ${url.query.length} characters, over maxQueryString=${maxQuery.value}`, context: maxQuery.scope }
  const sequences = mergeCollection(rf.map((c) => ({ el: c.el ? child(c.el, 'denyUrlSequences') : undefined, scope: c.scope })), (e) => e.attrs.sequence ?? '')
  const decoded = percentDecode(url.rawPath)
  for (const s of sequences) {
    const seq = s.el.attrs.sequence
    if (seq && (decoded.includes(seq) || url.rawPath.includes(seq))) return { status: 404, subStatus: 5, el: s.el, why: `the URL contains the denied sequence "${seq}"`, context: s.scope }
  }
  const dot = last.lastIndexOf('.')
  const ext = dot > 0 ? last.slice(dot).toLowerCase() : ''
  const filtering = checkFilteringRules(rf, req, url, ext)
  if (filtering) return filtering
  const extContainers = rf.map((c) => ({ el: c.el ? child(c.el, 'fileExtensions') : undefined, scope: c.scope }))
  const extEntries = mergeCollection(extContainers, (e) => (e.attrs.fileExtension ?? '').toLowerCase())
  const extEntry = extEntries.find((e) => (e.el.attrs.fileExtension ?? '').toLowerCase() === ext && ext !== '')
  if (extEntry && isFalse(extEntry.el.attrs.allowed)) return { status: 404, subStatus: 7, el: extEntry.el, why: `file extension ${ext} is denied by requestFiltering`, context: extEntry.scope }
  const extUnlisted = lastAttr(extContainers, 'allowUnlisted')
  if (!extEntry && ext && extUnlisted && isFalse(extUnlisted.value)) return { status: 404, subStatus: 7, el: extUnlisted.el, why: `file extension ${ext} is not listed and fileExtensions allowUnlisted="false"`, context: extUnlisted.scope }
  const hidden = mergeCollection(rf.map((c) => ({ el: c.el ? child(c.el, 'hiddenSegments') : undefined, scope: c.scope })), (e) => (e.attrs.segment ?? '').toLowerCase())
  for (const h of hidden) {
    const seg = (h.el.attrs.segment ?? '').toLowerCase()
    if (seg && segments.some((s) => s.toLowerCase() === seg)) return { status: 404, subStatus: 8, el: h.el, why: `path segment "${h.el.attrs.segment}" is a hidden segment`, context: h.scope }
  }
  const verbContainers = rf.map((c) => ({ el: c.el ? child(c.el, 'verbs') : undefined, scope: c.scope }))
  const verbs = mergeCollection(verbContainers, (e) => (e.attrs.verb ?? '').toUpperCase())
  const verb = verbs.find((v) => (v.el.attrs.verb ?? '').toUpperCase() === req.method)
  if (verb && isFalse(verb.el.attrs.allowed)) return { status: 404, subStatus: 6, el: verb.el, why: `verb ${req.method} is denied by requestFiltering (allowed="false")`, context: verb.scope }
  const verbUnlisted = lastAttr(verbContainers, 'allowUnlisted')
  if (!verb && verbUnlisted && isFalse(verbUnlisted.value)) {
    const allowed = verbs.filter((v) => !isFalse(v.el.attrs.allowed)).map((v) => v.el.attrs.verb)
    return { status: 404, subStatus: 6, el: verbUnlisted.el, why: `verb ${req.method} is not listed and verbs allowUnlisted="false" (allowed: ${allowed.join(', ') || 'none'})`, context: verbUnlisted.scope }
  }
  const maxLength = lastAttr(limits, 'maxAllowedContentLength')
  const length = Number(req.headers['content-length'] ?? '0')
  const max = maxLength ? Number(maxLength.value) : iisDefaults.maxAllowedContentLength
  if (length > max) {
    const el = maxLength?.el ?? (rf.find((c) => c.el)?.el)
    if (el) return { status: 404, subStatus: 13, el, why: `Content-Length ${length} is over maxAllowedContentLength=${max}${maxLength ? '' : ' (the default)'} bytes: IIS answers 404.13, not 413`, context: maxLength?.scope ?? 'requestFiltering' }
  }
  return null
}

/** requestFiltering `<filteringRules>`: deny strings in the URL, query or headers (404.19). */
function checkFilteringRules(rf: { el: XmlElement | undefined; scope: string }[], req: LintRequest, url: { urlPath: string; rawPath: string; query: string }, ext: string): Denial | null {
  let rules: { el: XmlElement; scope: string }[] = []
  for (const { el, scope } of rf) {
    const container = el ? child(el, 'filteringRules') : undefined
    for (const c of container?.children ?? []) {
      if (c.name === 'clear') rules = []
      else if (c.name === 'remove') rules = rules.filter((r) => r.el.attrs.name !== c.attrs.name)
      else if (c.name === 'filteringRule') rules = [...rules.filter((r) => r.el.attrs.name !== c.attrs.name), { el: c, scope }]
    }
  }
  for (const { el, scope } of rules) {
    const applies = child(el, 'appliesTo')?.children.filter((c) => c.name === 'add').map((c) => (c.attrs.fileExtension ?? '').toLowerCase()) ?? []
    if (applies.length && !applies.includes(ext)) continue
    const subjects: { what: string; text: string }[] = []
    if (isTrue(el.attrs.scanUrl)) subjects.push({ what: 'the URL', text: percentDecode(url.rawPath) })
    if (isTrue(el.attrs.scanQueryString)) subjects.push({ what: 'the query string', text: percentDecode(url.query) })
    for (const h of child(el, 'scanHeaders')?.children.filter((c) => c.name === 'add') ?? []) {
      const name = (h.attrs.requestHeader ?? '').toLowerCase()
      if (req.headers[name] !== undefined) subjects.push({ what: `header ${h.attrs.requestHeader}`, text: req.headers[name] })
    }
    for (const d of child(el, 'denyStrings')?.children.filter((c) => c.name === 'add') ?? []) {
      const needle = (d.attrs.string ?? '').toLowerCase()
      if (!needle) continue
      const hit = subjects.find((sub) => sub.text.toLowerCase().includes(needle))
      if (hit) return { status: 404, subStatus: 19, el: d, why: `filtering rule "${el.attrs.name ?? ''}" (line ${el.line}) finds the denied string "${d.attrs.string}" in ${hit.what}`, context: scope }
    }
  }
  return null
}

function serverVariable(name: string, req: LintRequest, url: { urlPath: string; rawPath: string; query: string }): string | null {
  const n = name.toUpperCase()
  switch (n) {
    case 'REQUEST_METHOD': return req.method
    case 'REMOTE_ADDR': return req.ip
    case 'QUERY_STRING': return url.query
    case 'URL': return url.urlPath
    case 'PATH_INFO': return url.urlPath
    case 'REQUEST_URI': return req.path
    case 'HTTPS': return req.scheme === 'https' ? 'on' : 'off'
    case 'SERVER_PORT': return String(req.port)
  }
  if (n.startsWith('HTTP_')) return req.headers[n.slice(5).toLowerCase().replaceAll('_', '-')] ?? ''
  return null
}

function matchPattern(el: XmlElement, subject: string, pattern: string, syntax: string): boolean | null {
  const ci = !isFalse(el.attrs.ignoreCase)
  if (syntax.toLowerCase() === 'wildcard') return matchWildcard(pattern, subject, ci)
  if (syntax.toLowerCase() === 'exactmatch') return ci ? subject.toLowerCase() === pattern.toLowerCase() : subject === pattern
  const compiled = compileUserRegex(pattern, ci)
  return compiled.ok ? compiled.regex.exec(subject) !== null : null
}

/** URL Rewrite inbound rules whose action is CustomResponse 4xx or AbortRequest. */
const checkRewrite: Check = (sections, req, url, notes, file) => {
  for (const s of sections) {
    const rules = path(s.webServer, 'rewrite', 'rules')
    if (!rules) continue
    const syntaxDefault = 'ECMAScript'
    for (const rule of rules.children.filter((c) => c.name === 'rule')) {
      if (isFalse(rule.attrs.enabled)) continue
      const match = child(rule, 'match')
      const action = child(rule, 'action')
      if (!match || !action) continue
      const syntax = rule.attrs.patternSyntax ?? syntaxDefault
      const subject = url.urlPath.replace(/^\//, '')
      let hit = matchPattern(match, subject, match.attrs.url ?? '', syntax)
      if (hit === null) {
        notes.push({ file, line: match.line, col: match.col, severity: 'warning', message: `rewrite rule "${rule.attrs.name ?? ''}" pattern not evaluated; assumed not to match`, rule: 'iis.not-evaluated' })
        continue
      }
      if (isTrue(match.attrs.negate)) hit = !hit
      if (!hit) continue
      const conds = child(rule, 'conditions')
      const any = conds?.attrs.logicalGrouping?.toLowerCase() === 'matchany'
      let result: boolean | null = any ? false : true
      for (const c of conds?.children.filter((x) => x.name === 'add') ?? []) {
        const input = (c.attrs.input ?? '').replace(/^\{|\}$/g, '')
        const value = serverVariable(input, req, url)
        let r: boolean | null
        if (value === null || c.attrs.matchType) r = null
        else {
          r = matchPattern(c, value, c.attrs.pattern ?? '', syntax)
          if (r !== null && isTrue(c.attrs.negate)) r = !r
        }
        if (any) result = result === true || r === true ? true : result === null || r === null ? null : false
        else result = result === false || r === false ? false : result === null || r === null ? null : true
      }
      const type = (action.attrs.type ?? '').toLowerCase()
      const status = type === 'customresponse' ? Number(action.attrs.statusCode) : type === 'abortrequest' ? 0 : NaN
      const denies = status === 0 || status >= 400
      if (result === null) {
        if (denies) notes.push({ file, line: rule.line, col: rule.col, severity: 'warning', message: `may deny: rewrite rule "${rule.attrs.name ?? ''}" would ${status ? `answer ${status}` : 'abort the request'}, but a condition is not evaluable`, rule: 'iis.may-deny' })
        continue
      }
      if (!result) continue
      if (denies) {
        const sub = Number(action.attrs.subStatusCode ?? '0')
        return { status: status || null, subStatus: status && sub ? sub : undefined, el: action, why: `rewrite rule "${rule.attrs.name ?? ''}" (line ${rule.line}) matches ${url.urlPath}${conds ? ' and its conditions hold' : ''}; its action ${status ? `answers ${status}` : 'aborts the request (no response)'}`, context: s.label }
      }
      if (isTrue(rule.attrs.stopProcessing) || type === 'redirect') return null
    }
  }
  return null
}

const checkSsl: Check = (sections, req) => {
  const access = lastAttr(scoped(sections, 'security', 'access'), 'sslFlags')
  if (!access) return null
  const flags = access.value.split(',').map((f) => f.trim().toLowerCase())
  if (flags.includes('ssl') && req.scheme !== 'https') return { status: 403, subStatus: 4, el: access.el, why: `sslFlags="${access.value}" requires HTTPS and the request is plain HTTP (pass --scheme https)`, context: access.scope }
  if (flags.includes('sslrequirecert')) return null
  return null
}

const checkAnonymous: Check = (sections, req) => {
  const anon = lastAttr(scoped(sections, 'security', 'authentication', 'anonymousAuthentication'), 'enabled')
  if (!anon || !isFalse(anon.value) || hasCredentials(req)) return null
  return { status: 401, subStatus: 2, el: anon.el, why: 'anonymous authentication is disabled and the request has no Authorization header', context: anon.scope }
}

/** Whether a users/roles rule matches the caller; null when it depends on who logs in. */
function principalMatches(el: XmlElement, req: LintRequest): boolean | null {
  const verbs = el.attrs.verbs ?? el.attrs.verb
  if (verbs && !verbs.split(',').map((v) => v.trim().toUpperCase()).includes(req.method)) return false
  const anonymous = !hasCredentials(req)
  const users = (el.attrs.users ?? '').split(',').map((u) => u.trim()).filter(Boolean)
  const roles = (el.attrs.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean)
  if (users.includes('*')) return true
  if (users.includes('?') && anonymous) return true
  if (anonymous) return false
  if (users.some((u) => u !== '?') || roles.length) return null
  return false
}

/** IIS URL Authorization: deny rules are evaluated before allow rules; no allow means denied. */
const checkUrlAuthorization: Check = (sections, req, _url, notes, file) => {
  const containers = scoped(sections, 'security', 'authorization')
  if (!containers.some((c) => c.el)) return null
  const key = (e: XmlElement) => `${(e.attrs.accessType ?? '').toLowerCase()}|${e.attrs.users ?? ''}|${e.attrs.roles ?? ''}|${e.attrs.verbs ?? ''}`
  // applicationHost.config ships `<add accessType="Allow" users="*" />`; a <clear/> removes it.
  const defaultRule: XmlElement = { name: 'add', attrs: { accessType: 'Allow', users: '*' }, line: 0, col: 0, file, children: [], text: '<add accessType="Allow" users="*" /> (applicationHost.config default)' }
  const entries = mergeCollection([{ el: { ...defaultRule, name: 'authorization', children: [defaultRule] }, scope: 'applicationHost.config' }, ...containers], key)
  const anonymous = !hasCredentials(req)
  for (const e of entries.filter((x) => x.el.attrs.accessType?.toLowerCase() === 'deny')) {
    const m = principalMatches(e.el, req)
    if (m === null) {
      notes.push({ file, line: e.el.line, col: e.el.col, severity: 'warning', message: `may deny: ${e.el.text} depends on the user's name or roles`, rule: 'iis.may-deny' })
      continue
    }
    if (m) return { status: anonymous ? 401 : 403, subStatus: anonymous ? 2 : undefined, el: e.el, why: `IIS URL Authorization deny rule matches ${anonymous ? 'an anonymous request' : 'the user'} (deny rules are checked before allow rules)`, context: e.scope }
  }
  let unknown = false
  for (const e of entries.filter((x) => x.el.attrs.accessType?.toLowerCase() === 'allow')) {
    const m = principalMatches(e.el, req)
    if (m) return null
    if (m === null) unknown = true
  }
  if (unknown) {
    const first = entries.find((x) => x.el.attrs.accessType?.toLowerCase() === 'allow' && principalMatches(x.el, req) === null)
    if (first) notes.push({ file, line: first.el.line, col: first.el.col, severity: 'warning', message: `may deny: only ${first.el.text} can allow this request, and it depends on the user's name or roles`, rule: 'iis.may-deny' })
    return null
  }
  const last = [...containers].reverse().find((c) => c.el)
  if (!last?.el) return null
  return { status: anonymous ? 401 : 403, subStatus: anonymous ? 2 : undefined, el: last.el, why: `no IIS URL Authorization allow rule matches ${anonymous ? 'an anonymous request' : 'the user'}${entries.some((e) => e.el === defaultRule) ? '' : ' (the default allow-all rule was cleared)'}`, context: last.scope }
}

/** ASP.NET URL authorization: most local scope first, first matching rule wins, default allow. */
const checkAspNetAuthorization: Check = (sections, req, _url, notes, file) => {
  const anonymous = !hasCredentials(req)
  for (const s of [...sections].reverse()) {
    const auth = child(s.web, 'authorization')
    if (!auth) continue
    const uncertainAllows: XmlElement[] = []
    for (const rule of auth.children.filter((c) => c.name === 'allow' || c.name === 'deny')) {
      const m = principalMatches(rule, req)
      if (m === null) {
        if (rule.name === 'deny') notes.push({ file, line: rule.line, col: rule.col, severity: 'warning', message: `may deny: ${rule.text} depends on the user's name or roles`, rule: 'iis.may-deny' })
        else uncertainAllows.push(rule)
        continue
      }
      if (!m) continue
      if (rule.name === 'allow') return null
      const unless = uncertainAllows.length ? ` (unless the user matches the earlier ${uncertainAllows.map((a) => `${a.text} at line ${a.line}`).join(', ')})` : ''
      return { status: anonymous ? 401 : 403, subStatus: anonymous ? 2 : undefined, el: rule, why: `ASP.NET authorization: ${rule.text} is the first rule matching ${anonymous ? 'an anonymous request (users="?")' : 'the user'}${unless}${anonymous ? '; forms authentication turns this into a 302 to the login page' : ''}`, context: s.label }
    }
  }
  return null
}
