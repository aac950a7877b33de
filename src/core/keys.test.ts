import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashKey, keyFingerprint, parseKeyRef } from './keys.js'

const KEY = 'gh_live_4f9c2a7e1b'
const HEX = createHash('sha256').update(KEY).digest('hex')

describe('key references', () => {
  it('hashes a key with sha256', () => {
    expect(hashKey(KEY).toString('hex')).toBe(HEX)
  })

  it('accepts sha256:<hex> in either case', () => {
    const lower = parseKeyRef(`sha256:${HEX}`, {})
    const upper = parseKeyRef(`sha256:${HEX.toUpperCase()}`, {})
    expect(lower).toEqual({ ok: true, hash: hashKey(KEY) })
    expect(upper).toEqual(lower)
  })

  it('reads env:NAME and hashes the plain key it holds', () => {
    expect(parseKeyRef('env:ACME_KEY', { ACME_KEY: KEY })).toEqual({ ok: true, hash: hashKey(KEY) })
  })

  it.each([
    ['env:ACME_KEY', {}, 'environment variable ACME_KEY is not set'],
    ['env:ACME_KEY', { ACME_KEY: '' }, 'environment variable ACME_KEY is not set'],
    ['sha256:abc', {}, "expected 'sha256:' followed by exactly 64 hex digits"],
    [`sha256:${'g'.repeat(64)}`, {}, "expected 'sha256:' followed by exactly 64 hex digits"],
    ['env:1BAD', {}, "expected 'sha256:<64 hex digits>' or 'env:NAME'"],
  ])('refuses %s', (ref, env, message) => {
    const result = parseKeyRef(ref, env)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.message).toContain(message)
  })

  it('never repeats a plain key pasted by mistake in its message', () => {
    const result = parseKeyRef(KEY, {})
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.message).not.toContain(KEY)
  })

  it('fingerprints a digest by its first 8 hex characters', () => {
    expect(keyFingerprint(hashKey(KEY))).toBe(HEX.slice(0, 8))
  })
})
