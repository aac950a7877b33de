import { matchCidr, matchRange, parseIp, prefixLength } from '../ip-match.js'
import { parseQuery, readCookie, splitQuery } from '../request.js'
import type { LintRequest } from '../types.js'
import { compileUserRegex } from '../user-regex.js'
import type { NginxDirective } from './parse.js'

/** Why a variable could not be evaluated; callers turn it into a "may deny" note. */
export class Unknown {
  constructor(readonly reason: string) {}
}

/** A variable value, or the reason we cannot know it statically. */
export type VarValue = string | Unknown

/**
 * nginx variables for one request: built-ins from the request, `set` values, `map` and `geo`
 * tables from the http context, and regex captures ($1..$9) from the last match.
 */
export class NginxVariables {
  readonly sets = new Map<string, string>()
  captures: string[] = []
  uri: string
  /** The `valid_referers` in effect where the variables are read (for $invalid_referer). */
  validReferers: NginxDirective | null = null
  /** server_name values of the chosen server (valid_referers server_names). */
  serverNames: string[] = []
  private readonly query: string
  private readonly args: Map<string, string>
  private readonly maps = new Map<string, NginxDirective>()
  private readonly geos = new Map<string, NginxDirective>()
  private depth = 0

  constructor(
    private req: LintRequest,
    uri: string,
    http: NginxDirective[],
    private readonly serverName: string,
  ) {
    this.uri = uri
    this.query = splitQuery(req.path).query
    this.args = parseQuery(this.query)
    for (const d of http) {
      if (d.name === 'map' && d.block && d.args.length >= 2) this.maps.set(d.args[1].replace(/^\$/, ''), d)
      if (d.name === 'geo' && d.block && d.args.length >= 1) this.geos.set(d.args[d.args.length - 1].replace(/^\$/, ''), d)
    }
  }

  /** Replaces the request (after realip changed the client address). */
  setRequest(req: LintRequest): void {
    this.req = req
  }

  /** The value of `$name`. */
  get(name: string): VarValue {
    const n = name.toLowerCase()
    if (this.sets.has(n)) return this.sets.get(n) as string
    if (/^\d$/.test(n)) return this.captures[Number(n)] ?? ''
    const req = this.req
    switch (n) {
      case 'request_method': return req.method
      case 'remote_addr':
      case 'realip_remote_addr': return req.ip
      case 'uri':
      case 'document_uri': return this.uri
      case 'request_uri': return req.path
      case 'args':
      case 'query_string': return this.query
      case 'is_args': return this.query ? '?' : ''
      case 'host': return req.host ?? this.serverName
      case 'server_name': return this.serverName
      case 'scheme': return req.scheme
      case 'https': return req.scheme === 'https' ? 'on' : ''
      case 'server_port': return String(req.port)
      case 'server_protocol': return 'HTTP/1.1'
      case 'request': return `${req.method} ${req.path} HTTP/1.1`
      case 'content_type': return req.headers['content-type'] ?? ''
      case 'content_length': return req.headers['content-length'] ?? ''
      case 'remote_user': return new Unknown('$remote_user needs the password file')
      case 'invalid_referer': return this.invalidReferer()
    }
    if (n.startsWith('http_')) return req.headers[n.slice(5).replaceAll('_', '-')] ?? ''
    if (n.startsWith('arg_')) return this.args.get(n.slice(4)) ?? ''
    if (n.startsWith('cookie_')) return readCookie(req, name.slice(7)) ?? ''
    if (n.startsWith('sent_http_') || n.startsWith('upstream_')) return new Unknown(`$${name} is only known after the response`)
    if (this.depth > 20) return new Unknown('variables refer to each other too deeply')
    this.depth += 1
    try {
      const map = this.maps.get(n)
      if (map) return this.evaluateMap(map)
      const geo = this.geos.get(n)
      if (geo) return this.evaluateGeo(geo)
    } finally {
      this.depth -= 1
    }
    return new Unknown(`$${name} is not a variable lint can evaluate`)
  }

  /** Expands `$name` and `${name}` in a string. */
  interpolate(text: string): VarValue {
    let out = ''
    let i = 0
    while (i < text.length) {
      const c = text[i]
      if (c !== '$') {
        out += c
        i += 1
        continue
      }
      let name = ''
      if (text[i + 1] === '{') {
        const close = text.indexOf('}', i)
        if (close < 0) return new Unknown(`unterminated \${ in "${text}"`)
        name = text.slice(i + 2, close)
        i = close + 1
      } else {
        let j = i + 1
        while (j < text.length && /[A-Za-z0-9_]/.test(text[j])) j++
        name = text.slice(i + 1, j)
        if (!name) {
          out += '$'
          i += 1
          continue
        }
        i = j
      }
      const v = this.get(name)
      if (v instanceof Unknown) return v
      out += v
    }
    return out
  }

  /** ngx_http_referer_module: '' when the Referer is valid for `valid_referers`, '1' otherwise. */
  private invalidReferer(): VarValue {
    const d = this.validReferers
    if (!d) return ''
    const referer = this.req.headers.referer
    const args = d.args
    if (referer === undefined || referer === '') return args.includes('none') ? '' : '1'
    const m = /^https?:\/\/(.*)$/i.exec(referer)
    if (!m) return args.includes('blocked') ? '' : '1'
    const rest = m[1]
    const host = rest.split(/[/:?#]/, 1)[0].toLowerCase()
    const path = rest.slice(rest.split(/[/?#]/, 1)[0].length)
    for (const raw of args) {
      if (raw === 'none' || raw === 'blocked') continue
      const names = raw === 'server_names' ? this.serverNames : [raw]
      for (const name of names) {
        if (name.startsWith('~')) {
          const compiled = compileUserRegex(name.slice(1), true)
          if (!compiled.ok) return new Unknown(`valid_referers regex "${name}" not evaluated (${compiled.reason})`)
          if (compiled.regex.exec(rest)) return ''
          continue
        }
        const slash = name.indexOf('/')
        const namePart = (slash < 0 ? name : name.slice(0, slash)).toLowerCase()
        const uriPart = slash < 0 ? '' : name.slice(slash)
        const hostOk = namePart.startsWith('*.') ? host.endsWith(namePart.slice(1))
          : namePart.startsWith('.') ? host === namePart.slice(1) || host.endsWith(namePart)
          : namePart.endsWith('.*') ? host.startsWith(namePart.slice(0, -1))
          : host === namePart
        if (hostOk && path.startsWith(uriPart)) return ''
      }
    }
    return '1'
  }

  private evaluateMap(map: NginxDirective): VarValue {
    const source = this.interpolate(map.args[0])
    if (source instanceof Unknown) return new Unknown(`map at ${map.file}:${map.line} reads ${map.args[0]}: ${source.reason}`)
    let fallback = ''
    let hostnames = false
    const regexes: NginxDirective[] = []
    const lower = source.toLowerCase()
    for (const entry of map.block ?? []) {
      const key = entry.name
      const value = entry.args[0] ?? ''
      if (key === 'hostnames') { hostnames = true; continue }
      if (key === 'volatile' || key === 'include') continue
      if (key === 'default') { fallback = value; continue }
      if (key.startsWith('~')) { regexes.push(entry); continue }
      const plain = key.startsWith('\\') ? key.slice(1) : key
      // Strings match ignoring case (ngx_http_map_module).
      if (plain.toLowerCase() === lower) return this.interpolate(value)
    }
    if (hostnames) {
      let best: { len: number; value: string } | null = null
      for (const entry of map.block ?? []) {
        const key = entry.name.toLowerCase()
        const suffix = key.startsWith('*.') ? key.slice(1) : key.startsWith('.') ? key : null
        if (suffix && (lower.endsWith(suffix) || `.${lower}` === suffix) && (!best || suffix.length > best.len)) {
          best = { len: suffix.length, value: entry.args[0] ?? '' }
        }
      }
      if (best) return this.interpolate(best.value)
    }
    for (const entry of regexes) {
      const ci = entry.name.startsWith('~*')
      const pattern = entry.name.slice(ci ? 2 : 1)
      const compiled = compileUserRegex(pattern, ci)
      if (!compiled.ok) return new Unknown(`map regex "${pattern}" at ${entry.file}:${entry.line}: ${compiled.reason}`)
      const m = compiled.regex.exec(source)
      if (m) {
        this.captures = m
        return this.interpolate(entry.args[0] ?? '')
      }
    }
    return this.interpolate(fallback)
  }

  private evaluateGeo(geo: NginxDirective): VarValue {
    let address = this.req.ip
    if (geo.args.length >= 2) {
      const src = this.interpolate(geo.args[0])
      if (src instanceof Unknown) return src
      // geo takes the last address of X-Forwarded-For-like lists.
      address = src.split(',').pop()?.trim() ?? ''
    }
    if (!parseIp(address)) return new Unknown(`geo at ${geo.file}:${geo.line}: "${address}" is not an address`)
    let fallback = ''
    let ranges = false
    let best: { bits: number; value: string } | null = null
    for (const entry of geo.block ?? []) {
      const key = entry.name
      const value = entry.args[0] ?? ''
      if (key === 'ranges') { ranges = true; continue }
      if (key === 'default') { fallback = value; continue }
      if (key === 'proxy' || key === 'proxy_recursive' || key === 'include' || key === 'delete') continue
      if (ranges && key.includes('-')) {
        const [from, to] = key.split('-')
        if (matchRange(address, from, to) && !best) best = { bits: 0, value }
        continue
      }
      const spec = key === '0.0.0.0/0' ? key : key
      if (matchCidr(address, spec)) {
        // The most specific network wins, like geo's radix tree.
        const bits = prefixLength(spec)
        if (!best || bits > best.bits) best = { bits, value }
      }
    }
    return best ? best.value : fallback
  }
}
