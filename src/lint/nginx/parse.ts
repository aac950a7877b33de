import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import type { Finding } from '../types.js'
import { expandGlob } from '../glob.js'

/*
 * nginx config parser, written here because no maintained npm package parses nginx config
 * with a line:col for every directive and include resolution, which `lint` needs to point
 * at the directive that denies a request. It follows ngx_conf_read_token: words, '...' and
 * "..." strings with backslash escapes, `#` comments at token start, `;`, `{`, `}`.
 */

/** One directive with where it was written. `block` is set for `name args { ... }`. */
export interface NginxDirective {
  name: string
  args: string[]
  file: string
  line: number
  col: number
  block: NginxDirective[] | null
  /** A comment on the same line or the line just above. */
  commented: boolean
}

/** A parsed config with its includes expanded in place. */
export interface NginxConfig {
  directives: NginxDirective[]
  files: string[]
  findings: Finding[]
}

/** Limits that keep a hostile or looping include tree bounded. */
export const nginxLimits = { maxIncludeDepth: 8, maxFiles: 200, maxFileBytes: 2_000_000, maxBlockDepth: 50 }

interface Token {
  kind: 'word' | 'semi' | 'open' | 'close'
  value: string
  line: number
  col: number
}

interface Tokenized {
  tokens: Token[]
  commentLines: Set<number>
  errors: { line: number; col: number; message: string }[]
}

const simpleEscapes: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', t: '\t', r: '\r', n: '\n' }

/** Splits nginx config text into tokens with 1-based line:col. */
export function tokenizeNginx(text: string): Tokenized {
  const tokens: Token[] = []
  const commentLines = new Set<number>()
  const errors: Tokenized['errors'] = []
  let i = 0
  let line = 1
  let col = 1
  const advance = () => {
    if (text[i] === '\n') {
      line += 1
      col = 1
    } else {
      col += 1
    }
    i += 1
  }
  while (i < text.length) {
    const ch = text[i]
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      advance()
      continue
    }
    if (ch === '#') {
      commentLines.add(line)
      while (i < text.length && text[i] !== '\n') advance()
      continue
    }
    const startLine = line
    const startCol = col
    if (ch === ';' || ch === '{' || ch === '}') {
      tokens.push({ kind: ch === ';' ? 'semi' : ch === '{' ? 'open' : 'close', value: ch, line, col })
      advance()
      continue
    }
    let value = ''
    if (ch === '"' || ch === "'") {
      const quote = ch
      advance()
      let closed = false
      while (i < text.length) {
        const c = text[i]
        if (c === '\\' && i + 1 < text.length) {
          const next = text[i + 1]
          value += simpleEscapes[next] ?? `\\${next}`
          advance()
          advance()
          continue
        }
        if (c === quote) {
          advance()
          closed = true
          break
        }
        value += c
        advance()
      }
      if (!closed) {
        errors.push({ line: startLine, col: startCol, message: `unterminated ${quote === '"' ? 'double' : 'single'}-quoted string` })
      }
      tokens.push({ kind: 'word', value, line: startLine, col: startCol })
      // nginx allows `)` straight after a quoted string, as in if ($a ~ "x").
      if (text[i] === ')') {
        tokens.push({ kind: 'word', value: ')', line, col })
        advance()
      }
      continue
    }
    while (i < text.length) {
      const c = text[i]
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === ';' || c === '}') break
      if (c === '{') {
        // `${name}` is a variable, not a block.
        if (value.endsWith('$')) {
          while (i < text.length && text[i] !== '}' && text[i] !== '\n') {
            value += text[i]
            advance()
          }
          if (text[i] === '}') {
            value += '}'
            advance()
          }
          continue
        }
        break
      }
      if (c === '\\' && i + 1 < text.length) {
        const next = text[i + 1]
        value += simpleEscapes[next] ?? `\\${next}`
        advance()
        advance()
        continue
      }
      value += c
      advance()
    }
    tokens.push({ kind: 'word', value, line: startLine, col: startCol })
  }
  return { tokens, commentLines, errors }
}

interface ParseState {
  files: string[]
  findings: Finding[]
  root: string
  displayPath: (abs: string) => string
}

/** Reads, tokenizes and parses `file`, expanding `include` relative to its directory. */
export function parseNginxFile(file: string, displayPath: (abs: string) => string = (p) => p): NginxConfig {
  const abs = resolve(file)
  const state: ParseState = { files: [], findings: [], root: dirname(abs), displayPath }
  const directives = parseOne(abs, state, 0)
  return { directives, files: state.files, findings: state.findings }
}

/** Parses config text (no includes are followed when `file` does not exist on disk). */
export function parseNginxText(text: string, file: string, baseDir = '.'): NginxConfig {
  const state: ParseState = { files: [file], findings: [], root: resolve(baseDir), displayPath: (p) => p }
  const directives = parseTokens(text, file, state, 0)
  return { directives, files: state.files, findings: state.findings }
}

function parseOne(abs: string, state: ParseState, depth: number): NginxDirective[] {
  if (state.files.length >= nginxLimits.maxFiles) return []
  const size = statSync(abs).size
  const shown = state.displayPath(abs)
  state.files.push(shown)
  if (size > nginxLimits.maxFileBytes) {
    state.findings.push({ file: shown, line: 1, col: 1, severity: 'error', message: `file is larger than ${nginxLimits.maxFileBytes} bytes; not read`, rule: 'nginx.file-too-large' })
    return []
  }
  // A UTF-8 byte order mark would otherwise stick to the first directive name.
  return parseTokens(readFileSync(abs, 'utf8').replace(/^\uFEFF/, ''), shown, state, depth)
}

function parseTokens(text: string, file: string, state: ParseState, includeDepth: number): NginxDirective[] {
  const { tokens, commentLines, errors } = tokenizeNginx(text)
  for (const e of errors) state.findings.push({ file, line: e.line, col: e.col, severity: 'error', message: e.message, rule: 'nginx.parse-error' })
  let pos = 0
  const unclosed: Token[] = []
  const parseBlock = (depth: number, opener: Token | null): NginxDirective[] => {
    const out: NginxDirective[] = []
    let words: Token[] = []
    while (pos < tokens.length) {
      const t = tokens[pos++]
      if (t.kind === 'word') {
        words.push(t)
        continue
      }
      if (t.kind === 'close') {
        if (words.length) {
          state.findings.push({ file, line: words[0].line, col: words[0].col, severity: 'error', message: `directive "${words[0].value}" is not terminated by ";"`, rule: 'nginx.parse-error' })
        }
        if (!opener) {
          state.findings.push({ file, line: t.line, col: t.col, severity: 'error', message: 'unexpected "}"', rule: 'nginx.parse-error' })
          words = []
          continue
        }
        return out
      }
      if (words.length === 0) {
        state.findings.push({ file, line: t.line, col: t.col, severity: 'error', message: `unexpected "${t.value}"`, rule: 'nginx.parse-error' })
        if (t.kind === 'open') {
          // Skip the anonymous block so its closing brace does not end ours.
          if (depth < nginxLimits.maxBlockDepth) parseBlock(depth + 1, t)
        }
        continue
      }
      const head = words[0]
      const directive: NginxDirective = {
        name: head.value,
        args: words.slice(1).map((w) => w.value),
        file,
        line: head.line,
        col: head.col,
        block: null,
        commented: commentLines.has(head.line) || commentLines.has(head.line - 1),
      }
      words = []
      if (t.kind === 'open') {
        if (depth >= nginxLimits.maxBlockDepth) {
          state.findings.push({ file, line: head.line, col: head.col, severity: 'error', message: `blocks nested deeper than ${nginxLimits.maxBlockDepth}`, rule: 'nginx.parse-error' })
          return out
        }
        directive.block = parseBlock(depth + 1, t)
        out.push(directive)
        continue
      }
      if (directive.name === 'include' && directive.args.length === 1) {
        out.push(...expandInclude(directive, state, includeDepth))
        continue
      }
      out.push(directive)
    }
    // An unterminated string swallows the rest of the file: the end-of-file errors that
    // follow from it would only repeat it.
    if (errors.length === 0) {
      if (words.length) {
        state.findings.push({ file, line: words[0].line, col: words[0].col, severity: 'error', message: 'unexpected end of file, expecting ";" or "}"', rule: 'nginx.parse-error' })
      }
      if (opener) unclosed.push(opener)
    }
    return out
  }
  const directives = parseBlock(0, null)
  if (unclosed.length) {
    // Innermost first: that is where a closing brace is most likely missing.
    const at = unclosed[0]
    const others = unclosed.slice(1).map((t) => t.line)
    state.findings.push({ file, line: at.line, col: at.col, severity: 'error', message: `unexpected end of file, expecting "}" to close the block opened here${others.length ? ` (and the ones opened at line${others.length > 1 ? 's' : ''} ${others.join(', ')})` : ''}`, rule: 'nginx.parse-error' })
  }
  return directives
}

function expandInclude(directive: NginxDirective, state: ParseState, depth: number): NginxDirective[] {
  const pattern = directive.args[0]
  if (depth >= nginxLimits.maxIncludeDepth) {
    state.findings.push({ file: directive.file, line: directive.line, col: directive.col, severity: 'error', message: `include nested deeper than ${nginxLimits.maxIncludeDepth} levels; not followed (include loop?)`, rule: 'nginx.include-depth' })
    return [directive]
  }
  // nginx resolves relative includes against its prefix (the conf directory); the linted
  // main file's directory stands in for it.
  const absPattern = isAbsolute(pattern) ? pattern : join(state.root, pattern)
  const find = (p: string) => (/[*?[]/.test(p) ? expandGlob(p) : existsSync(p) ? [p] : [])
  let matches = find(absPattern)
  if (matches.length === 0 && isAbsolute(pattern)) {
    // A config copied off its server (/etc/nginx/sites-enabled/*) is linted from another
    // directory: try the longest tail of the path under the main file's directory.
    const parts = pattern.split('/').filter(Boolean)
    for (let k = parts.length - 1; k >= 1 && matches.length === 0; k--) matches = find(join(state.root, ...parts.slice(parts.length - k)))
  }
  if (matches.length === 0) {
    if (!/[*?[]/.test(pattern)) {
      state.findings.push({ file: directive.file, line: directive.line, col: directive.col, severity: 'warning', message: `included file "${pattern}" not found (looked in ${state.displayPath(dirname(absPattern))}); its directives are not evaluated`, rule: 'nginx.include-missing' })
    }
    return [directive]
  }
  const out: NginxDirective[] = [directive]
  for (const m of matches) {
    try {
      if (!statSync(m).isFile()) continue
      out.push(...parseOne(m, state, depth + 1))
    } catch (error) {
      state.findings.push({ file: directive.file, line: directive.line, col: directive.col, severity: 'error', message: `cannot read included file ${state.displayPath(m)}: ${error instanceof Error ? error.message : String(error)}`, rule: 'nginx.include-missing' })
    }
  }
  return out
}

/** Renders a directive the way it was written, for messages: `deny all;`. */
export function renderDirective(d: NginxDirective): string {
  const args = d.args.map((a) => (a === '' || /[\s;{}"']/.test(a) ? `"${a.replaceAll('"', '\\"')}"` : a))
  return `${[d.name, ...args].join(' ')}${d.block ? ' { ... }' : ';'}`
}
