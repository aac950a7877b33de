import { createState, hit, type HitResult, type KeyState, type LimitSpec } from './algorithms.js'

/** Default bound on keys one memory store tracks. */
export const defaultMaxKeys = 100_000

/** Longest a key's state can matter after its last request, in milliseconds. */
function lifetimeMs(spec: LimitSpec): number {
  if (spec.algorithm === 'fixed-window') return spec.windowMs
  if (spec.algorithm === 'sliding-window') return 2 * spec.windowMs
  return Math.ceil((spec.capacity * spec.windowMs) / spec.limit)
}

/**
 * Counters in this process, in two generations of Maps. Keys live in `current`; a key seen
 * again while in `previous` moves to `current`. The generations rotate (previous is dropped
 * whole) when `current` holds half of `maxKeys`, and whenever a key lifetime has passed
 * since the last rotation, so idle keys expire without a per-request sweep and a flood of
 * distinct ips never holds more than `maxKeys`: it forgets the least recently seen keys,
 * which then start over with a full quota (the only safe thing to forget). Dropping Maps
 * whole also avoids iterating past deleted entries, which made sweeping a single Map slow.
 */
export class MemoryStore {
  #current = new Map<string, KeyState>()
  #previous = new Map<string, KeyState>()
  #rotatedAt = Number.NEGATIVE_INFINITY
  readonly #generationSize: number

  constructor(maxKeys = defaultMaxKeys) {
    this.#generationSize = Math.max(1, Math.floor(maxKeys / 2))
  }

  /** Keys currently held (some possibly expired, awaiting their generation's drop). */
  get size(): number {
    return this.#current.size + this.#previous.size
  }

  /** Counts one request for `key`. Synchronous: no Promise on the hot path. */
  hit(key: string, now: number, spec: LimitSpec): HitResult {
    if (now - this.#rotatedAt >= lifetimeMs(spec)) this.#rotate(now)
    let state = this.#current.get(key)
    if (state === undefined) {
      state = this.#previous.get(key)
      if (state !== undefined) this.#previous.delete(key)
      if (state === undefined || state.expiresAt <= now) state = createState()
      if (this.#current.size >= this.#generationSize) this.#rotate(now)
      this.#current.set(key, state)
    } else if (state.expiresAt <= now) {
      state = createState()
      this.#current.set(key, state)
    }
    return hit(state, now, spec)
  }

  #rotate(now: number): void {
    this.#previous = this.#current
    this.#current = new Map()
    this.#rotatedAt = now
  }
}
