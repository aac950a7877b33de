import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { expandGlob } from '../glob.js'
import type { Finding } from '../types.js'

/*
 * Apache httpd config / .htaccess parser, written here because no maintained npm package
 * parses httpd syntax with line numbers and nested sections for this purpose. One directive
 * per line, `\` continues a line, `#` starts a comment only at the start of a line,
 * `<Section args>` ... `</Section>` nest.
 */

/** A directive or a `<Section>` with where it was written. */
export interface ApacheNode {
  name: string
  args: string[]
  file: string
  line: number
  col: number
  /** Set for sections. */
  children: ApacheNode[] | null
  /** The source text of the line (first physical line), for messages. */
  text: string
  /** A comment on the line just above. */
  commented: boolean
}

/** A parsed Apache config. `htaccess` when the main file is a per-directory file. */
export interface ApacheConfig {
  nodes: ApacheNode[]
  files: string[]
  findings: Finding[]
  htaccess: boolean
  /** Absolute directory of the main file (the .htaccess directory). */
  baseDir: string
}

const limits = { maxIncludeDepth: 8, maxFiles: 200, maxFileBytes: 2_000_000, maxSectionDepth: 50 }

/** Splits the arguments of a directive line: whitespace-separated, "..." or '...' quoted. */
export function splitApacheArgs(text: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++
    if (i >= text.length) break
    const q = text[i]
    if (q === '"' || q === "'") {
      let value = ''
      i++
      while (i < text.length && text[i] !== q) {
        if (text[i] === '\\' && text[i + 1] === q) {
          value += q
          i += 2
          continue
        }
        value += text[i]
        i++
      }
      i++
      out.push(value)
      continue
    }
    let value = ''
    while (i < text.length && !/\s/.test(text[i])) {
      value += text[i]
      i++
    }
    out.push(value)
  }
  return out
}

interface State {
  files: string[]
  findings: Finding[]
  serverRoot: string
  /** The main file's directory: a fallback for includes when ServerRoot is not on this machine. */
  mainDir: string
  displayPath: (abs: string) => string
}

/** Reads and parses an Apache config file, following Include/IncludeOptional. */
export function parseApacheFile(file: string, displayPath: (abs: string) => string = (p) => p): ApacheConfig {
  const abs = resolve(file)
  const state: State = { files: [], findings: [], serverRoot: dirname(abs), mainDir: dirname(abs), displayPath }
  const nodes = parseFile(abs, state, 0)
  const name = basename(abs).toLowerCase()
  return { nodes, files: state.files, findings: state.findings, htaccess: name === '.htaccess' || name.endsWith('.htaccess'), baseDir: dirname(abs) }
}

/** Parses text (tests); Include is resolved against `baseDir`. */
export function parseApacheText(text: string, file: string, htaccess = false, baseDir = '.'): ApacheConfig {
  const state: State = { files: [file], findings: [], serverRoot: resolve(baseDir), mainDir: resolve(baseDir), displayPath: (p) => p }
  const nodes = parseText(text, file, state, 0)
  return { nodes, files: state.files, findings: state.findings, htaccess, baseDir: resolve(baseDir) }
}

function parseFile(abs: string, state: State, depth: number): ApacheNode[] {
  if (state.files.length >= limits.maxFiles) return []
  const shown = state.displayPath(abs)
  state.files.push(shown)
  if (statSync(abs).size > limits.maxFileBytes) {
    state.findings.push({ file: shown, line: 1, col: 1, severity: 'error', message: `file is larger than ${limits.maxFileBytes} bytes; not read`, rule: 'apache.file-too-large' })
    return []
  }
  // A UTF-8 byte order mark would otherwise stick to the first directive name.
  return parseText(readFileSync(abs, 'utf8').replace(/^\uFEFF/, ''), shown, state, depth)
}

function parseText(text: string, file: string, state: State, includeDepth: number): ApacheNode[] {
  const physical = text.split(/\r?\n/)
  const root: ApacheNode[] = []
  const stack: ApacheNode[] = []
  const current = () => (stack.length ? (stack[stack.length - 1].children as ApacheNode[]) : root)
  let prevComment = false
  for (let i = 0; i < physical.length; i++) {
    const lineNo = i + 1
    let raw = physical[i]
    // Join continuation lines; the directive keeps the first line's number.
    while (raw.endsWith('\\') && i + 1 < physical.length) {
      raw = raw.slice(0, -1) + ' ' + physical[++i].trimStart()
    }
    const trimmed = raw.trim()
    const col = raw.length - raw.trimStart().length + 1
    if (trimmed === '') {
      prevComment = false
      continue
    }
    if (trimmed.startsWith('#')) {
      prevComment = true
      continue
    }
    const commented = prevComment
    prevComment = false
    if (trimmed.startsWith('</')) {
      const m = /^<\/\s*([^>\s]+)\s*>/.exec(trimmed)
      const name = m?.[1] ?? ''
      const open = stack[stack.length - 1]
      if (!open) {
        state.findings.push({ file, line: lineNo, col, severity: 'error', message: `</${name}> without a matching <${name}>`, rule: 'apache.parse-error' })
        continue
      }
      if (open.name.toLowerCase() !== name.toLowerCase()) {
        state.findings.push({ file, line: lineNo, col, severity: 'error', message: `</${name}> closes <${open.name}> opened at line ${open.line}`, rule: 'apache.parse-error' })
      }
      stack.pop()
      continue
    }
    if (trimmed.startsWith('<')) {
      const m = /^<\s*([A-Za-z][\w.:-]*)(.*?)>\s*$/.exec(trimmed)
      if (!m) {
        state.findings.push({ file, line: lineNo, col, severity: 'error', message: `cannot parse section line: ${trimmed.slice(0, 80)}`, rule: 'apache.parse-error' })
        continue
      }
      if (stack.length >= limits.maxSectionDepth) {
        state.findings.push({ file, line: lineNo, col, severity: 'error', message: `sections nested deeper than ${limits.maxSectionDepth}`, rule: 'apache.parse-error' })
        continue
      }
      const node: ApacheNode = { name: m[1], args: splitApacheArgs(m[2]), file, line: lineNo, col, children: [], text: trimmed, commented }
      current().push(node)
      stack.push(node)
      continue
    }
    const sp = trimmed.search(/\s/)
    const name = sp < 0 ? trimmed : trimmed.slice(0, sp)
    const args = sp < 0 ? [] : splitApacheArgs(trimmed.slice(sp + 1))
    const node: ApacheNode = { name, args, file, line: lineNo, col, children: null, text: trimmed, commented }
    const lower = name.toLowerCase()
    if (lower === 'serverroot' && args[0]) state.serverRoot = args[0]
    if ((lower === 'include' || lower === 'includeoptional') && args[0]) {
      current().push(node)
      current().push(...expandInclude(node, state, includeDepth, lower === 'includeoptional'))
      continue
    }
    current().push(node)
  }
  for (const open of stack) {
    state.findings.push({ file, line: open.line, col: open.col, severity: 'error', message: `<${open.name}> is never closed`, rule: 'apache.parse-error' })
  }
  return root
}

function expandInclude(node: ApacheNode, state: State, depth: number, optional: boolean): ApacheNode[] {
  const pattern = node.args[0]
  if (depth >= limits.maxIncludeDepth) {
    state.findings.push({ file: node.file, line: node.line, col: node.col, severity: 'error', message: `Include nested deeper than ${limits.maxIncludeDepth} levels; not followed`, rule: 'apache.include-depth' })
    return []
  }
  const wild = /[*?[]/.test(pattern)
  const find = (absPattern: string) => (wild ? expandGlob(absPattern) : existsSync(absPattern) ? [absPattern] : [])
  // Relative includes resolve against ServerRoot; a config copied off its server is tried
  // against its own directory too.
  let matches = find(isAbsolute(pattern) ? pattern : join(state.serverRoot, pattern))
  if (matches.length === 0 && !isAbsolute(pattern)) matches = find(join(state.mainDir, pattern))
  if (matches.length === 0) {
    if (!optional && !wild) state.findings.push({ file: node.file, line: node.line, col: node.col, severity: 'warning', message: `included file "${pattern}" not found; its directives are not evaluated`, rule: 'apache.include-missing' })
    return []
  }
  const out: ApacheNode[] = []
  for (const m of matches) {
    try {
      if (statSync(m).isFile()) out.push(...parseFile(m, state, depth + 1))
    } catch {
      state.findings.push({ file: node.file, line: node.line, col: node.col, severity: 'warning', message: `cannot read included file ${state.displayPath(m)}`, rule: 'apache.include-missing' })
    }
  }
  return out
}

/** Case-insensitive name test. */
export function isNamed(node: ApacheNode, ...names: string[]): boolean {
  const n = node.name.toLowerCase()
  return names.some((x) => x.toLowerCase() === n)
}
