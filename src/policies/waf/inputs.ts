import { isUtf8 } from 'node:buffer'
import type { RequestContext } from '../../gateway/context.js'
import type { Location, NativeCheck } from './ruleset/types.js'
import { parseMultipart } from './multipart.js'
import { scanXml } from './xml.js'
import type { PlainRouter } from './alphabet.js'
import RE2 from 're2'

/** Most characters of one value inspected; the rest is not looked at (documented in the schema). */
export const maxValueChars = 64 * 1024
/** Most characters inspected per request, over all fields. */
export const maxTotalChars = 1024 * 1024
/** Most fields (values plus names) inspected per request. */
export const maxFields = 4000
/** JSON nesting followed; deeper values are not inspected (and the request is marked truncated). */
const maxDepth = 32
// libddwaf truncates strings at 4096 bytes and containers at 256 entries, so long values are cut
// into overlapping chunks (an attack across a cut still appears whole in one chunk if it is
// shorter than the overlap) and fields are spread over groups of at most 200.
const chunkChars = 3072
const chunkOverlap = 256
const groupSize = 200
const headerCountLimit = 100

/** libddwaf address of each location (plain values of some locations may go to quietAddressOf instead). */
export const addressOf: Record<Location, string> = {
  path: 'gh.path',
  rawpath: 'gh.rawpath',
  segment: 'gh.segment',
  query: 'gh.query',
  body: 'gh.body',
  cookie: 'gh.cookie',
  header: 'gh.header',
  keys: 'gh.keys',
  file: 'gh.file',
  command: 'gh.command',
  ua: 'gh.ua',
}

/**
 * Locations whose plain values can go to a quiet address (alphabet.ts): a value that cannot open any
 * gated signature is read there by only the signatures that have no gate, instead of by all of them.
 * The others (paths, names, the `file`/`command` copies) are short or few.
 */
export const quietLocations = ['query', 'body', 'cookie', 'header'] as const satisfies readonly Location[]
type QuietLocation = (typeof quietLocations)[number]

/** The quiet address of each quiet location. */
export const quietAddressOf: Record<QuietLocation, string> = {
  query: 'gh.query.quiet',
  body: 'gh.body.quiet',
  cookie: 'gh.cookie.quiet',
  header: 'gh.header.quiet',
}

function isQuietLocation(location: Location): location is QuietLocation {
  return location === 'query' || location === 'body' || location === 'cookie' || location === 'header'
}

// Parameter names whose value is a file, page or include target: traversal and URLs in them are attacks.
const fileishNames = new Set([
  'file', 'filename', 'filepath', 'file_path', 'path', 'page', 'pg', 'include', 'inc', 'require', 'template', 'tpl',
  'tmpl', 'view', 'doc', 'document', 'folder', 'dir', 'directory', 'load', 'read', 'download', 'dl', 'module', 'mod',
  'lang', 'language', 'locale', 'theme', 'skin', 'style', 'layout', 'conf', 'config', 'cfg', 'cat', 'pagename',
  'inc_file', 'main', 'root', 'log', 'logfile', 'pdf', 'pagina', 'filedir', 'show', 'open', 'fetch', 'f', 'p',
])

// Parameter names whose value is run as a command: a bare command name in them is an attack.
const commandNames = new Set(['cmd', 'command', 'exec', 'execute', 'run', 'shell', 'sh', 'bash', 'cli', 'system', 'proc', 'process', 'daemon', 'payload', 'arg', 'args', 'do', 'func', 'function', 'ping', 'query_cmd', 'jump', 'code', 'eval', 'exe'])

// Headers whose values are not inspected: framing and negotiation headers the HTTP parser already
// validated, credentials (never copied into a trace), and the cookie header (parsed separately).
const skippedHeaders = new Set([
  'host', 'content-length', 'connection', 'cookie', 'authorization', 'proxy-authorization', 'x-api-key', 'accept',
  'accept-encoding', 'accept-language', 'cache-control', 'pragma', 'upgrade-insecure-requests', 'if-none-match',
  'if-modified-since', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua-mobile',
  'sec-ch-ua-platform', 'traceparent', 'tracestate', 'x-request-id', 'keep-alive', 'te', 'transfer-encoding',
  'content-type', 'priority', 'dnt',
])

/** A byte-level anomaly found in JavaScript, scored like a signature match. */
export interface NativeFinding {
  check: NativeCheck
  field: string
  excerpt: string
}

type Group = Record<string, string | string[]>
/** One libddwaf run's worth of addresses. */
export type Payload = Record<string, Group[]>

/**
 * The request turned into WAF inputs: one payload per exclusion class (key '' holds the fields no
 * exclusion covers), plus the anomalies found while decoding.
 */
export interface WafInputs {
  payloads: Map<string, Payload>
  findings: NativeFinding[]
  /** Characters inspected; inspection stops at maxTotalChars. */
  inspectedChars: number
  /** Header values inspected (for CleanHeaderCache.remember when nothing matched). */
  headerKeys: string[]
  truncated: boolean
}

/**
 * Header values (User-Agent, Referer, ...) that already went through every signature without a
 * match. Clients send the same ones on every request, and the signatures are pure functions of
 * one value, so the answer cannot change; bounded, and dropped with the compiled policy.
 */
export class CleanHeaderCache {
  private readonly keys = new Set<string>()
  constructor(private readonly limit = 2000) {}
  has(key: string): boolean {
    return this.keys.has(key)
  }
  /** Remembers the header values of a request that matched nothing. */
  remember(keys: readonly string[]): void {
    if (this.keys.size + keys.length > this.limit) this.keys.clear()
    for (const key of keys) this.keys.add(key)
  }
}

/** Gives the exclusion class of a field ('' for none); built once per config from the exclusions. */
export type ExclusionClassifier = (field: string) => string

/** Collects `field → value` pairs into bounded libddwaf payloads. */
class Collector {
  readonly payloads = new Map<string, Payload>()
  readonly findings: NativeFinding[] = []
  inspectedChars = 0
  fields = 0
  truncated = false
  /** Header values inspected this time (keys into the clean-header cache). */
  readonly headerKeys: string[] = []
  private readonly groupSizes = new Map<string, number>()

  constructor(
    private readonly classify: ExclusionClassifier | undefined,
    private readonly cleanHeaders: CleanHeaderCache | undefined,
    private readonly router: PlainRouter | undefined,
  ) {}

  add(location: Location, field: string, value: string): void {
    if (value.length === 0) return
    if ((location === 'header' || location === 'ua') && this.cleanHeaders !== undefined && value.length <= 512) {
      const key = `${location}\u0000${field}\u0000${value}`
      if (this.cleanHeaders.has(key)) return
      this.headerKeys.push(key)
    }
    // Values made only of characters no signature can start from are not inspected, which
    // spares most ids, numbers, enums, dates and e-mail addresses the per-rule cost. Plain names
    // are dropped too, unless they spell a prototype or class-loader path (`__proto__` is plain).
    if (location === 'keys' && isInert(value) && !mentionsPrototype(value)) return
    if (location !== 'keys' && location !== 'ua' && location !== 'command' && isInert(value)) {
      // A bare word is still an attack in a command parameter (cmd=id).
      if ((location === 'query' || location === 'body' || location === 'cookie') && commandNames.has(leafName(field))) this.add('command', field, value)
      return
    }
    if (this.fields >= maxFields || this.inspectedChars >= maxTotalChars) {
      this.truncated = true
      return
    }
    let text = value.length > maxValueChars ? value.slice(0, maxValueChars) : value
    if (this.inspectedChars + text.length > maxTotalChars) {
      text = text.slice(0, maxTotalChars - this.inspectedChars)
      this.truncated = true
    }
    this.inspectedChars += text.length
    this.fields++
    const cls = this.classify === undefined ? '' : this.classify(field)
    let payload = this.payloads.get(cls)
    if (payload === undefined) {
      payload = {}
      this.payloads.set(cls, payload)
    }
    const address = isQuietLocation(location) && this.router?.route(text) === 'quiet' ? quietAddressOf[location] : addressOf[location]
    let groups = payload[address]
    if (groups === undefined) {
      groups = [{}]
      payload[address] = groups
    }
    // Group sizes are counted here, not with Object.keys: that allocated a key array per field.
    const sizeKey = `${cls}\u0000${address}`
    let size = this.groupSizes.get(sizeKey) ?? 0
    let group = groups[groups.length - 1]
    if (group[field] === undefined) {
      if (size >= groupSize) {
        group = {}
        groups.push(group)
        size = 0
      }
      this.groupSizes.set(sizeKey, size + 1)
    }
    const stored = chunk(text)
    if (location === 'query' || location === 'body' || location === 'cookie' || (location === 'header' && field.startsWith('header.referer.'))) {
      const leaf = leafName(field)
      if (fileishNames.has(leaf)) this.add('file', field, text)
      else if (commandNames.has(leaf)) this.add('command', field, text)
    }
    const previous = group[field]
    if (previous === undefined) group[field] = stored
    else group[field] = [...(typeof previous === 'string' ? [previous] : previous), ...(typeof stored === 'string' ? [stored] : stored)]
  }

  flag(check: NativeCheck, field: string, value: string): void {
    if (this.findings.length < 50) this.findings.push({ check, field, excerpt: value })
  }
}

/** Prototype-pollution and class-loader key names (`__proto__`, `constructor`, `class.module`). */
function mentionsPrototype(value: string): boolean {
  const lower = value.toLowerCase()
  return lower.includes('proto') || lower.includes('constructor') || lower.includes('class')
}

/**
 * True for values of letters, digits, spaces and `_ . , : @ + -` only (no `..` or `--`): no quote,
 * slash, bracket, percent sign, operator or control character, so no SQL, markup, path, URL,
 * shell or template syntax — unless the words themselves are such syntax (see triggerWords).
 * Skipping them spares ids, enums, dates, e-mail addresses and plain prose the per-rule cost.
 */
export function isInert(value: string): boolean {
  let spaced = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    if (alnum || c === 95 || c === 44 || c === 58 || c === 64 || c === 43) continue
    // `..` (traversal) and `--` (SQL comment) are syntax even without other punctuation.
    if (c === 46 || c === 45) {
      if (value.charCodeAt(i + 1) === c) return false
      continue
    }
    if (c === 32) {
      spaced = true
      continue
    }
    // An apostrophe inside a word (O'Brien, it's, l'été) is prose; SQL needs one that opens or
    // closes a string, next to a space, an operator or a keyword (checked below).
    if (c === 39 && isLetter(value.charCodeAt(i - 1)) && isLetter(value.charCodeAt(i + 1))) {
      spaced = true
      continue
    }
    return false
  }
  // Several plain words can still be SQL or a command ("1 or 1", "union select password from
  // users"): prose of plain words is inert only when none of them is a keyword of such syntax.
  return !spaced || !hasTriggerWord(value)
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

/**
 * Words that can carry an attack made of plain words and spaces. Prose contains some of them
 * ("and", "or", "select") often; such values are simply inspected.
 */
const triggerWords = new Set([
  // SQL
  'select', 'union', 'insert', 'update', 'delete', 'drop', 'truncate', 'alter', 'create', 'exec', 'execute', 'declare',
  'sleep', 'benchmark', 'waitfor', 'delay', 'pg_sleep', 'load_file', 'outfile', 'dumpfile', 'information_schema',
  'sysobjects', 'xp_cmdshell', 'having', 'group', 'order', 'by', 'or', 'and', 'xor', 'not', 'like', 'rlike', 'regexp',
  'null', 'case', 'when', 'then', 'else', 'end', 'char', 'chr', 'concat', 'substr', 'substring', 'ascii', 'version',
  'database', 'user', 'cast', 'convert', 'extractvalue', 'updatexml', 'procedure', 'into', 'from', 'where', 'limit',
  'offset', 'table', 'schema', 'values', 'set', 'all', 'distinct', 'is', 'in', 'between', 'div', 'mod', 'true', 'false',
  // shell and code
  'cat', 'id', 'whoami', 'uname', 'ls', 'dir', 'wget', 'curl', 'nc', 'ncat', 'netcat', 'bash', 'sh', 'zsh', 'python',
  'perl', 'php', 'ruby', 'node', 'powershell', 'cmd', 'ping', 'nslookup', 'echo', 'rm', 'chmod', 'kill', 'passwd',
  'shadow', 'etc', 'proc', 'environ', 'system32', 'eval', 'system', 'passthru', 'shell_exec', 'popen', 'assert',
  'require', 'include', 'import', 'runtime', 'getruntime', 'processbuilder', 'jndi', 'ldap', 'rmi', 'constructor',
  'prototype', '__proto__', 'classloader',
  // markup and URLs
  'script', 'javascript', 'vbscript', 'onerror', 'onload', 'alert', 'prompt', 'confirm', 'iframe', 'svg', 'img',
  'src', 'href', 'data', 'base64', 'expression', 'http', 'https', 'ftp', 'file', 'phar', 'gopher', 'dict', 'expect',
])

/**
 * True for a path of letters, digits and `/ _ . -` only, with no `..`, `//`, `--` or dot-file
 * segment (`/.env`) and no word that path signatures look for (`/etc/passwd`, `/bin/sh`,
 * `/index.php/invokefunction`, `__proto__`).
 */
export function isPlainPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    if (alnum || c === 95) continue
    const next = path.charCodeAt(i + 1)
    if (c === 47) {
      if (next === 47 || next === 46) return false
      continue
    }
    if (c === 46 || c === 45) {
      if (next === c) return false
      continue
    }
    return false
  }
  return !hasTriggerWord(path, pathTriggerWords)
}

const pathTriggerWords = new Set(['bin', 'sbin', 'usr', 'invokefunction', 'think', 'cgi', 'inf'])

function hasTriggerWord(value: string, extra?: ReadonlySet<string>): boolean {
  let start = -1
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 32
    const wordChar = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
    if (wordChar) {
      if (start === -1) start = i
      continue
    }
    if (start !== -1 && i - start <= 20) {
      const word = value.slice(start, i).toLowerCase()
      if (triggerWords.has(word) || extra?.has(word) === true) return true
    }
    start = -1
  }
  return false
}

function chunk(text: string): string | string[] {
  if (text.length <= chunkChars) return text
  const parts: string[] = []
  for (let start = 0; start < text.length; start += chunkChars - chunkOverlap) {
    parts.push(text.slice(start, start + chunkChars))
    if (start + chunkChars >= text.length) break
  }
  return parts
}

/**
 * Decodes %XX escapes (and `+` as space when asked) once. Invalid escapes stay as written. When the
 * decoded bytes are not UTF-8 the value is kept undecoded (so `%c0%af` stays visible to the
 * signatures) and `invalid` is set; `overlong` marks the classic overlong encodings of `/`, `.` etc.
 */
export function decodePercent(value: string, plusIsSpace: boolean): Decoded {
  const hasPercent = value.includes('%')
  if (!hasPercent) return { text: plusIsSpace && value.includes('+') ? value.replaceAll('+', ' ') : value, invalid: false, overlong: false }
  const bytes: number[] = []
  let badEscape = false
  let iisUnicode = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 37 /* % */ && i + 2 < value.length && isHex(value.charCodeAt(i + 1)) && isHex(value.charCodeAt(i + 2))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16))
      i += 2
    } else if (c === 37) {
      const next = value.charCodeAt(i + 1)
      if ((next === 117 || next === 85) && i + 5 < value.length + 0 && [2, 3, 4, 5].every((k) => isHex(value.charCodeAt(i + k)))) iisUnicode = true
      else badEscape = true
      bytes.push(c)
    } else if (c === 43 /* + */ && plusIsSpace) {
      bytes.push(32)
    } else if (c < 128) {
      bytes.push(c)
    } else {
      const code = value.codePointAt(i) ?? c
      if (code > 0xffff) i++
      for (const b of Buffer.from(String.fromCodePoint(code), 'utf8')) bytes.push(b)
    }
  }
  const buffer = Buffer.from(bytes)
  const flags = { ...(badEscape ? { badEscape } : {}), ...(iisUnicode ? { iisUnicode } : {}) }
  if (isUtf8(buffer)) return { text: buffer.toString('utf8'), invalid: false, overlong: false, ...flags }
  return { text: plusIsSpace ? value.replaceAll('+', ' ') : value, invalid: true, overlong: hasOverlong(buffer), ...flags }
}

/** A percent-decoded value and what was odd about its encoding. */
export interface Decoded {
  text: string
  /** The bytes were not UTF-8, so `text` is the value as written. */
  invalid: boolean
  overlong: boolean
  /** A `%` not followed by two hex digits. */
  badEscape?: boolean
  /** An IIS-style `%uXXXX` escape, which no browser sends. */
  iisUnicode?: boolean
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}

/** Overlong UTF-8 (C0/C1 leads, E0 80-9F, F0 80-8F): never produced by a real encoder, a classic filter bypass. */
export function hasOverlong(bytes: Uint8Array): boolean {
  for (let i = 0; i + 1 < bytes.length; i++) {
    const b = bytes[i]
    const n = bytes[i + 1]
    if ((b === 0xc0 || b === 0xc1) && n >= 0x80 && n <= 0xbf) return true
    if (b === 0xe0 && n >= 0x80 && n <= 0x9f) return true
    if (b === 0xf0 && n >= 0x80 && n <= 0x8f) return true
  }
  return false
}

/** The last name in a field path: `query.a[b][file]`, `json.order.file`, `xml.order@file` → `file`. */
function leafName(field: string): string {
  let end = field.length
  if (field.endsWith(']')) {
    const open = field.lastIndexOf('[')
    if (open !== -1) {
      const inner = field.slice(open + 1, end - 1)
      if (!/^\d+$/.test(inner)) return inner.toLowerCase()
      end = open
    }
  }
  let start = 0
  for (let i = end - 1; i >= 0; i--) {
    const ch = field[i]
    if (ch === '.' || ch === '@' || ch === '[') {
      start = i + 1
      break
    }
  }
  return field.slice(start, end).toLowerCase()
}

function checkBytesOf(c: Collector, field: string, decoded: Decoded): void {
  if (decoded.overlong) c.flag('overlong-utf8', field, decoded.text)
  else if (decoded.invalid) c.flag('invalid-utf8', field, decoded.text)
  if (decoded.iisUnicode) c.flag('iis-unicode', field, decoded.text)
  else if (decoded.badEscape) c.flag('bad-escape', field, decoded.text)
  if (decoded.text.includes('\0')) c.flag('nul-byte', field, decoded.text)
  else if (hasControlChar(decoded.text)) c.flag('control-char', field, decoded.text)
}

/** C0 controls other than tab, LF and CR (and DEL): no form or link produces them; `%0b` is a classic whitespace stand-in. */
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) return true
  }
  return false
}

/** Splits `a=1&b=2` (query or form body), decoding names and values once. */
function addUrlEncoded(c: Collector, text: string, location: 'query' | 'body' | 'header', prefix: string): void {
  let start = 0
  let pairs = 0
  while (start <= text.length && pairs < maxFields) {
    let end = text.indexOf('&', start)
    if (end === -1) end = text.length
    if (end > start) {
      pairs++
      const pair = text.slice(start, end)
      const eq = pair.indexOf('=')
      const rawName = eq === -1 ? pair : pair.slice(0, eq)
      const rawValue = eq === -1 ? '' : pair.slice(eq + 1)
      const name = decodePercent(rawName, true)
      const value = decodePercent(rawValue, true)
      const field = `${prefix}.${name.text}`
      checkBytesOf(c, field, name)
      checkBytesOf(c, field, value)
      c.add('keys', field, name.text)
      c.add(location, field, value.text)
    }
    start = end + 1
  }
}

function addJson(c: Collector, value: unknown, field: string, depth: number): void {
  if (c.fields >= maxFields || c.inspectedChars >= maxTotalChars) {
    c.truncated = true
    return
  }
  if (typeof value === 'string') {
    c.add('body', field, value)
    if (value.includes('\0')) c.flag('nul-byte', field, value)
    return
  }
  if (value === null || typeof value !== 'object') return
  if (depth >= maxDepth) {
    c.truncated = true
    return
  }
  if (Array.isArray(value)) {
    const n = Math.min(value.length, maxFields)
    for (let i = 0; i < n; i++) addJson(c, value[i], `${field}[${i}]`, depth + 1)
    return
  }
  for (const key of Object.keys(value)) {
    const child = `${field}.${key}`
    c.add('keys', child, key)
    addJson(c, (value as Record<string, unknown>)[key], child, depth + 1)
    if (c.fields >= maxFields) return
  }
}

/** JSON.parse reviver-free check: the one place a key like __proto__ survives is as an own property. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return ''
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json') || type === 'text/json'
}

function isXmlType(type: string): boolean {
  return type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml')
}

// Bodies of these types are binary: inspecting them as text only finds noise.
function isBinaryType(type: string): boolean {
  return type.startsWith('image/') || type.startsWith('audio/') || type.startsWith('video/') || type === 'application/octet-stream' ||
    type === 'application/pdf' || type === 'application/zip' || type === 'application/gzip' || type === 'application/protobuf' ||
    type === 'application/grpc' || type.startsWith('font/')
}

// RE2: request data never meets a backtracking JS RegExp.
const requestLine = new RE2('(?:^|\\n)(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|TRACE|CONNECT) \\S{1,256} HTTP/\\d\\.\\d\\r?\\n')

function addBody(c: Collector, ctx: RequestContext): void {
  const body = ctx.body
  if (body.kind !== 'buffered' || body.bytes.length === 0) return
  const type = mediaTypeOf(ctx.headers['content-type'])
  if (isBinaryType(type)) return
  const bytes = body.bytes.length > maxTotalChars ? body.bytes.subarray(0, maxTotalChars) : body.bytes
  const text = bytes.toString('utf8')
  // A second request inside the body is what a CL/TE desync leaves behind. The pattern is anchored
  // on literal method names and bounded, so it stays linear.
  // The pattern needs " HTTP/", and most bodies have none: a plain search spares RE2's copy of the text.
  const head = text.length > 8192 ? text.slice(0, 8192) : text
  if (head.includes(' HTTP/') && requestLine.test(head)) c.flag('smuggled-request', 'body', text.slice(0, 60))

  if (isJsonType(type)) {
    // JSON is parsed whole (a cut document does not parse); its size is bounded by the body limit.
    const parsed = ctx.json !== undefined ? { ok: true as const, value: ctx.json } : parseJson(bytes === body.bytes ? text : body.bytes.toString('utf8'))
    if (parsed.ok) {
      if (typeof parsed.value === 'object' && parsed.value !== null) addJson(c, parsed.value, 'json', 0)
      else addJson(c, parsed.value, 'json', 0)
      return
    }
    c.flag('type-mismatch', 'body', text)
  } else if (type === 'application/x-www-form-urlencoded') {
    if (text.includes('\0')) c.flag('nul-byte', 'body', text)
    addUrlEncoded(c, text, 'body', 'form')
    return
  } else if (type === 'multipart/form-data') {
    const parts = parseMultipart(bytes, ctx.headers['content-type'] ?? '')
    if (parts !== undefined) {
      for (const part of parts) {
        const field = `multipart.${part.name}`
        c.add('keys', field, part.name)
        if (part.filename !== undefined) {
          c.add('body', `${field}.filename`, part.filename)
          if (part.filename.includes('\0')) c.flag('nul-byte', `${field}.filename`, part.filename)
        }
        if (part.text !== undefined) c.add('body', field, part.text)
      }
      return
    }
    c.flag('type-mismatch', 'body', text)
  } else if (isXmlType(type)) {
    const scanned = scanXml(text)
    if (scanned !== undefined) {
      if (scanned.doctype !== undefined) c.add('body', 'xml!doctype', scanned.doctype)
      for (const [field, value] of scanned.fields) c.add('body', field, value)
      return
    }
    c.flag('type-mismatch', 'body', text)
  }
  // Anything else (text/plain, a missing type, or a body that did not parse as its type) is
  // inspected as one text value.
  if (text.includes('\0') && !isUtf8(bytes)) return
  c.add('body', 'body', text)
}

function addHeaders(c: Collector, ctx: RequestContext): void {
  const headers = ctx.headers
  let count = 0
  for (const name of Object.keys(headers)) {
    count++
    if (skippedHeaders.has(name)) continue
    const raw = headers[name]
    if (raw === undefined) continue
    const value = typeof raw === 'string' ? raw : raw.join(', ')
    const field = `header.${name}`
    if (value.includes('\0')) c.flag('nul-byte', field, value)
    const q = name === 'referer' ? value.indexOf('?') : -1
    if (q !== -1) {
      // A Referer is a URL: its query arguments are inspected decoded, like our own query's, and
      // the encoded form is not (browsers encode `../` in a link as `..%2F`).
      c.add('header', field, value.slice(0, q))
      addUrlEncoded(c, value.slice(q + 1), 'header', field)
      continue
    }
    c.add('header', field, value)
    if (name === 'user-agent') c.add('ua', field, value)
  }
  // Content-Type is framing, so it is not inspected like other headers ("boundary=----" would
  // look like an SQL comment), but OGNL in it is a classic (Struts): the header-only checks see it.
  const contentType = headers['content-type']
  if (contentType !== undefined && /[%$#{}]/.test(contentType)) c.add('ua', 'header.content-type', contentType)
  if (count > headerCountLimit) c.flag('header-count', 'header', `${count} headers`)
  const te = headers['transfer-encoding']
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') c.flag('transfer-encoding', 'header.transfer-encoding', String(te))
  const cookie = headers.cookie
  if (cookie !== undefined) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=')
      const name = (eq === -1 ? part : part.slice(0, eq)).trim()
      if (name === '') continue
      const value = decodePercent(eq === -1 ? '' : part.slice(eq + 1).trim(), false)
      const field = `cookie.${name}`
      checkBytesOf(c, field, value)
      c.add('keys', field, name)
      c.add('cookie', field, isQuotedCookie(value.text) ? value.text.slice(1, -1) : value.text)
    }
  }
}

/** RFC 6265 allows a cookie value in double quotes; only a plain quoted value is unwrapped. */
function isQuotedCookie(text: string): boolean {
  return text.length > 1 && text.startsWith('"') && text.endsWith('"') && !text.slice(1, -1).includes('"')
}

/** Splits the raw request target into path and query, without normalising anything. */
function splitTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?')
  const hash = url.indexOf('#')
  const pathEnd = q === -1 ? (hash === -1 ? url.length : hash) : q
  const query = q === -1 ? '' : url.slice(q + 1, hash > q ? hash : url.length)
  return { path: url.slice(0, pathEnd), query }
}

/**
 * Turns the request into WAF inputs: path, decoded query arguments, headers (User-Agent,
 * Referer, ...), cookies, and the body flattened to `field path → value` (JSON, urlencoded,
 * multipart, XML, else text). Reads the raw request target, not the gateway's normalised path,
 * because the normalisation would hide the traversal we look for. Linear in the input and bounded
 * by maxValueChars, maxTotalChars and maxFields. With `router`, plain values that open no gate go to
 * the quiet addresses (engine.ts reads them with the signatures that have no gate).
 */
export function collectInputs(ctx: RequestContext, inspectBody: boolean, classify?: ExclusionClassifier, cleanHeaders?: CleanHeaderCache, router?: PlainRouter): WafInputs {
  // Header values under an exclusion run in their own context, so they are never cached as clean.
  const c = new Collector(classify, classify === undefined ? cleanHeaders : undefined, router)
  const { path, query } = splitTarget(ctx.url)
  const decodedPath = decodePercent(path, false)
  checkBytesOf(c, 'path', decodedPath)
  // Most paths are plain (`/api/v1/orders/42`): no path signature can match one, so only its
  // segments are looked at (each one still goes through the inert check).
  if (!isPlainPath(path)) {
    c.add('path', 'path', decodedPath.text)
    c.add('rawpath', 'path', path)
  }
  const segments = decodedPath.text.split('/')
  for (const segment of segments) if (segment.length > 0) c.add('segment', 'path', segment)
  if (query.length > 0) addUrlEncoded(c, query, 'query', 'query')
  addHeaders(c, ctx)
  if (inspectBody) addBody(c, ctx)
  return { payloads: c.payloads, findings: c.findings, inspectedChars: c.inspectedChars, truncated: c.truncated, headerKeys: c.headerKeys }
}
