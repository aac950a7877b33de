import type { Identity } from '../../gateway/context.js'
import type { ModelsConfig } from './schema.js'

/** Which list applies to a caller, and why (for the trace). */
export interface AllowList {
  entries: readonly string[]
  source: 'consumer' | 'tenant' | 'route'
}

/** The most specific allow-list for the caller: its consumer's, else its tenant's, else the route's. */
export function allowListFor(config: Pick<ModelsConfig, 'allow' | 'consumers' | 'tenants'>, identity: Identity | undefined): AllowList {
  if (identity && Object.hasOwn(config.consumers, identity.consumer)) return { entries: config.consumers[identity.consumer], source: 'consumer' }
  if (identity?.tenant !== undefined && Object.hasOwn(config.tenants, identity.tenant)) return { entries: config.tenants[identity.tenant], source: 'tenant' }
  return { entries: config.allow, source: 'route' }
}

/** True when `model` (an alias or `provider/model`, as the client wrote it) is on the list. */
export function isModelAllowed(entries: readonly string[], model: string): boolean {
  for (const entry of entries) {
    if (entry === '*' || entry === model) return true
    if (entry.endsWith('/*') && model.startsWith(entry.slice(0, -1)) && model.length > entry.length - 1) return true
  }
  return false
}

/** The names of `candidates` the list allows, for `GET /v1/models` and the 403 that names them. */
export function allowedNames(entries: readonly string[], candidates: readonly string[]): string[] {
  const out = candidates.filter((name) => isModelAllowed(entries, name))
  // Explicit provider/model entries are usable even when no alias mentions them.
  for (const entry of entries) if (entry !== '*' && !entry.endsWith('/*') && !out.includes(entry) && entry.includes('/')) out.push(entry)
  return out
}
