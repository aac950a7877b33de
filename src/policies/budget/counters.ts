import type { SharedRedis } from '../rate-limit/redis.js'

/**
 * One increment: add `amount` to `key`, which is worthless `ttlMs` from now. Relative, so Redis
 * expires keys by its own clock and a gateway whose clock is off cannot expire them at once.
 */
export interface Charge {
  key: string
  amount: number
  ttlMs: number
}

/** Where budget counters live. Amounts are integers: tokens, or micro-USD for costs. */
export interface BudgetCounters {
  read(keys: readonly string[]): number[] | Promise<number[]>
  add(charges: readonly Charge[]): void | Promise<void>
}

/** Most keys one memory store keeps before it drops expired ones (then the oldest). */
const maxMemoryKeys = 100_000

/** Counters in this process. Keys carry their period, so an old period is simply never read again. */
export class MemoryCounters implements BudgetCounters {
  readonly #values = new Map<string, { value: number; expiresAt: number }>()
  readonly #now: () => number

  constructor(now: () => number) {
    this.#now = now
  }

  read(keys: readonly string[]): number[] {
    const now = this.#now()
    return keys.map((key) => {
      const entry = this.#values.get(key)
      return entry && entry.expiresAt > now ? entry.value : 0
    })
  }

  add(charges: readonly Charge[]): void {
    const now = this.#now()
    for (const { key, amount, ttlMs } of charges) {
      const entry = this.#values.get(key)
      if (entry) entry.value += amount
      else this.#values.set(key, { value: amount, expiresAt: now + ttlMs })
    }
    if (this.#values.size > maxMemoryKeys) this.#sweep()
  }

  #sweep(): void {
    const now = this.#now()
    for (const [key, entry] of this.#values) if (entry.expiresAt <= now) this.#values.delete(key)
    // Still too many live keys (a flood of distinct anonymous ips): forget the oldest, which
    // then start over; forgetting is the only safe thing to do with a counter we cannot keep.
    for (const key of this.#values.keys()) {
      if (this.#values.size <= maxMemoryKeys / 2) break
      this.#values.delete(key)
    }
  }
}

/** Counters in Redis, shared by every gateway instance that uses the same Redis. */
export class RedisCounters implements BudgetCounters {
  readonly #redis: SharedRedis

  constructor(redis: SharedRedis) {
    this.#redis = redis
  }

  async read(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return []
    await this.#connect()
    const values = await this.#redis.client.mget(...keys)
    return values.map((v) => (v === null ? 0 : Number(v) || 0))
  }

  async add(charges: readonly Charge[]): Promise<void> {
    if (charges.length === 0) return
    await this.#connect()
    // INCRBY is atomic, so instances charging the same key at once never lose an increment.
    const batch = this.#redis.client.multi()
    for (const { key, amount, ttlMs } of charges) {
      batch.incrby(key, Math.round(amount))
      batch.pexpire(key, Math.max(1000, Math.round(ttlMs)))
    }
    await batch.exec()
  }

  /** Waits for the first connection (lazy, shared with rate-limit); the caller bounds the wait. */
  async #connect(): Promise<void> {
    const client = this.#redis.client
    if (client.status === 'ready') return
    if (client.status === 'wait') client.connect().catch(() => undefined)
    if (client.status !== 'connecting' && client.status !== 'connect') return
    await new Promise<void>((settle) => {
      const done = () => {
        client.off('ready', done).off('error', done)
        settle()
      }
      client.once('ready', done).once('error', done)
    })
  }
}
