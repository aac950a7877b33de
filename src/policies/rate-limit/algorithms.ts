/** The counting algorithms, as pure functions over a small state object (the memory store). */

export type Algorithm = 'fixed-window' | 'sliding-window' | 'token-bucket'

/** What a store needs to know to count one request. */
export interface LimitSpec {
  algorithm: Algorithm
  limit: number
  windowMs: number
  /** Bucket size for token-bucket (burst, default limit). */
  capacity: number
}

/** The outcome of counting one request. Times are whole milliseconds from now. */
export interface HitResult {
  allowed: boolean
  /** Requests still allowed right now (after this one, when it was allowed). */
  remaining: number
  /** Until the quota is whole again (allowed), or until the next request could pass (refused). */
  resetMs: number
}

/**
 * State of one key. One shape for all algorithms keeps the memory store monomorphic:
 * fixed/sliding use `start`, `current`, `previous`; token-bucket uses `tokens` and `start` as
 * the time of the last refill.
 */
export interface KeyState {
  start: number
  current: number
  previous: number
  tokens: number
  /** Epoch ms after which the state says nothing a fresh state would not. */
  expiresAt: number
}

/** A fresh state for a key not seen (or expired). */
export function createState(): KeyState {
  return { start: 0, current: 0, previous: 0, tokens: Number.NaN, expiresAt: 0 }
}

/** Counts one request against `state` at `now`, mutating it. */
export function hit(state: KeyState, now: number, spec: LimitSpec): HitResult {
  if (spec.algorithm === 'fixed-window') return hitFixedWindow(state, now, spec)
  if (spec.algorithm === 'sliding-window') return hitSlidingWindow(state, now, spec)
  return hitTokenBucket(state, now, spec)
}

function hitFixedWindow(state: KeyState, now: number, { limit, windowMs }: LimitSpec): HitResult {
  const start = now - (now % windowMs)
  if (state.start !== start) {
    state.start = start
    state.current = 0
  }
  state.expiresAt = start + windowMs
  const resetMs = start + windowMs - now
  // Refused requests are not counted: they cannot push the window's count past the limit.
  if (state.current >= limit) return { allowed: false, remaining: 0, resetMs }
  state.current++
  return { allowed: true, remaining: limit - state.current, resetMs }
}

/**
 * Sliding window by interpolation (as nginx and Cloudflare do): the previous window's count,
 * weighted by the share of it the sliding window still overlaps, plus the current count.
 * Two integers per key instead of a timestamp per request.
 */
function hitSlidingWindow(state: KeyState, now: number, { limit, windowMs }: LimitSpec): HitResult {
  const start = now - (now % windowMs)
  if (state.start !== start) {
    state.previous = state.start === start - windowMs ? state.current : 0
    state.current = 0
    state.start = start
  }
  state.expiresAt = start + 2 * windowMs
  const elapsed = now - start
  const estimated = (state.previous * (windowMs - elapsed)) / windowMs + state.current
  if (estimated < limit) {
    state.current++
    return { allowed: true, remaining: Math.max(0, Math.floor(limit - estimated - 1)), resetMs: start + windowMs - now }
  }
  return { allowed: false, remaining: 0, resetMs: slidingRetryMs(state.previous, state.current, limit, windowMs, elapsed) }
}

/** Milliseconds until the interpolated count drops below `limit` again (at least 1). */
export function slidingRetryMs(previous: number, current: number, limit: number, windowMs: number, elapsed: number): number {
  let wait: number
  if (current < limit) {
    // Still in this window: wait until enough of the previous window has slid out.
    const until = windowMs * (1 - (limit - current) / previous)
    wait = until - elapsed
  } else {
    // This window alone is full: in the next one it becomes the weighted previous window.
    const until = windowMs * (1 - limit / current)
    wait = windowMs - elapsed + until
  }
  return Math.max(1, Math.floor(wait) + 1)
}

/** Token bucket: `capacity` tokens, refilled continuously at `limit` per window. */
function hitTokenBucket(state: KeyState, now: number, { limit, windowMs, capacity }: LimitSpec): HitResult {
  const ratePerMs = limit / windowMs
  let tokens = Number.isNaN(state.tokens) ? capacity : Math.min(capacity, state.tokens + Math.max(0, now - state.start) * ratePerMs)
  state.start = now
  let allowed = false
  if (tokens >= 1) {
    tokens -= 1
    allowed = true
  }
  state.tokens = tokens
  const fullInMs = Math.ceil((capacity - tokens) / ratePerMs)
  state.expiresAt = now + fullInMs
  const nextTokenMs = Math.max(1, Math.ceil((1 - tokens) / ratePerMs))
  // With tokens left, the quota is whole again when the bucket is full; with none, what the
  // client needs is when the next token arrives.
  if (allowed) return { allowed, remaining: Math.floor(tokens), resetMs: tokens >= 1 ? fullInMs : nextTokenMs }
  return { allowed, remaining: 0, resetMs: nextTokenMs }
}
