import type { TopEntry } from './types.js'

interface Slot<P> {
  count: number
  /** Most this count may overstate the truth: the floor when the key (re-)entered. */
  error: number
  payload: P | undefined
}

/**
 * Counts keys in bounded memory (a batched Space-Saving sketch). Up to `capacity` keys are
 * exact; past that, once the table holds `2 × capacity` keys it keeps the `capacity` largest
 * and remembers the largest count it dropped as a floor. A key that arrives later starts at
 * that floor, so any key seen more often than the floor is never lost, and `top()` reports
 * `count - error`, a count the key certainly reached. Memory stays O(capacity) however many
 * distinct keys the log has.
 */
export class HeavyHitters<P = never> {
  private readonly slots = new Map<string, Slot<P>>()
  private floor = 0
  /** Total of all `add` weights, exact. */
  total = 0

  constructor(private readonly capacity = 256) {}

  /** Counts one occurrence of `key`; returns its slot payload holder for the caller to update. */
  add(key: string, weight = 1): Slot<P> {
    this.total += weight
    let slot = this.slots.get(key)
    if (slot === undefined) {
      if (this.slots.size >= this.capacity * 2) this.prune()
      slot = { count: this.floor + weight, error: this.floor, payload: undefined }
      this.slots.set(key, slot)
    } else {
      slot.count += weight
    }
    return slot
  }

  /** Number of keys held now (at most `2 × capacity`). */
  get size(): number {
    return this.slots.size
  }

  private prune(): void {
    const entries = [...this.slots.entries()].sort((a, b) => b[1].count - a[1].count)
    for (let i = this.capacity; i < entries.length; i++) {
      if (entries[i][1].count > this.floor) this.floor = entries[i][1].count
      this.slots.delete(entries[i][0])
    }
  }

  /** The `n` largest keys with their guaranteed counts, largest first, ties by key. */
  top(n = 10): TopEntry[] {
    return this.entries(n).map(([value, slot]) => ({ value, count: slot.count - slot.error }))
  }

  /** The `n` largest keys with their slots (payload included). */
  entries(n = 10): [string, Slot<P>][] {
    return [...this.slots.entries()]
      .filter(([, slot]) => slot.count - slot.error > 0)
      .sort((a, b) => (b[1].count - b[1].error) - (a[1].count - a[1].error) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, n)
  }
}
