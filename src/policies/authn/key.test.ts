import { describe, expect, it, vi } from 'vitest'
import { hashKey, keyFingerprint } from '../../core/keys.js'
import { createKeyChecker } from './key.js'

// Wrap timingSafeEqual so a test can see the confirmation step really runs.
const compare = vi.hoisted(() => ({ calls: [] as [number, number][] }))
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>()
  return {
    ...original,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compare.calls.push([a.byteLength, b.byteLength])
      return original.timingSafeEqual(a, b)
    },
  }
})

const consumers = [
  { name: 'acme-app', tenant: 'acme', keyHashes: [hashKey('acme-key-1'), hashKey('acme-key-2')], scopes: ['orders:read'] },
  { name: 'globex', keyHashes: [hashKey('globex-key')], scopes: [] },
]

describe('API key checker', () => {
  const check = createKeyChecker(consumers)

  it('finds the consumer of each of its keys', () => {
    const first = check('acme-key-1')
    const second = check('acme-key-2')
    expect(first.ok && first.consumer).toBe('acme-app')
    expect(second.ok && second.consumer).toBe('acme-app')
    const other = check('globex-key')
    expect(other.ok && other.verdict.identity).toEqual({ consumer: 'globex', method: 'key', scopes: [], claims: { keyId: keyFingerprint(hashKey('globex-key')) } })
  })

  it('returns the same frozen verdict for every request with a key', () => {
    const a = check('acme-key-1')
    const b = check('acme-key-1')
    expect(a.ok && b.ok && a.verdict === b.verdict).toBe(true)
    expect(a.ok && Object.isFrozen(a.verdict.identity?.scopes)).toBe(true)
  })

  it('confirms a digest match with a constant-time comparison of two 32-byte digests', () => {
    compare.calls.length = 0
    expect(check('acme-key-2').ok).toBe(true)
    expect(compare.calls).toEqual([[32, 32]])
    // An unknown key misses the map; there is nothing to compare against.
    compare.calls.length = 0
    expect(check('nobody').ok).toBe(false)
    expect(compare.calls).toEqual([])
  })

  it('refuses an unknown key and identifies it only by fingerprint', () => {
    const result = check('acme-key-3')
    expect(result).toEqual({ ok: false, reason: 'unknown', keyId: keyFingerprint(hashKey('acme-key-3')) })
  })

  it('refuses a key that differs only in case or by a trailing character', () => {
    expect(check('ACME-KEY-1').ok).toBe(false)
    expect(check('acme-key-1 ').ok).toBe(false)
    expect(check('acme-key-').ok).toBe(false)
  })

  it('refuses empty and oversized keys without hashing them', () => {
    expect(check('')).toEqual({ ok: false, reason: 'empty' })
    expect(check('k'.repeat(5000))).toEqual({ ok: false, reason: 'too-long' })
  })

  it('keeps the first owner when a digest is listed twice', () => {
    const dup = createKeyChecker([
      { name: 'first', keyHashes: [hashKey('shared')], scopes: [] },
      { name: 'second', keyHashes: [hashKey('shared')], scopes: [] },
    ])
    const result = dup('shared')
    expect(result.ok && result.consumer).toBe('first')
  })
})
