import type { Clock } from '../core/clock.js'
import type { Subscription, SubscriptionChange, SubscriptionFilter, SubscriptionRegistry, SubscriptionState } from './types.js'

/** What the in-memory registry is built from. */
export interface MemoryRegistryOptions {
  clock: Clock
  /** Subscriptions from the config file. */
  subscriptions: readonly { id: string | number; consumer: string; api: string; state: SubscriptionState }[]
  /** Known consumer and API names: requests for others are refused. */
  isConsumer(name: string): boolean
  isApi(name: string): boolean
  /**
   * The registry of the previous config load. Changes made to it at runtime are kept, unless
   * the new file changed that subscription itself: the file is the seed, admins' changes win
   * over an unchanged seed.
   */
  previous?: SubscriptionRegistry
}

/** What a memory registry remembers for the next load: its seed from the file and runtime changes. */
interface CarryOver {
  seed: ReadonlyMap<string, string>
  changed: () => Subscription[]
}
const carryOvers = new WeakMap<SubscriptionRegistry, CarryOver>()

/** Which states each change may start from. */
const transitions = {
  approve: { from: ['pending'], to: 'approved' },
  reject: { from: ['pending'], to: 'rejected' },
  revoke: { from: ['approved'], to: 'revoked' },
} as const satisfies Record<string, { from: readonly SubscriptionState[]; to: SubscriptionState }>

/**
 * The subscription registry held in memory, seeded from `subscriptions:` in the config.
 * Lookups by (consumer, api) and by id are single Map reads. A config reload builds a new
 * registry from the file and carries over the runtime changes of the `previous` one.
 */
export function createMemorySubscriptionRegistry(options: MemoryRegistryOptions): SubscriptionRegistry {
  const byId = new Map<string, Subscription>()
  const byPair = new Map<string, Subscription>()
  let highestNumericId = 0
  const loadedAt = options.clock.now()

  function store(subscription: Subscription): Subscription {
    const frozen = Object.freeze(subscription)
    byId.set(frozen.id, frozen)
    byPair.set(pairKey(frozen.consumer, frozen.api), frozen)
    if (/^[0-9]{1,15}$/.test(frozen.id)) highestNumericId = Math.max(highestNumericId, Number(frozen.id))
    return frozen
  }

  const seed = new Map<string, string>()
  for (const entry of options.subscriptions) {
    const stored = store({ id: String(entry.id), consumer: entry.consumer, api: entry.api, state: entry.state, updatedAt: loadedAt })
    seed.set(stored.id, seedKey(stored))
  }
  const changed = new Set<string>()

  const previous = options.previous === undefined ? undefined : carryOvers.get(options.previous)
  for (const record of previous?.changed() ?? []) {
    // The file changed this subscription (or reused its id) since the last load: the file wins.
    if (previous!.seed.get(record.id) !== seed.get(record.id)) continue
    if (!options.isConsumer(record.consumer) || !options.isApi(record.api)) continue
    const holder = byPair.get(pairKey(record.consumer, record.api))
    if (holder !== undefined && holder.id !== record.id) continue
    store(record)
    changed.add(record.id)
  }

  function change(kind: keyof typeof transitions, id: string, reason?: string): SubscriptionChange {
    const current = byId.get(id)
    if (current === undefined) return { ok: false, error: 'not-found', message: `no subscription has id '${id}'` }
    const rule = transitions[kind]
    if (!(rule.from as readonly SubscriptionState[]).includes(current.state)) {
      return {
        ok: false,
        error: 'invalid-transition',
        message: `subscription ${id} is ${current.state}; only ${rule.from[0] === 'approved' ? 'an' : 'a'} ${rule.from.join(' or ')} subscription can be ${rule.to}`,
      }
    }
    const next: Subscription = { id, consumer: current.consumer, api: current.api, state: rule.to, updatedAt: options.clock.now() }
    changed.add(id)
    return { ok: true, subscription: store(reason === undefined ? next : { ...next, reason }) }
  }

  const registry: SubscriptionRegistry = {
    find: (consumer, api) => byPair.get(pairKey(consumer, api)),
    get: (id) => byId.get(id),
    list(filter = {}) {
      const out: Subscription[] = []
      for (const s of byId.values()) {
        if (filter.consumer !== undefined && s.consumer !== filter.consumer) continue
        if (filter.api !== undefined && s.api !== filter.api) continue
        if (filter.state !== undefined && s.state !== filter.state) continue
        out.push(s)
      }
      return out.sort(compareIds)
    },
    request(consumer, api) {
      if (!options.isConsumer(consumer)) return { ok: false, error: 'unknown-consumer', message: `no consumer is named '${consumer}'` }
      if (!options.isApi(api)) return { ok: false, error: 'unknown-api', message: `no api is named '${api}'` }
      const existing = byPair.get(pairKey(consumer, api))
      if (existing?.state === 'pending') return { ok: true, subscription: existing }
      if (existing?.state === 'approved') {
        return { ok: false, error: 'invalid-transition', message: `consumer '${consumer}' already has approved subscription ${existing.id} to '${api}'` }
      }
      // A rejected or revoked subscription is re-opened under its id, so its history stays in one place.
      const id = existing?.id ?? String(highestNumericId + 1)
      changed.add(id)
      return { ok: true, subscription: store({ id, consumer, api, state: 'pending', updatedAt: options.clock.now() }) }
    },
    approve: (id) => change('approve', id),
    reject: (id, reason) => change('reject', id, reason),
    revoke: (id, reason) => change('revoke', id, reason),
  }
  carryOvers.set(registry, { seed, changed: () => [...changed].map((id) => byId.get(id)!) })
  return registry
}

function seedKey(s: Subscription): string {
  return `${s.consumer}\u0000${s.api}\u0000${s.state}`
}

// A NUL cannot occur in a config name, so the key is unambiguous.
function pairKey(consumer: string, api: string): string {
  return `${consumer}\u0000${api}`
}

function compareIds(a: Subscription, b: Subscription): number {
  const x = Number(a.id)
  const y = Number(b.id)
  if (Number.isInteger(x) && Number.isInteger(y)) return x - y
  if (Number.isInteger(x)) return -1
  if (Number.isInteger(y)) return 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
