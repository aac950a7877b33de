import { createRequire } from 'node:module'

/**
 * Regexes in nginx/Apache/IIS configs are operator input. We evaluate them with the `re2`
 * package (linear time) when it is installed, and otherwise with a JS RegExp only after
 * `isSafePattern` has refused shapes that backtrack badly (nested or stacked unbounded
 * quantifiers, quantified alternations, backreferences) and with the subject length bounded.
 * A refused pattern is reported as "not evaluable" rather than guessed.
 */

/** Longest pattern we will compile. */
export const maxPatternLength = 1000
/** Longest subject (URI, header value) we will match against. */
export const maxSubjectLength = 4096

/** A compiled config regex; `exec` returns captures ($0..$9) or null. */
export interface UserRegex {
  source: string
  exec(subject: string): string[] | null
}

/** Result of compiling a config regex: a matcher, or the reason it cannot be evaluated. */
export type CompiledRegex = { ok: true; regex: UserRegex } | { ok: false; reason: string }

interface Re2Constructor {
  new (pattern: string, flags?: string): { exec(s: string): RegExpExecArray | null }
}

function loadRe2(): Re2Constructor | null {
  try {
    const require = createRequire(import.meta.url)
    return require('re2') as Re2Constructor
  } catch {
    return null
  }
}

const re2 = loadRe2()

/** Which engine runs config regexes: `re2` (linear time) when installed, else guarded `js`. */
export const regexEngine: 're2' | 'js' = re2 ? 're2' : 'js'

const cache = new Map<string, CompiledRegex>()

/** Translates PCRE spellings JS lacks: `(?P<name>` and a leading `(?i)`. */
function translatePcre(pattern: string, flags: string): { pattern: string; flags: string } {
  let p = pattern.replaceAll('(?P<', '(?<')
  let f = flags
  if (p.startsWith('(?i)')) {
    p = p.slice(4)
    if (!f.includes('i')) f += 'i'
  }
  return { pattern: p, flags: f }
}

/**
 * Compiles a regex from a config file. `caseInsensitive` for nginx `~*`, Apache `[NC]`,
 * IIS `ignoreCase`.
 */
export function compileUserRegex(pattern: string, caseInsensitive = false): CompiledRegex {
  const key = `${caseInsensitive ? 'i' : '-'}${pattern}`
  const hit = cache.get(key)
  if (hit) return hit
  const result = compileUncached(pattern, caseInsensitive)
  if (cache.size < 2000) cache.set(key, result)
  return result
}

function compileUncached(pattern: string, caseInsensitive: boolean): CompiledRegex {
  if (pattern.length > maxPatternLength) return { ok: false, reason: `pattern longer than ${maxPatternLength} characters` }
  const { pattern: p, flags } = translatePcre(pattern, caseInsensitive ? 'i' : '')
  if (re2) {
    try {
      const r = new re2(p, flags)
      return { ok: true, regex: wrap(pattern, (s) => r.exec(s)) }
    } catch (error) {
      return { ok: false, reason: `re2 cannot compile it (${error instanceof Error ? error.message : String(error)})` }
    }
  }
  return compileGuarded(pattern, caseInsensitive)
}

/**
 * The fallback without re2: a JS RegExp, only for patterns `isSafePattern` accepts. Exported
 * so tests exercise it whether or not re2 is installed.
 */
export function compileGuarded(pattern: string, caseInsensitive = false): CompiledRegex {
  if (pattern.length > maxPatternLength) return { ok: false, reason: `pattern longer than ${maxPatternLength} characters` }
  const { pattern: p, flags } = translatePcre(pattern, caseInsensitive ? 'i' : '')
  const unsafe = findUnsafeShape(p)
  if (unsafe) return { ok: false, reason: unsafe }
  try {
    const r = new RegExp(p, flags)
    return { ok: true, regex: wrap(pattern, (s) => r.exec(s)) }
  } catch (error) {
    return { ok: false, reason: `not a valid regex (${error instanceof Error ? error.message : String(error)})` }
  }
}

function wrap(source: string, exec: (s: string) => RegExpExecArray | null): UserRegex {
  return {
    source,
    exec(subject) {
      const m = exec(subject.length > maxSubjectLength ? subject.slice(0, maxSubjectLength) : subject)
      return m ? Array.from(m, (v) => v ?? '') : null
    },
  }
}

/** True when the pattern may be run with a backtracking engine on bounded input. */
export function isSafePattern(pattern: string): boolean {
  return findUnsafeShape(pattern) === null
}

interface GroupState {
  hasUnbounded: boolean
  hasAlternation: boolean
}

/**
 * Scans a pattern once and returns why it is unsafe for a backtracking engine, or null.
 * Refused: a quantified group containing an unbounded quantifier (`(a+)+`), an unboundedly
 * quantified group containing `|` (`(a|a)*`), backreferences, lookbehind, and more than two
 * unbounded quantifiers over wide atoms (`.*.*.*` is cubic).
 */
function findUnsafeShape(pattern: string): string | null {
  const stack: GroupState[] = [{ hasUnbounded: false, hasAlternation: false }]
  let wideUnbounded = 0
  let lastAtomWide = false
  let lastClosed: GroupState | null = null
  let i = 0
  while (i < pattern.length) {
    const ch = pattern[i]
    let atomEnd = false
    let closed: GroupState | null = null
    let wide = false
    if (ch === '\\') {
      const next = pattern[i + 1] ?? ''
      if (/[1-9k]/.test(next)) return 'backreferences are not evaluated'
      wide = /[SDWs]/.test(next)
      i += 2
      atomEnd = true
    } else if (ch === '[') {
      const negated = pattern[i + 1] === '^'
      let j = i + 1
      if (pattern[j] === '^') j++
      if (pattern[j] === ']') j++
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1
      if (j >= pattern.length) return 'unterminated character class'
      wide = negated
      i = j + 1
      atomEnd = true
    } else if (ch === '(') {
      if (pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) return 'lookbehind is not evaluated'
      stack.push({ hasUnbounded: false, hasAlternation: false })
      if (pattern[i + 1] === '?') {
        if (pattern[i + 2] === '<') {
          const close = pattern.indexOf('>', i)
          if (close < 0) return 'unterminated group name'
          i = close + 1
        } else {
          i += 3
        }
      } else {
        i += 1
      }
      lastClosed = null
      lastAtomWide = false
      continue
    } else if (ch === ')') {
      const group = stack.pop()
      if (!group || stack.length === 0) return 'unbalanced parenthesis'
      closed = group
      const parent = stack[stack.length - 1]
      if (group.hasUnbounded) parent.hasUnbounded = true
      i += 1
      atomEnd = true
    } else if (ch === '|') {
      stack[stack.length - 1].hasAlternation = true
      i += 1
      lastClosed = null
      continue
    } else if (ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      return 'quantifier without an atom'
    } else {
      wide = ch === '.'
      i += 1
      atomEnd = true
    }
    if (!atomEnd) continue
    lastClosed = closed
    lastAtomWide = wide
    // A quantifier may follow the atom just read.
    const q = readQuantifier(pattern, i)
    if (q) {
      i = q.end
      if (lastClosed) {
        if (lastClosed.hasUnbounded && (q.unbounded || q.max > 1)) return 'nested quantifiers (catastrophic backtracking)'
        if (lastClosed.hasAlternation && q.unbounded) return 'quantified alternation (catastrophic backtracking)'
      }
      if (q.unbounded) {
        stack[stack.length - 1].hasUnbounded = true
        if (lastAtomWide || lastClosed) wideUnbounded += 1
        if (wideUnbounded > 2) return 'more than two unbounded wildcards (polynomial backtracking)'
      }
    }
  }
  if (stack.length !== 1) return 'unbalanced parenthesis'
  return null
}

function readQuantifier(pattern: string, i: number): { end: number; unbounded: boolean; max: number } | null {
  const ch = pattern[i]
  let end = i
  let unbounded = false
  let max = 1
  if (ch === '*' || ch === '+') {
    unbounded = true
    end = i + 1
  } else if (ch === '?') {
    end = i + 1
  } else if (ch === '{') {
    const close = pattern.indexOf('}', i)
    const body = close > 0 ? pattern.slice(i + 1, close) : ''
    const m = /^(\d{1,6})(,(\d{0,6}))?$/.exec(body)
    if (!m) return null
    end = close + 1
    if (m[2] !== undefined && m[3] === '') unbounded = true
    else max = Number(m[3] ?? m[1])
  } else {
    return null
  }
  if (pattern[end] === '?' || pattern[end] === '+') end += 1
  return { end, unbounded, max }
}
