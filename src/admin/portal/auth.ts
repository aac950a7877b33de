import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { hashKey } from '../../core/keys.js'
import type { Runtime } from '../../gateway/compile.js'
import type { ConsumerRecord } from '../../policies/define.js'

export type ConsumerCheck = { ok: true; consumer: ConsumerRecord } | { ok: false; reason: 'missing' | 'unknown' }

// One index per compiled runtime: built on the first portal call after a change, then reused.
const indexes = new WeakMap<Runtime, Map<string, { digest: Buffer; consumer: ConsumerRecord }>>()

function indexOf(runtime: Runtime) {
  let index = indexes.get(runtime)
  if (!index) {
    index = new Map()
    for (const consumer of runtime.consumers) for (const digest of consumer.keyHashes) index.set(digest.toString('hex'), { digest, consumer })
    indexes.set(runtime, index)
  }
  return index
}

/** The key a portal caller sent: `X-API-Key: <key>` or `Authorization: Bearer <key>`. */
function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key']
  if (typeof header === 'string' && header.trim() !== '') return header.trim()
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
  return match?.[1]
}

/**
 * Finds the consumer whose API key the caller sent, as the gateway's key authentication does:
 * the key is hashed, looked up by SHA-256 digest (revealing nothing about the key), and the
 * match confirmed with timingSafeEqual. The key itself is never kept or logged.
 */
export function verifyConsumerKey(req: IncomingMessage, runtime: Runtime): ConsumerCheck {
  const key = presentedKey(req)
  if (key === undefined) return { ok: false, reason: 'missing' }
  const digest = hashKey(key)
  const found = indexOf(runtime).get(digest.toString('hex'))
  if (!found || !timingSafeEqual(found.digest, digest)) return { ok: false, reason: 'unknown' }
  return { ok: true, consumer: found.consumer }
}
