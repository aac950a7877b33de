import { describe, expect, it } from 'vitest'
import { compileGuarded, compileUserRegex, isSafePattern, maxSubjectLength, regexEngine } from './user-regex.js'
import { regexWitness } from './regex-witness.js'
import { matchWildcard } from './wildcard.js'

describe('config regexes', () => {
  it.each([
    ['\\.php$', true],
    ['^/(api|admin)/', true],
    ['~*\\.(png|jpg)$', true],
    ['^/images/.+\\.png$', true],
    ['(a+)+$', false],
    ['(a|a)*b', false],
    ['(\\w+\\s?)*$', false],
    ['.*.*.*x', false],
    ['(a)\\1', false],
    ['(?<=x)y', false],
  ])('%s is safe: %s', (pattern, safe) => {
    expect(isSafePattern(pattern)).toBe(safe)
  })

  it('compiles PCRE spellings and refuses unsafe patterns with a reason', () => {
    const named = compileUserRegex('^/u/(?P<id>\\d+)$')
    expect(named.ok && named.regex.exec('/u/42')?.[1]).toBe('42')
    const ci = compileUserRegex('(?i)^/ADMIN')
    expect(ci.ok && ci.regex.exec('/admin/x') !== null).toBe(true)
    const backref = compileUserRegex('^/(\\w+)/\\1$')
    expect(backref.ok).toBe(false)
  })

  it('never runs a catastrophic pattern on a backtracking engine', () => {
    const start = performance.now()
    const bad = compileUserRegex('^(a+)+$')
    if (regexEngine === 're2') {
      expect(bad.ok && bad.regex.exec(`${'a'.repeat(40)}!`)).toBeNull()
    } else {
      expect(bad).toEqual({ ok: false, reason: 'nested quantifiers (catastrophic backtracking)' })
    }
    expect(performance.now() - start).toBeLessThan(1000)
  })

  it('the JS fallback refuses unsafe shapes and runs safe ones', () => {
    expect(compileGuarded('^(a+)+$')).toEqual({ ok: false, reason: 'nested quantifiers (catastrophic backtracking)' })
    expect(compileGuarded('(x|y)*z')).toEqual({ ok: false, reason: 'quantified alternation (catastrophic backtracking)' })
    const ok = compileGuarded('(?i)\\.PHP$')
    expect(ok.ok && ok.regex.exec('/a/index.php')?.[0]).toBe('.php')
    expect(compileGuarded('[unclosed').ok).toBe(false)
  })

  it('bounds the subject length', () => {
    const r = compileUserRegex('b$')
    expect(r.ok && r.regex.exec(`${'a'.repeat(maxSubjectLength)}b`)).toBeNull()
  })

  it('builds witnesses that the regex matches', () => {
    for (const p of ['\\.php$', '\\.(png|jpg)$', '^/api/v\\d+/', '/wp-(admin|login)']) {
      const w = regexWitness(p)
      const r = compileUserRegex(p)
      expect(w !== null && r.ok && r.regex.exec(w) !== null).toBe(true)
    }
  })

  it('matches wildcards without regexes', () => {
    expect(matchWildcard('*.conf', 'api.conf')).toBe(true)
    expect(matchWildcard('.ht*', '.htpasswd')).toBe(true)
    expect(matchWildcard('[!a]*', 'abc')).toBe(false)
    expect(matchWildcard('*a*a*a*a*b', 'a'.repeat(5000))).toBe(false)
  })
})

describe('lint rule ids', () => {
  it('every rule id used in src/lint is listed in rules.ts, and every listed id is used', async () => {
    const { readdirSync, readFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { lintRules } = await import('./rules.js')
    const root = new URL('.', import.meta.url).pathname
    const used = new Set<string>()
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name)
        if (entry.isDirectory() && entry.name !== 'fixtures') walk(p)
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && entry.name !== 'rules.ts') {
          for (const m of readFileSync(p, 'utf8').matchAll(/'((?:nginx|apache|iis)\.[a-z0-9-]+)'/g)) if (m[1] !== 'nginx.conf') used.add(m[1])
        }
      }
    }
    walk(root)
    const listed = Object.keys(lintRules)
    expect([...used].filter((id) => !listed.includes(id))).toEqual([])
    expect(listed.filter((id) => !used.has(id))).toEqual([])
  })
})
