/**
 * Shell-style wildcard match (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`) without building a regex,
 * so config-supplied patterns never reach the regex engine. Linear-ish: greedy star with a
 * single backtrack point, like fnmatch.
 */
export function matchWildcard(pattern: string, text: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern
  const t = caseInsensitive ? text.toLowerCase() : text
  let pi = 0
  let ti = 0
  let starP = -1
  let starT = 0
  while (ti < t.length) {
    if (pi < p.length) {
      const c = p[pi]
      if (c === '*') {
        starP = pi
        starT = ti
        pi += 1
        continue
      }
      if (c === '?') {
        pi += 1
        ti += 1
        continue
      }
      if (c === '[') {
        const cls = matchClass(p, pi, t[ti])
        if (cls && cls.matched) {
          pi = cls.end
          ti += 1
          continue
        }
        if (!cls && t[ti] === '[') {
          pi += 1
          ti += 1
          continue
        }
      } else if (c === '\\' && pi + 1 < p.length && p[pi + 1] === t[ti]) {
        pi += 2
        ti += 1
        continue
      } else if (c === t[ti]) {
        pi += 1
        ti += 1
        continue
      }
    }
    if (starP >= 0) {
      pi = starP + 1
      starT += 1
      ti = starT
      continue
    }
    return false
  }
  while (pi < p.length && p[pi] === '*') pi += 1
  return pi === p.length
}

function matchClass(p: string, start: number, ch: string): { matched: boolean; end: number } | null {
  let i = start + 1
  let negate = false
  if (p[i] === '!' || p[i] === '^') {
    negate = true
    i += 1
  }
  let matched = false
  let first = true
  while (i < p.length && (p[i] !== ']' || first)) {
    first = false
    const lo = p[i]
    if (p[i + 1] === '-' && i + 2 < p.length && p[i + 2] !== ']') {
      const hi = p[i + 2]
      if (ch >= lo && ch <= hi) matched = true
      i += 3
    } else {
      if (ch === lo) matched = true
      i += 1
    }
  }
  if (i >= p.length) return null
  return { matched: negate ? !matched : matched, end: i + 1 }
}
