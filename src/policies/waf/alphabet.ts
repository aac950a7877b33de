/**
 * Which values a signature cannot match, worked out once per rule set from the regexes themselves.
 *
 * Most inspected JSON fields are prose ("Handle with care & pack well", "I'll update my order and
 * select a new size"), yet libddwaf runs each of ~60 signatures on each field (~0.3 µs a piece, more
 * on long text) plus ~0.2 µs per loaded rule per run. Two facts make most of that unnecessary:
 *
 * 1. On a *plain* value (printable ASCII without `%` or `\`, no `&` that starts an entity, no `/*`
 *    or `<!`), every transform we use is the identity or only folds case, deletes characters or
 *    turns `+` and whitespace into spaces, so a regex sees the value's own characters.
 * 2. Over that alphabet, most signatures need certain literals: `union`+`select`, a `;` or `&`
 *    glued (spaces aside) to a command name, `<` or `=` for libinjection's XSS check. Those literal
 *    sets are the signature's *gate*; they come from the regex's syntax tree (parts that cannot
 *    match the alphabet pruned first), never from a hand-written list.
 *
 * PlainRouter scans a plain value once (Aho-Corasick over the gates' literals, spaces and `+`
 * skipped, case folded); a value that opens no gate is *quiet* and only needs the signatures without
 * a gate (libinjection SQL and a few regexes whose literals are everyday words), which engine.ts
 * loads into a small handle of their own. Everything else goes to the full handle as before. Only
 * speed depends on which gates are chosen; unknown syntax counts as able to match anything, so an
 * error here costs time, not a detection (alphabet.test.ts checks the quiet handle against the full
 * one on the whole corpus).
 */
import type { Signature } from './ruleset/types.js'

/** A set of ASCII characters (bit i = char code i); non-ASCII is never part of an alphabet we prove things over. */
export type CharSet = bigint

const allAscii: CharSet = (1n << 128n) - 1n

export function charSetOf(chars: string): CharSet {
  let set = 0n
  for (let i = 0; i < chars.length; i++) {
    const c = chars.charCodeAt(i)
    if (c >= 128) throw new Error(`non-ASCII character in an alphabet: ${chars[i]}`)
    set |= 1n << BigInt(c)
  }
  return set
}

function range(from: number, to: number): CharSet {
  let set = 0n
  for (let c = from; c <= to; c++) set |= 1n << BigInt(c)
  return set
}

const digit = range(48, 57)
const word = digit | range(65, 90) | range(97, 122) | charSetOf('_')
const space = charSetOf(' \t\n\v\f\r')

/** Adds the other case of every letter: signatures match case-insensitively or after `lowercase`. */
function caseClosed(set: CharSet): CharSet {
  const upper = (set >> 65n) & 0x3ffffffn // A-Z as bits 0-25
  const lower = (set >> 97n) & 0x3ffffffn // a-z
  const letters = upper | lower
  return set | (letters << 65n) | (letters << 97n)
}

/** The character codes in a set, ascending, or undefined once there are more than `limit`. */
function codesOf(set: CharSet, limit: number): number[] | undefined {
  const codes: number[] = []
  for (let chunk = 0; chunk < 4; chunk++) {
    let bits = Number((set >> BigInt(chunk * 32)) & 0xffffffffn)
    while (bits !== 0) {
      const low = bits & -bits
      codes.push(chunk * 32 + 31 - Math.clz32(low))
      if (codes.length > limit) return undefined
      bits = (bits ^ low) >>> 0
    }
  }
  return codes
}

type Node =
  | { t: 'set'; set: CharSet }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; min: number; max: number; item: Node }
  | { t: 'empty' }

class Unsupported extends Error {}

/** A parser for the RE2 syntax our signatures use; anything else throws Unsupported. */
class Parser {
  private i = 0
  constructor(private readonly re: string) {}

  parse(): Node {
    const node = this.alternation()
    if (this.i !== this.re.length) throw new Unsupported(`unexpected ${this.re[this.i]} at ${this.i}`)
    return node
  }

  private alternation(): Node {
    const items = [this.sequence()]
    while (this.re[this.i] === '|') {
      this.i++
      items.push(this.sequence())
    }
    return items.length === 1 ? items[0] : { t: 'alt', items }
  }

  private sequence(): Node {
    const items: Node[] = []
    while (this.i < this.re.length && this.re[this.i] !== '|' && this.re[this.i] !== ')') items.push(this.quantified(this.atom()))
    return { t: 'seq', items }
  }

  private quantified(atom: Node): Node {
    let node = atom
    for (;;) {
      const ch = this.re[this.i]
      let min: number
      let max = Infinity
      if (ch === '*') min = 0
      else if (ch === '?') {
        min = 0
        max = 1
      } else if (ch === '+') min = 1
      else if (ch === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.re.slice(this.i))
        if (m === null) return node // a literal `{`, read as the next atom
        min = Number(m[1])
        if (m[2] === undefined) max = min
        else if (m[3] !== '') max = Number(m[3])
        this.i += m[0].length - 1
      } else return node
      this.i++
      if (this.re[this.i] === '?') this.i++ // lazy: same language
      node = { t: 'rep', min, max, item: node }
    }
  }

  private atom(): Node {
    const ch = this.re[this.i++]
    if (ch === '(') {
      if (this.re[this.i] === '?') {
        // (?:...) and flag groups. Flags cannot widen what we assume: `.` is already any character
        // and every set is compared case-insensitively.
        const m = /^\?(?:[imsU-]*:|P?<\w+>|[imsU-]+\))/.exec(this.re.slice(this.i))
        if (m === null) throw new Unsupported(`group syntax at ${this.i}`)
        this.i += m[0].length
        if (m[0].endsWith(')')) return { t: 'empty' }
      }
      const inner = this.alternation()
      if (this.re[this.i] !== ')') throw new Unsupported('unclosed group')
      this.i++
      return inner
    }
    if (ch === '[') return { t: 'set', set: this.bracket() }
    if (ch === '.') return { t: 'set', set: allAscii }
    if (ch === '^' || ch === '$') return { t: 'empty' }
    if (ch === '\\') return this.escape(false)
    if (ch === '*' || ch === '+' || ch === '?') throw new Unsupported(`quantifier without atom at ${this.i - 1}`)
    return { t: 'set', set: literal(ch) }
  }

  /** After a backslash; in a bracket, assertions are not allowed. */
  private escape(inBracket: boolean): Node & { t: 'set' | 'empty' } {
    const ch = this.re[this.i++]
    if (ch === undefined) throw new Unsupported('trailing backslash')
    switch (ch) {
      case 'd': return { t: 'set', set: digit }
      case 'D': return { t: 'set', set: allAscii & ~digit }
      case 'w': return { t: 'set', set: word }
      case 'W': return { t: 'set', set: allAscii & ~word }
      case 's': return { t: 'set', set: space }
      case 'S': return { t: 'set', set: allAscii & ~space }
      case 'n': return { t: 'set', set: charSetOf('\n') }
      case 'r': return { t: 'set', set: charSetOf('\r') }
      case 't': return { t: 'set', set: charSetOf('\t') }
      case 'f': return { t: 'set', set: charSetOf('\f') }
      case 'v': return { t: 'set', set: charSetOf('\v') }
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(this.re.slice(this.i))
        if (m === null) throw new Unsupported('\\x form')
        this.i += 2
        return { t: 'set', set: literal(String.fromCharCode(parseInt(m[0], 16))) }
      }
      case 'b': case 'B': case 'A': case 'z':
        if (inBracket) throw new Unsupported(`\\${ch} in a bracket`)
        return { t: 'empty' }
    }
    if (/[a-zA-Z0-9]/.test(ch)) throw new Unsupported(`escape \\${ch}`)
    return { t: 'set', set: literal(ch) }
  }

  private bracket(): CharSet {
    let negate = false
    if (this.re[this.i] === '^') {
      negate = true
      this.i++
    }
    let set = 0n
    let first = true
    for (;;) {
      if (this.i >= this.re.length) throw new Unsupported('unclosed bracket')
      const ch = this.re[this.i]
      if (ch === ']' && !first) {
        this.i++
        break
      }
      first = false
      if (ch === '[' && this.re[this.i + 1] === ':') throw new Unsupported('POSIX class')
      let low: CharSet
      let lowCode = -1
      if (ch === '\\') {
        this.i++
        const e = this.escape(true)
        if (e.t !== 'set') throw new Unsupported('assertion in a bracket')
        low = e.set
        if (isSingle(low)) lowCode = singleCode(low)
      } else {
        this.i++
        low = literal(ch)
        lowCode = ch.charCodeAt(0)
      }
      if (this.re[this.i] === '-' && this.re[this.i + 1] !== ']' && this.i + 1 < this.re.length) {
        this.i++
        let highCode: number
        if (this.re[this.i] === '\\') {
          this.i++
          const e = this.escape(true)
          if (e.t !== 'set' || !isSingle(e.set)) throw new Unsupported('range end')
          highCode = singleCode(e.set)
        } else highCode = this.re.charCodeAt(this.i++)
        if (lowCode < 0 || highCode < lowCode) throw new Unsupported('range')
        set |= range(lowCode, Math.min(highCode, 127))
        continue
      }
      set |= low
    }
    return negate ? allAscii & ~set : set
  }
}

function literal(ch: string): CharSet {
  const c = ch.charCodeAt(0)
  if (c >= 128) return 0n // a non-ASCII literal never matches an ASCII alphabet
  return 1n << BigInt(c)
}

function isSingle(set: CharSet): boolean {
  return set !== 0n && (set & (set - 1n)) === 0n
}

function singleCode(set: CharSet): number {
  return set.toString(2).length - 1
}

function accepts(node: Node, alphabet: CharSet): boolean {
  switch (node.t) {
    case 'set': return (caseClosed(node.set) & alphabet) !== 0n
    case 'empty': return true
    case 'seq': return node.items.every((n) => accepts(n, alphabet))
    case 'alt': return node.items.some((n) => accepts(n, alphabet))
    case 'rep': return node.min === 0 || accepts(node.item, alphabet)
  }
}

/**
 * True unless `regex` provably matches no string made only of `alphabet`'s characters (searching,
 * not anchored: a substring of such a string is one too). Syntax it does not know answers true.
 */
export function regexCanMatchOver(regex: string, alphabet: CharSet): boolean {
  try {
    return accepts(new Parser(regex).parse(), caseClosed(alphabet))
  } catch (error) {
    if (error instanceof Unsupported) return true
    throw error
  }
}

/** The regex with every part that cannot match over `alphabet` removed; undefined when nothing is left. */
function prune(node: Node, alphabet: CharSet): Node | undefined {
  switch (node.t) {
    case 'set': {
      const set = caseClosed(node.set) & alphabet
      return set === 0n ? undefined : { t: 'set', set }
    }
    case 'empty': return node
    case 'seq': {
      const items: Node[] = []
      for (const item of node.items) {
        const kept = prune(item, alphabet)
        if (kept === undefined) return undefined
        items.push(kept)
      }
      return { t: 'seq', items }
    }
    case 'alt': {
      const items = node.items.map((n) => prune(n, alphabet)).filter((n): n is Node => n !== undefined)
      return items.length === 0 ? undefined : { t: 'alt', items }
    }
    case 'rep': {
      const item = prune(node.item, alphabet)
      if (item === undefined) return node.min === 0 ? { t: 'empty' } : undefined
      return { t: 'rep', min: node.min, max: node.max, item }
    }
  }
}

/**
 * The characters a transform can turn a string over `alphabet` into, or undefined when it can
 * produce anything (a decoder whose escape character is in the alphabet, or an unknown transform).
 * Each libddwaf transform was read for what it changes: the decoders only act on `%`, `\`, `&` + a
 * letter, digit or `#`, and `+` (url_decode: a space); the others remove characters, fold case or
 * turn whitespace into a space.
 */
function transformOutput(transform: string, alphabet: CharSet): CharSet | undefined {
  const has = (ch: string): boolean => (alphabet & charSetOf(ch)) !== 0n
  switch (transform) {
    case 'url_decode':
    case 'url_decode_iis':
      if (has('%')) return undefined
      return has('+') ? alphabet | charSetOf(' ') : alphabet
    case 'js_decode':
    case 'css_decode':
      return has('\\') ? undefined : alphabet
    case 'html_entity_decode':
      // `&` stays `&` unless a letter, digit or `#` follows it, and PlainRouter only lets such `&` in.
      return alphabet
    case 'unicode_normalize': // changes only non-ASCII, and an alphabet is ASCII
    case 'remove_nulls':
    case 'remove_comments': // deletes characters, never adds any
      return alphabet
    case 'lowercase':
      return caseClosed(alphabet)
    case 'compress_whitespace':
      return alphabet | charSetOf(' ')
    default:
      return undefined
  }
}

/** The alphabet a value reaches the matcher with after `signature`'s transforms, or undefined when unknown. */
function afterTransforms(signature: Signature, alphabet: CharSet): CharSet | undefined {
  let chars: CharSet | undefined = alphabet
  for (const t of signature.transforms ?? []) {
    chars = transformOutput(t, chars)
    if (chars === undefined) return undefined
  }
  return chars
}

// ---------------------------------------------------------------------------------------------
// Required literals ("gates"). Over the plain alphabet most signatures can still match something,
// but only text that contains certain literals: `union` and `select`, a `;` and a command name, an
// `=` for libinjection's XSS check. A plain value that contains none of a signature's required
// literal sets cannot match it, which one pass of an Aho-Corasick automaton finds out.

const maxExact = 64

/**
 * The strings (lower case) a set stands for when they are at most eight, else undefined. A space
 * or `+` stands for "": PlainRouter scans values with both removed, because url_decode (`+`) and
 * compress_whitespace make spaces the raw value does not have, and `\s*` between two words is then
 * no gap at all ("union select" and "union  select" are both "unionselect").
 */
function literalsOf(set: CharSet): string[] | undefined {
  const codes = codesOf(set, 16)
  if (codes === undefined) return undefined
  const out = new Set(codes.map((c) => (c === 32 || c === 43 ? '' : String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c))))
  return out.size > 8 ? undefined : [...out]
}

/** Every string a node can match, spaces and `+` removed, when they are few; else undefined. */
function exactOf(node: Node): string[] | undefined {
  const known = exactMemo.get(node)
  if (known !== undefined) return known === null ? undefined : known
  const exact = computeExact(node)
  exactMemo.set(node, exact ?? null)
  return exact
}
const exactMemo = new WeakMap<Node, string[] | null>()

function computeExact(node: Node): string[] | undefined {
  switch (node.t) {
    case 'set': return literalsOf(node.set)
    case 'empty': return [''] // an assertion consumes nothing
    case 'rep': {
      const e = exactOf(node.item)
      if (e === undefined) return undefined
      if (e.every((s) => s === '')) return [''] // `\s*`, `\s+`
      if (node.max > 4) return undefined
      let out: string[] = []
      let power = ['']
      for (let k = 0; k <= node.max; k++) {
        if (k >= node.min) out.push(...power)
        power = power.flatMap((a) => e.map((b) => a + b))
        if (out.length + power.length > maxExact) return undefined
      }
      out = [...new Set(out)]
      return out
    }
    case 'seq': {
      let out = ['']
      for (const item of node.items) {
        const e = exactOf(item)
        if (e === undefined) return undefined
        out = [...new Set(out.flatMap((a) => e.map((b) => a + b)))]
        if (out.length > maxExact) return undefined
      }
      return out
    }
    case 'alt': {
      const out = new Set<string>()
      for (const item of node.items) {
        const e = exactOf(item)
        if (e === undefined) return undefined
        for (const s of e) out.add(s)
      }
      return out.size > maxExact ? undefined : [...out]
    }
  }
}

/**
 * How unusual in prose a literal set is: its most common string decides. A letter, digit or
 * sentence mark weighs 1, brackets and other punctuation of ordinary text 2, anything else (`;`,
 * `|`, `&`, `$`, `<`, `=`, a line break...) 8, so one shell or markup character outweighs a word.
 * Only speed depends on it: a gate that opens often just sends values to the full address.
 */
export function rarityOf(set: readonly string[]): number {
  let min = Infinity
  for (const s of set) {
    let score = 0
    for (let i = 0; i < s.length; i++) score += weightInProse.get(s[i]) ?? 8
    min = Math.min(min, score)
  }
  return min
}
const weightInProse = new Map<string, number>([
  ...[..."abcdefghijklmnopqrstuvwxyz0123456789.,'-!?"].map((c) => [c, 1] as const),
  ...[...'"():/@_#*+'].map((c) => [c, 2] as const),
])

/**
 * Conjunction of literal sets: every match contains a string from each set (an empty list: nothing
 * is known). Sets are lower case and never hold whitespace (compress_whitespace and `+` → space
 * could join words the raw value keeps apart).
 */
function conjunctionOf(node: Node): string[][] {
  const exact = exactOf(node)
  if (exact !== undefined) return [exact]
  switch (node.t) {
    case 'set':
    case 'empty':
      return []
    case 'rep':
      return node.min >= 1 ? conjunctionOf(node.item) : []
    case 'alt': {
      // Any choice of one required set per alternative gives a required union; pairing the
      // alternatives' sets rarest with rarest keeps as many unions as the shortest list has.
      const lists = node.items.map((item) => conjunctionOf(item).sort((a, b) => rarityOf(b) - rarityOf(a)))
      const count = Math.min(...lists.map((l) => l.length))
      const out: string[][] = []
      for (let i = 0; i < count; i++) out.push([...new Set(lists.flatMap((l) => l[i]))])
      return out
    }
    case 'seq': {
      const out: string[][] = []
      // Runs of consecutive exact items make longer literals ("un" + "ion" → "union"); a run is
      // added whole when it ends, which implies each of its parts.
      let run: string[] | undefined
      for (const item of node.items) {
        const e = exactOf(item)
        if (e === undefined) {
          if (run !== undefined) out.push(run)
          run = undefined
          out.push(...conjunctionOf(item))
          continue
        }
        const joined: string[] | undefined = run === undefined ? e : run.flatMap((a) => e.map((b) => a + b))
        if (joined.length > maxExact) {
          if (run !== undefined) out.push(run)
          run = e
        } else run = joined
      }
      if (run !== undefined) out.push(run)
      return out
    }
  }
}

/**
 * The literal sets every value over `alphabet` that `regex` matches contains one string of each (an
 * empty list when nothing is known, or for syntax the parser does not know).
 */
export function regexGateOver(regex: string, alphabet: CharSet): string[][] {
  let tree: Node
  try {
    tree = new Parser(regex).parse()
  } catch (error) {
    if (error instanceof Unsupported) return []
    throw error
  }
  const pruned = prune(tree, caseClosed(alphabet))
  if (pruned === undefined) return []
  const seen = new Set<string>()
  const out: string[][] = []
  for (const set of conjunctionOf(pruned)) {
    if (set.includes('')) continue // satisfied by anything
    const key = [...set].sort().join('\u0000')
    if (seen.has(key)) continue
    seen.add(key)
    out.push(set)
  }
  return out
}

/**
 * The plain alphabet: printable ASCII (no tab or line break) but not `%` or `\`. On a value over it
 * every transform we use is the identity or only folds case, deletes characters or turns
 * whitespace into a space — provided also that no `&` starts an HTML entity and no `/*` or `<!`
 * opens a comment that remove_comments would cut out of the middle (joining its two sides).
 * PlainRouter.route checks those provisos.
 */
export const plainAlphabet: CharSet = range(32, 126) & ~charSetOf('%\\')

/** How a signature is treated for plain values. */
export type PlainVerdict =
  | { kind: 'never' } // cannot match any plain value
  | { kind: 'always' } // can, and no selective literal tells which ones: run it on every plain value
  | { kind: 'gated'; gate: string[][] } // only on plain values that hold a string of each set

/**
 * A gate is worth having when the value must hold something unusual: the rarities of its sets add
 * up to `selective` (`;` alone, or `..` and `/` and a directory name), so prose rarely opens it.
 */
const selective = 4

export function plainVerdictOf(signature: Signature): PlainVerdict {
  const chars = afterTransforms(signature, plainAlphabet)
  if (chars === undefined) return { kind: 'always' }
  const m = signature.match
  switch (m.op) {
    case 'native':
      return { kind: 'never' }
    case 'is_sqli':
      return { kind: 'always' } // it tokenises SQL out of plain words; no literal rules it out
    case 'is_xss':
      // libinjection's HTML5 tokenizer reports a tag, comment or doctype only after `<`, and an
      // attribute value (the only other thing is_xss judges) only after `=`.
      return (chars & charSetOf('<=')) === 0n ? { kind: 'never' } : { kind: 'gated', gate: [['<', '=']] }
    case 'phrase':
      return m.list.some((p) => regexCanMatchOver(p.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'), chars)) ? { kind: 'always' } : { kind: 'never' }
    case 'regex': {
      if (!regexCanMatchOver(m.regex, chars)) return { kind: 'never' }
      const gate = regexGateOver(m.regex, chars)
      let rarity = 0
      for (const set of gate) rarity += rarityOf(set)
      return rarity >= selective ? { kind: 'gated', gate } : { kind: 'always' }
    }
  }
}

/**
 * Routes plain values: built once per rule set from the gated signatures, it answers in one pass
 * over a value whether the value is plain and, if so, whether it opens any gate. A plain value that
 * opens none only needs the `always` signatures (the quiet address); everything else goes to the
 * full address, so the answer can cost time but never a detection.
 */
export class PlainRouter {
  /** Column of each ASCII code (upper case folded; 0 for every character no literal has). */
  private readonly column = new Uint8Array(128)
  private readonly width: number
  /** DFA: next state = delta[state * width + column[char]]. */
  private readonly delta: Int32Array
  /** For each state, the ids of the literal sets one of whose strings ends there. */
  private readonly outputs: (readonly number[])[]
  /** Each gated signature's literal set ids (all must be seen). */
  private readonly gates: readonly (readonly number[])[]
  private readonly seen: Int32Array
  private stamp = 0

  constructor(gates: readonly (readonly string[][])[]) {
    // Literal sets are shared between signatures when equal.
    const setIds = new Map<string, number>()
    const stringSets = new Map<string, Set<number>>()
    this.gates = gates.map((gate) =>
      gate.map((set) => {
        const key = [...set].sort().join('\u0000')
        let id = setIds.get(key)
        if (id === undefined) {
          id = setIds.size
          setIds.set(key, id)
          for (const s of set) {
            const ids = stringSets.get(s) ?? new Set<number>()
            ids.add(id)
            stringSets.set(s, ids)
          }
        }
        return id
      }),
    )
    this.seen = new Int32Array(setIds.size)
    // Characters that occur in no literal all share column 0, which keeps the table small.
    let width = 1
    for (const s of stringSets.keys()) {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (this.column[c] === 0) this.column[c] = width++
      }
    }
    for (let c = 65; c <= 90; c++) this.column[c] = this.column[c + 32]
    this.width = width
    // Aho-Corasick: a trie, then failure links turned into a full transition table.
    const next: Map<number, number>[] = [new Map()]
    const out: Set<number>[] = [new Set()]
    for (const [s, ids] of stringSets) {
      let state = 0
      for (let i = 0; i < s.length; i++) {
        const c = this.column[s.charCodeAt(i)]
        let to = next[state].get(c)
        if (to === undefined) {
          to = next.length
          next.push(new Map())
          out.push(new Set())
          next[state].set(c, to)
        }
        state = to
      }
      for (const id of ids) out[state].add(id)
    }
    // Breadth first, each state's row is its failure state's row with its own children on top.
    const delta = new Int32Array(next.length * width)
    const fail = new Int32Array(next.length)
    const queue: number[] = []
    for (const [c, to] of next[0]) {
      delta[c] = to
      queue.push(to)
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]
      const f = fail[state]
      for (const id of out[f]) out[state].add(id)
      delta.copyWithin(state * width, f * width, f * width + width)
      for (const [c, to] of next[state]) {
        fail[to] = delta[f * width + c]
        delta[state * width + c] = to
        queue.push(to)
      }
    }
    this.delta = delta
    this.outputs = out.map((ids) => [...ids])
  }

  /**
   * 'quiet' for a plain value that opens no gate, 'plain' for one that opens a gate, 'other' for a
   * value outside the plain alphabet (or with an entity-like `&`, `/*` or `<!`).
   */
  route(value: string): 'quiet' | 'plain' | 'other' {
    // One buffer for every call, cleared by a new stamp rather than allocated per value.
    if (++this.stamp === 0x7fffffff) {
      this.seen.fill(0)
      this.stamp = 1
    }
    const seen = this.seen
    const stamp = this.stamp
    let state = 0
    let any = false
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (c >= 127 || c < 32 || c === 37 || c === 92) return 'other'
      if (c === 38 /* & */) {
        const n = value.charCodeAt(i + 1)
        if (n === 35 || (n >= 48 && n <= 57) || (n >= 65 && n <= 90) || (n >= 97 && n <= 122)) return 'other'
      } else if (c === 42 /* * */ && value.charCodeAt(i - 1) === 47) return 'other'
      else if (c === 33 /* ! */ && value.charCodeAt(i - 1) === 60) return 'other'
      if (c === 32 || c === 43) continue // see literalsOf
      state = this.delta[state * this.width + this.column[c]]
      const found = this.outputs[state]
      for (let k = 0; k < found.length; k++) {
        seen[found[k]] = stamp
        any = true
      }
    }
    if (!any) return 'quiet'
    for (const gate of this.gates) {
      let open = true
      for (let k = 0; k < gate.length; k++) {
        if (seen[gate[k]] !== stamp) {
          open = false
          break
        }
      }
      if (open) return 'plain'
    }
    return 'quiet'
  }
}
