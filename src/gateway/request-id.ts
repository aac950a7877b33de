import { randomBytes } from 'node:crypto'
import { monotonicFactory } from 'ulid'


// Random bytes come from a pooled buffer: one syscall per 8 KiB instead of one per byte.
let pool = Buffer.alloc(0)
let poolOffset = 0
function takeRandom(bytes: number): number {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(8192)
    poolOffset = 0
  }
  const at = poolOffset
  poolOffset += bytes
  return at
}

// The ulid package's default PRNG calls crypto once per character; feed it from the pool.
const nextUlid = monotonicFactory(() => {
  const at = takeRandom(1)
  return pool[at] / 256
})

/** Incoming ids are kept when they look like ids: bounded, printable, no separators that break logs. */
const acceptableId = /^[A-Za-z0-9._:-]{1,128}$/

/** The request's id: the caller's `X-Request-Id` when acceptable, else a new ULID. */
export function resolveRequestId(incoming: string | string[] | undefined): string {
  if (typeof incoming === 'string' && acceptableId.test(incoming)) return incoming
  return nextUlid()
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

function randomHex(bytes: number): string {
  const at = takeRandom(bytes)
  return pool.toString('hex', at, at + bytes)
}

/**
 * W3C Trace Context: keep a valid incoming `traceparent` (all-zero ids are invalid), else
 * start a new trace. https://www.w3.org/TR/trace-context/#traceparent-header
 */
export function resolveTraceparent(incoming: string | string[] | undefined): { traceparent: string; traceId: string } {
  if (typeof incoming === 'string') {
    const m = traceparentPattern.exec(incoming)
    if (m && m[1] !== '00000000000000000000000000000000' && m[2] !== '0000000000000000') {
      return { traceparent: incoming, traceId: m[1] }
    }
  }
  const traceId = randomHex(16)
  return { traceparent: `00-${traceId}-${randomHex(8)}-01`, traceId }
}
