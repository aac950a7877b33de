import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { normalizeTarget } from './normalize-path.js'

// Pieces that hostile paths are made of, so generated paths hit the interesting branches
// far more often than uniformly random strings would.
const piece = fc.oneof(
  fc.constantFrom('/', '//', '.', '..', '/./', '/../', '%2e', '%2E', '%2e%2e', '%2f', '%2F', '%5c', '\\', ';', ';x=1',
    '%25', '%252e', '%00', '%0d%0a', '%c0%ae', '%C3%A9', '%e2%82%ac', '%f0%9f%98%80', '%ff', '%', '%z', '#', '?', 'admin',
    'ADMIN', '%61dmin', '~', '-', '_', ' ', 'é'),
  fc.string({ maxLength: 6 }),
  fc.stringMatching(/^[a-z0-9]{1,8}$/),
)
const hostilePath = fc.array(piece, { maxLength: 24 }).map((parts) => `/${parts.join('')}`)
const anyTarget = fc.oneof(hostilePath, fc.string({ maxLength: 64 }), hostilePath.map((p) => `http://evil.example${p}`))

const runs = { numRuns: 3000 }

/** A lenient reading of a path, as a permissive upstream might do it: decode twice, fold `\`, strip `;params`. */
function lenientSegments(path: string): string[] {
  let s = path
  for (let k = 0; k < 2; k++) {
    try { s = decodeURIComponent(s) } catch { break }
  }
  return s.replace(/\\/g, '/').split('/').map((seg) => seg.split(';')[0])
}

describe('normalizeTarget on arbitrary input', () => {
  it('never throws', () => {
    fc.assert(fc.property(anyTarget, (target) => {
      normalizeTarget(target)
    }), runs)
  })

  it('is idempotent: normalising a normalised path gives the same path', () => {
    fc.assert(fc.property(anyTarget, (target) => {
      const first = normalizeTarget(target)
      if (!first.ok) return
      const second = normalizeTarget(first.path)
      expect(second).toEqual({ ok: true, path: first.path, query: '' })
    }), runs)
  })

  it('never yields a dot segment, an empty segment or a character an upstream could re-split on', () => {
    fc.assert(fc.property(anyTarget, (target) => {
      const result = normalizeTarget(target)
      if (!result.ok) return
      const { path } = result
      expect(path.startsWith('/')).toBe(true)
      expect(path).not.toContain('//')
      expect(path).not.toMatch(/[\\;#?]/)
      expect(path).not.toMatch(/%(2F|5C|3B|25[0-9A-F]{2}|0[0-9A-F]|1[0-9A-F]|7F)/i)
      const segments = path.split('/').slice(1)
      expect(segments).not.toContain('..')
      expect(segments).not.toContain('.')
      // Even a permissive upstream that decodes twice and strips `;params` sees no dot segment.
      const lenient = lenientSegments(path).slice(1)
      expect(lenient).not.toContain('..')
    }), runs)
  })

  it('keeps the query untouched', () => {
    fc.assert(fc.property(hostilePath, fc.string({ maxLength: 40 }), (path, query) => {
      const result = normalizeTarget(`${path.replace(/[?#]/g, '')}?${query}`)
      if (result.ok) expect(result.query).toBe(query)
    }), runs)
  })
})

describe('normalizeTarget on the known tricks', () => {
  it.each([
    ['/public/..%2Fadmin', 'an encoded'],
    ['/public%2F..%2Fadmin', 'an encoded'],
    ['/public/..%5Cadmin', 'backslash'],
    ['/public/..\\admin', 'backslash'],
    ['/admin;x=1', 'path parameter'],
    ['/public/..;/admin', 'path parameter'],
    ['/public/%3b/admin', "encoded ';'"],
    ['/public/%252e%252e/admin', 'double-encoded'],
    ['/public/x%00', 'control character'],
    ['/public/%0d%0aSet-Cookie:x', 'control character'],
    ['/public/%c0%ae%c0%ae/admin', 'not valid UTF-8'],
    ['/public/%ed%a0%80', 'not valid UTF-8'],
    ['/public/%ff', 'not valid UTF-8'],
    ['/public/%C3', 'not valid UTF-8'],
    ['/%2e%2e/admin', 'climbs above the root'],
    ['*', 'must start with /'],
  ])('refuses %s', (target, reason) => {
    const result = normalizeTarget(target)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toContain(reason)
  })

  it.each([
    ['/public/%2e%2e/admin', '/admin'],
    ['/public/.%2e/admin', '/admin'],
    ['//admin', '/admin'],
    ['/admin/.', '/admin/'],
    ['/%61dmin', '/admin'],
    ['/public/#/../../admin', '/public/'],
    ['http://evil/public/../admin/x', '/admin/x'],
    ['http://evil?/admin', '/'],
    ['http://user@evil:80#/admin', '/'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/%e2%82%ac/%F0%9F%98%80', '/%E2%82%AC/%F0%9F%98%80'],
    ['/a/%25zz', '/a/%25zz'],
  ])('normalises %s to %s', (target, path) => {
    expect(normalizeTarget(target)).toMatchObject({ ok: true, path })
  })
})

describe('normalizeTarget cost', () => {
  it('stays linear on the longest paths the 16 KiB header limit lets through', () => {
    const paths = ['/a/%2e%2e/'.repeat(1600), '/%C3%A9'.repeat(2300), '/%25'.repeat(5000), `/${'%41'.repeat(5400)}`, '/x'.repeat(8000), `/${'%'.repeat(16_000)}`]
    const started = performance.now()
    for (const path of paths) normalizeTarget(path)
    expect(performance.now() - started).toBeLessThan(200)
  })
})
