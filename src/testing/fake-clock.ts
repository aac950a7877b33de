import type { Clock } from '../core/clock.js'

/** A clock tests move by hand; tests never sleep. */
export function fakeClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start
  return {
    now: () => now,
    advance(ms: number) { now += ms },
    set(ms: number) { now = ms },
  }
}
