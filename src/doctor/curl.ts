import { UsageError } from '../cli/args.js'

/** Header lines in the order given; names keep their case, duplicates are allowed. */
export type HeaderList = [name: string, value: string][]

/** One HTTP request as the doctor sends and renders it. */
export interface RequestSpec {
  method: string
  url: string
  headers: HeaderList
  body?: string
  /** `-k`: accept any TLS certificate. */
  insecure: boolean
  /** `--compressed`: ask for and accept compressed responses. */
  compressed: boolean
}

/** What `parseCurlArgs` understood, plus things it chose to ignore (for stderr). */
export interface ParsedCurl {
  request: RequestSpec
  /** From `-m/--max-time`, in milliseconds. */
  maxTimeMs?: number
  warnings: string[]
}

/** Reads a `@file` argument; relative to the caller's cwd. Throws when unreadable. */
export type ReadFile = (path: string) => string

/** Largest body or `--from-curl` line the doctor accepts, in bytes; bigger is not a probe. */
export const maxInputBytes = 5 * 1024 * 1024

const valueOptions: Record<string, string> = {
  '-X': 'request', '--request': 'request',
  '-H': 'header', '--header': 'header',
  '-d': 'data', '--data': 'data', '--data-ascii': 'data',
  '--data-binary': 'data-binary', '--data-raw': 'data-raw', '--data-urlencode': 'data-urlencode',
  '--json': 'json',
  '-b': 'cookie', '--cookie': 'cookie',
  '-u': 'user', '--user': 'user',
  '-A': 'user-agent', '--user-agent': 'user-agent',
  '-e': 'referer', '--referer': 'referer',
  '--url': 'url',
  '-m': 'max-time', '--max-time': 'max-time',
  '--oauth2-bearer': 'oauth2-bearer',
  '-F': 'form', '--form': 'form', '--form-string': 'form',
  '-T': 'upload', '--upload-file': 'upload',
  '-K': 'config', '--config': 'config',
  '-x': 'proxy', '--proxy': 'proxy',
  '--unix-socket': 'unix-socket', '--abstract-unix-socket': 'unix-socket',
  '--aws-sigv4': 'aws-sigv4',
}

// Options that take a value which does not change the request the server sees.
const ignoredValueOptions = new Set([
  '-o', '--output', '-w', '--write-out', '--retry', '--retry-delay', '--retry-max-time',
  '--connect-timeout', '-c', '--cookie-jar', '-D', '--dump-header', '--limit-rate', '--max-redirs',
  '--cacert', '--capath', '-E', '--cert', '--key', '--cert-type', '--key-type', '--pass', '-U', '--proxy-user',
  '--resolve', '--connect-to', '--interface', '--trace', '--trace-ascii', '--stderr', '--max-filesize',
  '-y', '--speed-time', '-Y', '--speed-limit', '-z', '--time-cond', '--expect100-timeout', '--keepalive-time',
  '--proto', '--proto-redir', '--noproxy', '--tls-max', '--ciphers', '--tls13-ciphers', '--dns-servers',
  '--happy-eyeballs-timeout-ms', '--local-port', '--pinnedpubkey', '--crlfile', '--curves', '--output-dir',
  '--parallel-max', '--rate', '--trace-config', '--variable', '--proxy-header', '--preproxy', '--socks5',
  '--socks5-hostname', '--socks4', '--socks4a', '--netrc-file', '--ech', '--ip-tos', '--vlan-priority',
])

const flagOptions: Record<string, string> = {
  '-k': 'insecure', '--insecure': 'insecure',
  '--compressed': 'compressed',
  '-I': 'head', '--head': 'head',
  '-G': 'get', '--get': 'get',
  '-L': 'location', '--location': 'location', '--location-trusted': 'location',
  '--digest': 'auth-scheme', '--ntlm': 'auth-scheme', '--negotiate': 'auth-scheme', '--anyauth': 'auth-scheme',
  '-n': 'netrc', '--netrc': 'netrc', '--netrc-optional': 'netrc',
}

// Flags that only change curl's own output or transport details, not the request.
const ignoredFlags = new Set([
  '-s', '--silent', '-S', '--show-error', '-v', '--verbose', '-i', '--include', '-f', '--fail',
  '--fail-with-body', '--fail-early', '-N', '--no-buffer', '--http1.1', '--http1.0', '--http2',
  '--http2-prior-knowledge', '--http3', '--http3-only', '--http0.9', '-0', '-1', '-2', '-3', '-4', '-6', '-#',
  '--progress-bar', '-g', '--globoff', '--raw', '--tr-encoding', '--no-keepalive', '--ssl', '--ssl-reqd',
  '--tlsv1', '--tlsv1.0', '--tlsv1.1', '--tlsv1.2', '--tlsv1.3', '-q', '--disable', '--path-as-is',
  '--no-progress-meter', '--basic', '-Z', '--parallel', '-j', '--junk-session-cookies', '-O', '--remote-name',
  '-R', '--remote-time', '-J', '--remote-header-name', '--create-dirs', '--styled-output', '--no-sessionid',
  '--no-alpn', '--no-npn', '--tcp-nodelay', '--tcp-fastopen', '--false-start', '--cert-status',
  '--ssl-no-revoke', '--ssl-revoke-best-effort', '--ssl-allow-beast', '--xattr', '--suppress-connect-headers',
  '--ignore-content-length', '--post301', '--post302', '--post303', '--proxy-insecure', '--doh-insecure',
  '--no-clobber', '--remove-on-error', '--show-headers', '--skip-existing', '--sasl-ir', '--compressed-ssh',
  '--crlf', '--styled-output', '--no-styled-output', '-l', '--list-only', '-B', '--use-ascii', '-M', '--manual',
])

/** True when this curl option consumes the next argument (`-H`, `--data`...), so callers can split argv safely. */
export function isCurlValueOption(token: string): boolean {
  return Boolean(valueOptions[token]) || ignoredValueOptions.has(token)
}

/** Case-insensitive header lookup; the last value wins like most servers read it. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase()
  let found: string | undefined
  for (const [key, value] of headers) if (key.toLowerCase() === lower) found = value
  return found
}

/** True when the header is present (any case). */
export function hasHeader(headers: HeaderList, name: string): boolean {
  return getHeader(headers, name) !== undefined
}

/** A copy without the named headers (any case). */
export function withoutHeaders(headers: HeaderList, names: Iterable<string>): HeaderList {
  const drop = new Set([...names].map((n) => n.toLowerCase()))
  return headers.filter(([key]) => !drop.has(key.toLowerCase()))
}

/** A copy with the header replaced (or added at the end). */
export function withHeader(headers: HeaderList, name: string, value: string): HeaderList {
  return [...withoutHeaders(headers, [name]), [name, value]]
}

function readDataArgument(value: string, raw: boolean, stripNewlines: boolean, readFile: ReadFile): string {
  if (raw || !value.startsWith('@')) return value
  const path = value.slice(1)
  if (path === '-') throw new UsageError('reading the body from stdin (@-) is not supported; save it to a file and use @file')
  let text: string
  try {
    text = readFile(path)
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (Buffer.byteLength(text) > maxInputBytes) throw new UsageError(`${path} is larger than ${maxInputBytes} bytes`)
  // curl's -d @file drops carriage returns and newlines; --data-binary keeps them.
  return stripNewlines ? text.replace(/[\r\n]/g, '') : text
}

function encodeDataUrlencode(value: string, readFile: ReadFile): string {
  // Forms documented by curl: content, =content, name=content, @file, name@file.
  const eq = value.indexOf('=')
  const at = value.indexOf('@')
  if (eq === 0) return encodeURIComponent(value.slice(1))
  if (eq > 0 && (at === -1 || eq < at)) return `${value.slice(0, eq)}=${encodeURIComponent(value.slice(eq + 1))}`
  if (at >= 0) {
    const content = readDataArgument(value.slice(at), false, false, readFile)
    const name = value.slice(0, at)
    return name ? `${name}=${encodeURIComponent(content)}` : encodeURIComponent(content)
  }
  return encodeURIComponent(value)
}

function normaliseUrl(raw: string): string {
  // curl guesses http:// for a URL without a scheme.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new UsageError(`not a URL: ${raw}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`only http and https URLs can be probed, not ${url.protocol}`)
  return url.href
}

/**
 * Parses curl arguments (without the leading `curl`) into a request. Understands the options
 * browsers put in "Copy as cURL" and the common hand-written ones; options that only change
 * curl's own output are accepted and ignored, anything that would change the request in a
 * way the doctor cannot reproduce is a UsageError.
 */
export function parseCurlArgs(args: string[], readFile: ReadFile): ParsedCurl {
  const warnings: string[] = []
  let method: string | undefined
  const headers: HeaderList = []
  const data: string[] = []
  const cookies: string[] = []
  let url: string | undefined
  let insecure = false
  let compressed = false
  let head = false
  let get = false
  let jsonBody = false
  let maxTimeMs: number | undefined
  let user: string | undefined
  let bearer: string | undefined
  let optionsEnded = false

  const tokens = [...args]
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (optionsEnded || !token.startsWith('-') || token === '-') {
      if (url !== undefined) throw new UsageError(`one URL at a time (got ${url} and ${token})`)
      url = token
      continue
    }
    if (token === '--') { optionsEnded = true; continue }

    let name = token
    let inlineValue: string | undefined
    if (token.startsWith('--')) {
      const eq = token.indexOf('=')
      // curl itself has no --opt=value form, but users write it; accept it for value options.
      if (eq > 0 && (valueOptions[token.slice(0, eq)] || ignoredValueOptions.has(token.slice(0, eq)))) {
        name = token.slice(0, eq)
        inlineValue = token.slice(eq + 1)
      }
    } else if (token.length > 2) {
      // Short options: -XPOST carries its value; -sSLk bundles flags.
      const first = token.slice(0, 2)
      if (valueOptions[first] || ignoredValueOptions.has(first)) {
        name = first
        inlineValue = token.slice(2)
      } else {
        const expanded = [...token.slice(1)].map((c) => `-${c}`)
        const last = expanded[expanded.length - 1]
        for (const flag of expanded.slice(0, -1)) {
          if (valueOptions[flag] || ignoredValueOptions.has(flag)) throw new UsageError(`option ${flag} in ${token} needs a value`)
        }
        tokens.splice(i, 1, ...expanded)
        i--
        if (!flagOptions[last] && !ignoredFlags.has(last) && !valueOptions[last] && !ignoredValueOptions.has(last)) {
          throw new UsageError(`unknown curl option ${last} (in ${token})`)
        }
        continue
      }
    }

    const kind = valueOptions[name]
    if (kind || ignoredValueOptions.has(name)) {
      let value = inlineValue
      if (value === undefined) {
        if (i + 1 >= tokens.length) throw new UsageError(`option ${name} needs a value`)
        value = tokens[++i]
      }
      if (!kind) continue
      switch (kind) {
        case 'request': method = value.toUpperCase(); break
        case 'header': {
          if (value.startsWith('@')) throw new UsageError('headers from a file (-H @file) are not supported; pass each with -H')
          const colon = value.indexOf(':')
          const semi = value.indexOf(';')
          if (colon > 0) {
            const headerName = value.slice(0, colon).trim()
            const headerValue = value.slice(colon + 1).trim()
            // "Name:" with nothing after it removes the header in curl.
            if (headerValue === '') {
              const kept = withoutHeaders(headers, [headerName])
              headers.length = 0
              headers.push(...kept)
            } else headers.push([headerName, headerValue])
          } else if (semi > 0 && semi === value.length - 1) {
            headers.push([value.slice(0, semi).trim(), ''])
          } else throw new UsageError(`not a header: ${value} (expected "Name: value")`)
          break
        }
        case 'data': data.push(readDataArgument(value, false, true, readFile)); break
        case 'data-binary': data.push(readDataArgument(value, false, false, readFile)); break
        case 'data-raw': data.push(value); break
        case 'data-urlencode': data.push(encodeDataUrlencode(value, readFile)); break
        case 'json': data.push(readDataArgument(value, false, false, readFile)); jsonBody = true; break
        case 'cookie':
          if (value.includes('=')) {
            // Trailing semicolons would leave an empty pair when cookies are joined; a loop, not /;+$/, stays linear.
            let end = value.trimEnd().length
            while (end > 0 && value[end - 1] === ';') end--
            cookies.push(value.slice(0, end).trim())
          }
          else warnings.push(`ignored cookie file ${value}: pass cookies as -b 'name=value'`)
          break
        case 'user': user = value; break
        case 'user-agent': headers.push(['User-Agent', value]); break
        case 'referer': headers.push(['Referer', value.replace(/;auto$/, '')]); break
        case 'url':
          if (url !== undefined) throw new UsageError(`one URL at a time (got ${url} and ${value})`)
          url = value
          break
        case 'max-time': {
          const seconds = Number(value)
          if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--max-time needs a number of seconds, got ${value}`)
          maxTimeMs = Math.round(seconds * 1000)
          break
        }
        case 'oauth2-bearer': bearer = value; break
        case 'form': throw new UsageError('multipart bodies (-F/--form) are not supported yet; probe with --data-binary @file and a Content-Type header')
        case 'upload': throw new UsageError('uploads (-T) are not supported; use --data-binary @file')
        case 'config': throw new UsageError('curl config files (-K) are not supported; pass the options directly')
        case 'unix-socket': throw new UsageError('unix sockets are not supported; probe the HTTP URL')
        case 'proxy': warnings.push(`ignored proxy ${value}: the doctor connects directly`); break
        case 'aws-sigv4': throw new UsageError('--aws-sigv4 signing is not supported; the doctor cannot sign requests')
      }
      continue
    }
    const flag = flagOptions[name]
    if (flag) {
      switch (flag) {
        case 'insecure': insecure = true; break
        case 'compressed': compressed = true; break
        case 'head': head = true; break
        case 'get': get = true; break
        case 'location': warnings.push('-L ignored: the doctor never follows redirects, it reports them'); break
        case 'auth-scheme': warnings.push(`${name} ignored: the doctor only sends Basic credentials for -u`); break
        case 'netrc': warnings.push(`${name} ignored: pass credentials with -u or -H`); break
      }
      continue
    }
    if (ignoredFlags.has(name)) continue
    throw new UsageError(`unknown curl option ${name}`)
  }

  if (url === undefined) throw new UsageError('no URL given')
  let href = normaliseUrl(url)
  const parsed = new URL(href)
  if (parsed.username || parsed.password) {
    // Credentials in the URL become Basic auth, as curl does; keep them out of the URL we print.
    if (user === undefined) user = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
    parsed.username = ''
    parsed.password = ''
    href = parsed.href
  }

  let body: string | undefined = data.length ? data.join('&') : undefined
  if (get && body !== undefined) {
    href += (href.includes('?') ? '&' : '?') + body
    body = undefined
  }
  if (user !== undefined) {
    const pair = user.includes(':') ? user : `${user}:`
    if (!user.includes(':')) warnings.push('-u without a password: sending an empty password (curl would prompt)')
    if (!hasHeader(headers, 'authorization')) headers.push(['Authorization', `Basic ${Buffer.from(pair).toString('base64')}`])
  }
  if (bearer !== undefined && !hasHeader(headers, 'authorization')) headers.push(['Authorization', `Bearer ${bearer}`])
  if (cookies.length) {
    const existing = getHeader(headers, 'cookie')
    const merged = [existing, ...cookies].filter((c): c is string => Boolean(c)).join('; ')
    const kept = withHeader(headers, 'Cookie', merged)
    headers.length = 0
    headers.push(...kept)
  }
  if (body !== undefined && !hasHeader(headers, 'content-type')) {
    headers.push(['Content-Type', jsonBody ? 'application/json' : 'application/x-www-form-urlencoded'])
  }
  if (jsonBody && !hasHeader(headers, 'accept')) headers.push(['Accept', 'application/json'])

  for (const [name, value] of headers) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`not a valid header name: ${JSON.stringify(name)}`)
    // Node's HTTP client refuses these; curl would send the raw bytes, so say so instead of failing later.
    if (/[\r\n\0]|[^\x00-\xff]/.test(value)) throw new UsageError(`header ${name} has a line break or a non-Latin-1 character; percent-encode it`)
  }
  const finalMethod = method ?? (head ? 'HEAD' : get ? 'GET' : body !== undefined ? 'POST' : 'GET')
  if (!/^[A-Z][A-Z0-9_-]{0,31}$/.test(finalMethod)) throw new UsageError(`not an HTTP method: ${finalMethod}`)
  return {
    request: { method: finalMethod, url: href, headers, body, insecure, compressed },
    maxTimeMs,
    warnings,
  }
}

const ansiEscapes: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?',
}

/**
 * Splits a shell command line the way bash would for a copied curl command: single quotes,
 * double quotes, backslash escapes, `$'...'` (what Chrome's "Copy as cURL (bash)" emits) and
 * backslash-newline continuations. No expansion is done: `$VAR` stays literal. Parsing stops
 * at an unquoted `|`, `;`, `&`, `<` or `>` (a pipe into jq, a redirect).
 */
export function splitShellWords(line: string): string[] {
  if (Buffer.byteLength(line) > maxInputBytes) throw new UsageError(`the curl command is larger than ${maxInputBytes} bytes`)
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  const n = line.length
  while (i < n) {
    const c = line[i]
    if (c === '\\') {
      const next = line[i + 1]
      if (next === '\n') { i += 2; continue }
      if (next === '\r' && line[i + 2] === '\n') { i += 3; continue }
      if (next !== undefined) { word += next; inWord = true }
      i += 2
      continue
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end === -1) throw new UsageError('unterminated single quote in the curl command')
      word += line.slice(i + 1, end)
      inWord = true
      i = end + 1
      continue
    }
    if (c === '$' && line[i + 1] === "'") {
      i += 2
      let closed = false
      while (i < n) {
        const d = line[i]
        if (d === "'") { closed = true; i++; break }
        if (d !== '\\') { word += d; i++; continue }
        const e = line[i + 1]
        if (e === undefined) break
        if (e === 'x') {
          const hex = /^[0-9a-fA-F]{1,2}/.exec(line.slice(i + 2, i + 4))
          if (hex) { word += String.fromCharCode(parseInt(hex[0], 16)); i += 2 + hex[0].length; continue }
        } else if (e === 'u' || e === 'U') {
          const hex = /^[0-9a-fA-F]{1,8}/.exec(line.slice(i + 2, i + (e === 'u' ? 6 : 10)))
          if (hex) {
            const code = parseInt(hex[0], 16)
            word += code <= 0x10ffff ? String.fromCodePoint(code) : ''
            i += 2 + hex[0].length
            continue
          }
        } else if (e >= '0' && e <= '7') {
          const oct = /^[0-7]{1,3}/.exec(line.slice(i + 1, i + 4))
          if (oct) { word += String.fromCharCode(parseInt(oct[0], 8) & 0xff); i += 1 + oct[0].length; continue }
        } else if (ansiEscapes[e] !== undefined) {
          word += ansiEscapes[e]
          i += 2
          continue
        }
        word += `\\${e}`
        i += 2
      }
      if (!closed) throw new UsageError("unterminated $'...' quote in the curl command")
      inWord = true
      continue
    }
    if (c === '"') {
      i++
      let closed = false
      while (i < n) {
        const d = line[i]
        if (d === '"') { closed = true; i++; break }
        if (d === '\\') {
          const e = line[i + 1]
          // Inside double quotes a backslash only escapes these, per POSIX.
          if (e === '\n') { i += 2; continue }
          if (e === '"' || e === '\\' || e === '$' || e === '`') { word += e; i += 2; continue }
        }
        word += d
        i++
      }
      if (!closed) throw new UsageError('unterminated double quote in the curl command')
      inWord = true
      continue
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) { words.push(word); word = ''; inWord = false }
      i++
      continue
    }
    if (c === '|' || c === ';' || c === '&' || c === '<' || c === '>') break
    if (c === '#' && !inWord) {
      const end = line.indexOf('\n', i)
      i = end === -1 ? n : end
      continue
    }
    word += c
    inWord = true
    i++
  }
  if (inWord) words.push(word)
  return words
}

/**
 * Splits a Windows cmd.exe command line, as Chrome's "Copy as cURL (cmd)" writes it: first
 * cmd's caret escapes (`^"`, `^{`; caret + two newlines is a newline in the data, caret +
 * one newline continues the line), then the C runtime's argv rules (double quotes group,
 * backslashes escape a quote only when they precede one).
 */
export function splitWindowsCmdWords(line: string): string[] {
  if (Buffer.byteLength(line) > maxInputBytes) throw new UsageError(`the curl command is larger than ${maxInputBytes} bytes`)
  let text = ''
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c !== '^') { text += c; continue }
    const newline = /^\r?\n/.exec(line.slice(i + 1, i + 3))
    if (!newline) { text += line[i + 1] ?? ''; i++; continue }
    i += newline[0].length
    const second = /^\r?\n/.exec(line.slice(i + 1, i + 3))
    if (second) { text += '\n'; i += second[0].length }
  }
  const words: string[] = []
  let word = ''
  let inWord = false
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\') {
      let n = 0
      while (text[i + n] === '\\') n++
      if (text[i + n] === '"') {
        word += '\\'.repeat(Math.floor(n / 2))
        if (n % 2 === 1) { word += '"'; i += n } else i += n - 1
      } else {
        word += '\\'.repeat(n)
        i += n - 1
      }
      inWord = true
    } else if (c === '"') {
      quoted = !quoted
      inWord = true
    } else if (!quoted && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
      if (inWord) { words.push(word); word = ''; inWord = false }
    } else {
      word += c
      inWord = true
    }
  }
  if (quoted) throw new UsageError('unterminated double quote in the curl command')
  if (inWord) words.push(word)
  return words
}

/**
 * Parses a whole curl command line (`curl -X POST ...`), e.g. pasted from a browser's
 * "Copy as cURL", for bash or for Windows cmd (recognised by its `^` escapes). The first
 * word must be curl.
 */
export function parseCurlCommand(line: string, readFile: ReadFile): ParsedCurl {
  const trimmed = line.trim()
  const isCmd = /\^"/.test(trimmed) || /[ \t]\^\r?\n/.test(trimmed)
  const words = isCmd ? splitWindowsCmdWords(trimmed) : splitShellWords(trimmed)
  const first = words[0]
  if (first === undefined) throw new UsageError('--from-curl needs a curl command')
  const program = first.split(/[\\/]/).pop()?.toLowerCase()
  if (program !== 'curl' && program !== 'curl.exe') throw new UsageError(`--from-curl expects a command starting with curl, got ${first}`)
  return parseCurlArgs(words.slice(1), readFile)
}

// Header names whose values are secrets. Matched as whole words so `keep-alive` is not a key.
const secretHeaderPattern = /(^|[-_])(authorization|auth|token|key|apikey|secret|session|sessionid|signature|password|passwd|credential|credentials|cookie|jwt|bearer|csrf|xsrf)([-_]|$)/i
const secretParamPattern = /^(password|passwd|pass|pwd|secret|client_secret|token|access_token|refresh_token|id_token|api_key|apikey|api-key|key|sig|signature|auth|authorization|session|sessionid|csrfmiddlewaretoken|csrf_token|_csrf|_token|authenticity_token|code|otp|credential|credentials|private_key|x-amz-signature|x-amz-security-token|x-amz-credential)$/i

/** True for headers whose value must not be printed (credentials, cookies, tokens, API keys). */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase()
  if (lower.startsWith('access-control-')) return false
  if (lower === 'www-authenticate' || lower === 'authentication-info' || lower === 'proxy-authenticate') return false
  return lower === 'authorization' || lower === 'proxy-authorization' || lower === 'cookie' || lower === 'set-cookie' ||
    secretHeaderPattern.test(lower) || /(token|secret|passw|apikey|api-key|api_key|csrf|xsrf|credential|signature)/.test(lower)
}

/** True for query, form or JSON field names that usually hold a secret. */
export function isSecretParam(name: string): boolean {
  return secretParamPattern.test(name) || /(password|secret|token|api[-_]?key)/i.test(name)
}

/** The header's value with secrets replaced by `<redacted>`; keeps auth schemes and cookie names. */
export function redactHeaderValue(name: string, value: string): string {
  if (!isSecretHeader(name)) return value
  const lower = name.toLowerCase()
  if (lower === 'cookie') {
    return value.split(';').map((part) => {
      const eq = part.indexOf('=')
      return eq === -1 ? '<redacted>' : `${part.slice(0, eq).trim()}=<redacted>`
    }).join('; ')
  }
  if (lower === 'set-cookie') {
    const eq = value.indexOf('=')
    const semi = value.indexOf(';')
    return eq === -1 ? '<redacted>' : `${value.slice(0, eq)}=<redacted>${semi > eq ? value.slice(semi) : ''}`
  }
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    const scheme = /^([A-Za-z][A-Za-z0-9_-]{0,30}) +\S/.exec(value)
    return scheme ? `${scheme[1]} <redacted>` : '<redacted>'
  }
  return '<redacted>'
}

/** The URL with userinfo removed and secret-looking query values replaced. */
export function redactUrl(href: string): string {
  let url: URL
  try {
    url = new URL(href)
  } catch {
    return href
  }
  url.username = ''
  url.password = ''
  if (!url.search) return url.href
  // Rebuild by hand so untouched parameters keep their original encoding.
  const parts = url.search.slice(1).split('&').map((part) => {
    const eq = part.indexOf('=')
    if (eq === -1) return part
    let key = part.slice(0, eq)
    try { key = decodeURIComponent(key.replace(/\+/g, ' ')) } catch { /* keep raw */ }
    return isSecretParam(key) ? `${part.slice(0, eq)}=<redacted>` : part
  })
  return `${url.origin}${url.pathname}?${parts.join('&')}${url.hash}`
}

function redactJson(value: unknown): { value: unknown; changed: boolean } {
  if (Array.isArray(value)) {
    let changed = false
    const out = value.map((v) => { const r = redactJson(v); changed ||= r.changed; return r.value })
    return { value: out, changed }
  }
  if (value !== null && typeof value === 'object') {
    let changed = false
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (isSecretParam(k) && (typeof v === 'string' || typeof v === 'number')) { out[k] = '<redacted>'; changed = true; continue }
      const r = redactJson(v)
      changed ||= r.changed
      out[k] = r.value
    }
    return { value: out, changed }
  }
  return { value, changed: false }
}

/** The body with secret-looking JSON or form fields replaced; other bodies are unchanged. */
export function redactBody(body: string, contentType: string | undefined): string {
  const type = (contentType ?? '').toLowerCase()
  const trimmed = body.trim()
  if (type.includes('json') || ((trimmed.startsWith('{') || trimmed.startsWith('[')) && !type.includes('form'))) {
    try {
      const result = redactJson(JSON.parse(body))
      return result.changed ? JSON.stringify(result.value) : body
    } catch {
      return body
    }
  }
  if (type.includes('x-www-form-urlencoded')) {
    return body.split('&').map((part) => {
      const eq = part.indexOf('=')
      if (eq === -1) return part
      let key = part.slice(0, eq)
      try { key = decodeURIComponent(key.replace(/\+/g, ' ')) } catch { /* keep raw */ }
      return isSecretParam(key) ? `${part.slice(0, eq)}=<redacted>` : part
    }).join('&')
  }
  return body
}

/** Quotes one word for a POSIX shell; control characters force bash's `$'...'` so the line stays one line. */
export function quoteShellWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
  if (/[\x00-\x1f\x7f]/.test(word)) {
    let out = "$'"
    for (const ch of word) {
      const code = ch.codePointAt(0) ?? 0
      if (ch === '\\') out += '\\\\'
      else if (ch === "'") out += "\\'"
      else if (ch === '\n') out += '\\n'
      else if (ch === '\r') out += '\\r'
      else if (ch === '\t') out += '\\t'
      else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`
      else out += ch
    }
    return `${out}'`
  }
  return `'${word.replace(/'/g, "'\\''")}'`
}

/**
 * Renders a request as one curl command line. With `redact` (the default) credentials,
 * cookies, tokens and secret-looking body fields are replaced by `<redacted>` so the line
 * can be pasted into a ticket.
 */
export function renderCurl(request: RequestSpec, options: { redact?: boolean } = {}): string {
  const redact = options.redact ?? true
  const parts = ['curl']
  const impliedMethod = request.body !== undefined ? 'POST' : 'GET'
  if (request.method === 'HEAD' && request.body === undefined) parts.push('-I')
  else if (request.method !== impliedMethod) parts.push('-X', quoteShellWord(request.method))
  // Always quoted: a URL's `&` and `?` are shell syntax, and devtools quote it too.
  const url = redact ? redactUrl(request.url) : request.url
  parts.push(`'${url.replace(/'/g, "'\\''")}'`)
  for (const [name, value] of request.headers) {
    const shown = redact ? redactHeaderValue(name, value) : value
    parts.push('-H', quoteShellWord(shown === '' ? `${name};` : `${name}: ${shown}`))
  }
  if (request.body !== undefined) {
    const body = redact ? redactBody(request.body, getHeader(request.headers, 'content-type')) : request.body
    parts.push('--data-raw', quoteShellWord(body))
  }
  if (request.compressed) parts.push('--compressed')
  if (request.insecure) parts.push('-k')
  return parts.join(' ')
}
