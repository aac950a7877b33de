import type { GatehouseConfig } from '../config/schema.js'

/** A consumer created through the admin API. */
export interface AdminConsumer {
  name: string
  tenant?: string
  scopes: string[]
  roles: string[]
  createdAt: number
}

/** An API key issued through the admin API: only its SHA-256 is kept. */
export interface AdminKey {
  consumer: string
  /** Hex SHA-256 of the key. */
  sha256: string
  /** First 8 hex chars of the digest: how the key is named in logs and the console. */
  fingerprint: string
  createdAt: number
  revokedAt?: number
}

/** A subscription created or changed through the admin API (overrides the file's entry with that id). */
export interface AdminSubscription {
  id: string | number
  consumer: string
  api: string
  state: 'pending' | 'approved' | 'rejected' | 'revoked'
  updatedAt: number
}

/**
 * What operators changed through the admin API. Kept in the store and laid over the config
 * file on every load, so admin changes survive restarts and file reloads, and the file stays
 * the operator's own.
 */
export interface AdminState {
  consumers: AdminConsumer[]
  keys: AdminKey[]
  subscriptions: AdminSubscription[]
}

export const emptyAdminState: AdminState = Object.freeze({ consumers: [], keys: [], subscriptions: [] }) as unknown as AdminState

/**
 * The config the gateway runs: the file's, plus admin-created consumers, their live keys (added
 * to file consumers too), and subscriptions (an admin change wins over the file's entry with the
 * same id). Pure; the inputs are not modified.
 */
export function applyAdminState(config: Readonly<GatehouseConfig>, state: AdminState): GatehouseConfig {
  if (state.consumers.length === 0 && state.keys.length === 0 && state.subscriptions.length === 0) return config as GatehouseConfig
  const liveKeys = new Map<string, string[]>()
  for (const key of state.keys) {
    if (key.revokedAt !== undefined) continue
    liveKeys.set(key.consumer, [...(liveKeys.get(key.consumer) ?? []), `sha256:${key.sha256}`])
  }
  const fileNames = new Set(config.consumers.map((c) => c.name))
  const consumers = [
    ...config.consumers.map((c) => (liveKeys.has(c.name) ? { ...c, keys: [...c.keys, ...liveKeys.get(c.name)!] } : c)),
    ...state.consumers
      .filter((c) => !fileNames.has(c.name))
      .map((c) => ({ name: c.name, tenant: c.tenant, keys: liveKeys.get(c.name) ?? [], scopes: c.scopes, roles: c.roles, attributes: {} })),
  ]
  const changed = new Map(state.subscriptions.map((s) => [String(s.id), s]))
  const subscriptions = [
    ...config.subscriptions.map((s) => {
      const override = changed.get(String(s.id))
      return override ? { ...s, state: override.state } : s
    }),
    ...state.subscriptions.filter((s) => !config.subscriptions.some((f) => String(f.id) === String(s.id))).map((s) => ({ id: s.id, consumer: s.consumer, api: s.api, state: s.state })),
  ]
  return { ...config, consumers, subscriptions } as GatehouseConfig
}
