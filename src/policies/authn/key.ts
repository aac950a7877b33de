import { timingSafeEqual } from 'node:crypto'
import { hashKey, keyFingerprint } from '../../core/keys.js'
import type { Identity } from '../../gateway/context.js'
import { allow, type Allow, type ConsumerRecord } from '../define.js'

/** Keys longer than this are refused without hashing; real ones are under 200 characters. */
const MAX_KEY_CHARS = 4096

/** Outcome of checking one presented API key. */
export type KeyCheck =
  | { ok: true; verdict: Allow; consumer: string }
  | { ok: false; reason: 'unknown' | 'too-long' | 'empty'; keyId?: string }

interface KeyEntry {
  hash: Buffer
  verdict: Allow
  consumer: string
}

/**
 * Builds the API-key check from the consumers' key digests. Each key's allow verdict
 * (with its frozen identity) is built here once, so a good key costs one sha256, one map
 * lookup and one 32-byte comparison per request, and no allocation beyond the digest.
 */
export function createKeyChecker(consumers: readonly ConsumerRecord[]): (presented: string) => KeyCheck {
  const byDigest = new Map<string, KeyEntry>()
  for (const consumer of consumers) {
    for (const hash of consumer.keyHashes) {
      const hex = hash.toString('hex')
      // The config loader refuses a key given to two consumers; if one slips through,
      // the first owner keeps it rather than the match depending on map order.
      if (byDigest.has(hex)) continue
      const identity: Identity = deepFreeze({
        consumer: consumer.name,
        ...(consumer.tenant === undefined ? {} : { tenant: consumer.tenant }),
        method: 'key',
        scopes: [...consumer.scopes],
        claims: { keyId: keyFingerprint(hash) },
      })
      const detail = { method: 'key', consumer: consumer.name, keyId: keyFingerprint(hash) }
      byDigest.set(hex, { hash: Buffer.from(hash), verdict: deepFreeze(allow({ identity, detail })), consumer: consumer.name })
    }
  }

  return function checkKey(presented: string): KeyCheck {
    if (presented.length === 0) return { ok: false, reason: 'empty' }
    if (presented.length > MAX_KEY_CHARS) return { ok: false, reason: 'too-long' }
    // We compare digests, never the keys themselves. The map is keyed by the hex sha256 of
    // the key: a hash-table lookup on that digest can at most leak timing about the digest,
    // which tells an attacker nothing about any secret key (they cannot steer a digest
    // towards a chosen prefix). The lookup result is then confirmed with timingSafeEqual on
    // two 32-byte buffers, so no byte-by-byte comparison of secret-derived data ever
    // short-circuits, and which consumer matched does not change the time taken.
    const digest = hashKey(presented)
    const entry = byDigest.get(digest.toString('hex'))
    if (entry !== undefined && timingSafeEqual(entry.hash, digest)) return { ok: true, verdict: entry.verdict, consumer: entry.consumer }
    return { ok: false, reason: 'unknown', keyId: keyFingerprint(digest) }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
