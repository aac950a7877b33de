import type { ConsumerConfigValue, GatehouseConfig, RouteConfig, UpstreamConfigValue } from '../config/schema.js'
import type { ApiConfigValue, TenantConfigValue } from '../tenancy/schema.js'

/** A consumer created through the admin API or an import. */
export interface AdminConsumer {
  name: string
  tenant?: string
  scopes: string[]
  roles: string[]
  createdAt: number
  /**
   * Key references (`sha256:...`, `env:NAME`) of a consumer written by a config import. When
   * set, the entry is a whole consumer and replaces a file consumer of the same name.
   */
  keys?: string[]
  attributes?: ConsumerConfigValue['attributes']
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

/** Names removed through the admin API (or an import) from what the file declares. */
export interface AdminDeletions {
  routes?: string[]
  upstreams?: string[]
  consumers?: string[]
  tenants?: string[]
  apis?: string[]
}

/**
 * What operators changed through the admin API. Kept in the store and laid over the config
 * file on every load, so admin changes survive restarts and file reloads, and the file stays
 * the operator's own. The sections after `subscriptions` came later and are optional, so
 * states saved before them still load.
 */
export interface AdminState {
  consumers: AdminConsumer[]
  keys: AdminKey[]
  subscriptions: AdminSubscription[]
  /** Routes added or replaced (by name), as validated config (defaults filled in). */
  routes?: RouteConfig[]
  /** Upstreams added or replaced (by name), as validated config. */
  upstreams?: Record<string, UpstreamConfigValue>
  tenants?: TenantConfigValue[]
  apis?: ApiConfigValue[]
  deleted?: AdminDeletions
}

export const emptyAdminState: AdminState = Object.freeze({ consumers: [], keys: [], subscriptions: [] }) as unknown as AdminState

function isEmpty(state: AdminState): boolean {
  const deleted = state.deleted ?? {}
  return state.consumers.length === 0 && state.keys.length === 0 && state.subscriptions.length === 0 &&
    (state.routes ?? []).length === 0 && Object.keys(state.upstreams ?? {}).length === 0 &&
    (state.tenants ?? []).length === 0 && (state.apis ?? []).length === 0 &&
    Object.values(deleted).every((names) => (names ?? []).length === 0)
}

/** A named section with entries replaced in place, new ones appended, deleted ones dropped. */
function overlay<T extends { name: string }>(file: readonly T[], changed: readonly T[] | undefined, deleted: readonly string[] | undefined): T[] {
  if (!changed?.length && !deleted?.length) return file as T[]
  const gone = new Set(deleted ?? [])
  const byName = new Map((changed ?? []).map((entry) => [entry.name, entry]))
  const fileNames = new Set(file.map((entry) => entry.name))
  return [
    ...file.filter((entry) => !gone.has(entry.name)).map((entry) => byName.get(entry.name) ?? entry),
    ...(changed ?? []).filter((entry) => !fileNames.has(entry.name) && !gone.has(entry.name)),
  ]
}

/**
 * The config the gateway runs: the file's, plus admin-created consumers, their live keys (added
 * to file consumers too; revoked ones removed), subscriptions (an admin change wins over the
 * file's entry with the same id), and routes, upstreams, tenants and APIs added, replaced or
 * deleted by name. Pure; the inputs are not modified.
 */
export function applyAdminState(config: Readonly<GatehouseConfig>, state: AdminState): GatehouseConfig {
  if (isEmpty(state)) return config as GatehouseConfig
  const deleted = state.deleted ?? {}
  const liveKeys = new Map<string, string[]>()
  const revoked = new Set<string>()
  for (const key of state.keys) {
    if (key.revokedAt !== undefined) {
      revoked.add(`sha256:${key.sha256}`)
      continue
    }
    liveKeys.set(key.consumer, [...(liveKeys.get(key.consumer) ?? []), `sha256:${key.sha256}`])
  }
  // An imported consumer may already list admin-issued keys: keep each once, and never a revoked one.
  const withKeys = (name: string, keys: readonly string[]) => {
    const all = [...keys, ...(liveKeys.get(name) ?? [])].filter((ref) => !revoked.has(ref.toLowerCase()))
    return [...new Set(all)]
  }
  const gone = new Set(deleted.consumers ?? [])
  const whole = new Map(state.consumers.filter((c) => c.keys !== undefined).map((c) => [c.name, c]))
  const asConfig = (c: AdminConsumer): ConsumerConfigValue => ({
    name: c.name,
    ...(c.tenant !== undefined ? { tenant: c.tenant } : {}),
    keys: withKeys(c.name, c.keys ?? []),
    scopes: c.scopes,
    roles: c.roles,
    attributes: c.attributes ?? {},
  })
  const fileNames = new Set(config.consumers.map((c) => c.name))
  const consumers = [
    ...config.consumers
      .filter((c) => !gone.has(c.name))
      .map((c) => {
        const replaced = whole.get(c.name)
        if (replaced) return asConfig(replaced)
        return liveKeys.has(c.name) || c.keys.some((ref) => revoked.has(ref.toLowerCase())) ? { ...c, keys: withKeys(c.name, c.keys) } : c
      }),
    ...state.consumers.filter((c) => !fileNames.has(c.name) && !gone.has(c.name)).map(asConfig),
  ]
  const changed = new Map(state.subscriptions.map((s) => [String(s.id), s]))
  const subscriptions = [
    ...config.subscriptions.map((s) => {
      const override = changed.get(String(s.id))
      return override ? { ...s, consumer: override.consumer, api: override.api, state: override.state } : s
    }),
    ...state.subscriptions.filter((s) => !config.subscriptions.some((f) => String(f.id) === String(s.id))).map((s) => ({ id: s.id, consumer: s.consumer, api: s.api, state: s.state })),
  ]
  const upstreams: GatehouseConfig['upstreams'] = { ...config.upstreams, ...(state.upstreams ?? {}) }
  for (const name of deleted.upstreams ?? []) delete upstreams[name]
  return {
    ...config,
    upstreams,
    consumers,
    subscriptions,
    routes: overlay(config.routes, state.routes, deleted.routes),
    tenants: overlay(config.tenants, state.tenants, deleted.tenants),
    apis: overlay(config.apis, state.apis, deleted.apis),
  } as GatehouseConfig
}
