/**
 * Builds one short string a simple regex matches (`\.php$` gives `.php`), used to show how a
 * regex location can shadow a prefix location. Returns null for shapes it does not model;
 * the result is always checked by actually matching it, so a wrong guess only hides a finding.
 */
export function regexWitness(pattern: string): string | null {
  const state = { i: 0, ok: true }
  const out = readAlternation(pattern, state, 0)
  return state.ok ? out : null
}

function readAlternation(p: string, s: { i: number; ok: boolean }, depth: number): string {
  if (depth > 20) {
    s.ok = false
    return ''
  }
  const first = readSequence(p, s, depth)
  // Only the first alternative is used; skip the others up to the group's end.
  while (s.i < p.length && p[s.i] === '|') {
    s.i += 1
    readSequence(p, s, depth)
  }
  return first
}

function readSequence(p: string, s: { i: number; ok: boolean }, depth: number): string {
  let out = ''
  while (s.i < p.length && s.ok) {
    const c = p[s.i]
    if (c === '|' || c === ')') break
    let atom = ''
    if (c === '^' || c === '$') {
      s.i += 1
      continue
    } else if (c === '\\') {
      const n = p[s.i + 1] ?? ''
      s.i += 2
      if (n === 'b' || n === 'B' || n === 'A' || n === 'z' || n === 'Z') continue
      atom = n === 'd' ? '0' : n === 'w' ? 'a' : n === 's' ? ' ' : n === 'S' || n === 'W' || n === 'D' ? 'a' : n
    } else if (c === '[') {
      let j = s.i + 1
      const negated = p[j] === '^'
      if (negated) j += 1
      const start = j
      if (p[j] === ']') j += 1
      while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1
      if (j >= p.length) {
        s.ok = false
        return out
      }
      const body = p.slice(start, j)
      atom = negated ? (body.includes('a') ? 'Z' : 'a') : body[0] === '\\' ? body[1] ?? 'a' : body[0] ?? 'a'
      s.i = j + 1
    } else if (c === '(') {
      s.i += 1
      if (p[s.i] === '?') {
        if (p[s.i + 1] === ':') s.i += 2
        else if (p[s.i + 1] === '<' && p[s.i + 2] !== '=' && p[s.i + 2] !== '!') s.i = p.indexOf('>', s.i) + 1
        else if (p[s.i + 1] === 'P' && p[s.i + 2] === '<') s.i = p.indexOf('>', s.i) + 1
        else {
          s.ok = false
          return out
        }
        if (s.i <= 0) {
          s.ok = false
          return out
        }
      }
      atom = readAlternation(p, s, depth + 1)
      if (p[s.i] !== ')') {
        s.ok = false
        return out
      }
      s.i += 1
    } else if (c === '.') {
      atom = 'a'
      s.i += 1
    } else {
      atom = c
      s.i += 1
    }
    const q = p[s.i]
    if (q === '*' || q === '?') {
      s.i += 1
      atom = ''
    } else if (q === '+') {
      s.i += 1
    } else if (q === '{') {
      const close = p.indexOf('}', s.i)
      const m = /^(\d+)/.exec(p.slice(s.i + 1, close))
      if (close < 0 || !m) {
        s.ok = false
        return out
      }
      atom = atom.repeat(Math.min(Number(m[1]), 10))
      s.i = close + 1
    }
    if (p[s.i] === '?' || (p[s.i] === '+' && q !== undefined && '*+?}'.includes(q))) s.i += 1
    out += atom
  }
  return out
}
