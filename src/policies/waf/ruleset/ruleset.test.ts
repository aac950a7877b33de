import { describe, expect, it } from 'vitest'
import { handleFor } from '../engine.js'
import { families } from '../rules.js'
import { signatures } from './index.js'

describe('the WAF rule set', () => {
  it('has unique ids of the form <family>-NNN', () => {
    const ids = signatures.map((s) => s.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const s of signatures) {
      expect(s.id).toMatch(new RegExp(`^${s.family}-\\d{3}$`))
      expect(families).toContain(s.family)
    }
  })

  it('has paranoia-1 signatures in every family, and stricter ones above', () => {
    for (const family of families) expect(signatures.some((s) => s.family === family && s.paranoia === 1), family).toBe(true)
    for (const level of [2, 3, 4]) expect(signatures.some((s) => s.paranoia === level), `level ${level}`).toBe(true)
  })

  it.each([1, 2, 3, 4])('loads into libddwaf at paranoia %i', (level) => {
    expect(() => handleFor(level)).not.toThrow()
  })
})
