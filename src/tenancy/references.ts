/** A cross-reference problem: the field to fix and what is wrong with it. */
export interface TenancyFinding {
  path: (string | number)[]
  message: string
  severity: 'error' | 'warning'
}

interface RawEntry {
  [key: string]: unknown
}

/**
 * Cross-reference checks for `tenants`, `apis` and `subscriptions`: names that must exist,
 * names that must be unique, a route in at most one API. Runs on the raw file even when the
 * schema found problems (so one run lists everything), hence the defensive reads.
 *
 * Tenants named by consumers are checked only once `tenants:` declares any, so files
 * written before tenants existed keep loading.
 */
export function checkTenancyReferences(raw: unknown): TenancyFinding[] {
  const root = (raw && typeof raw === 'object' ? raw : {}) as RawEntry
  const findings: TenancyFinding[] = []
  const error = (path: (string | number)[], message: string) => findings.push({ path, message, severity: 'error' })
  const warn = (path: (string | number)[], message: string) => findings.push({ path, message, severity: 'warning' })

  const tenants = indexByName(entries(root.tenants), 'tenants', error)
  const consumers = indexByName(entries(root.consumers), 'consumers', () => undefined) // duplicates are reported by the consumer checks
  const routes = indexByName(entries(root.routes), 'routes', () => undefined)
  const apis = indexByName(entries(root.apis), 'apis', error)
  const knownTenants = () => (tenants.size ? `defined tenants: ${[...tenants.keys()].join(', ')}` : 'no tenants are defined')

  const consumerTenant = new Map<string, string>()
  entries(root.consumers).forEach(({ value, index }) => {
    if (typeof value.tenant !== 'string') return
    if (typeof value.name === 'string') consumerTenant.set(value.name, value.tenant)
    if (tenants.size > 0 && !tenants.has(value.tenant)) error(['consumers', index, 'tenant'], `unknown tenant '${value.tenant}'; ${knownTenants()}`)
  })

  const routeOwner = new Map<string, { api: string; path: string }>()
  entries(root.apis).forEach(({ value, index }) => {
    const name = String(value.name)
    if (typeof value.tenant === 'string' && !tenants.has(value.tenant)) error(['apis', index, 'tenant'], `unknown tenant '${value.tenant}'; ${knownTenants()}`)
    strings(value.routes).forEach(({ value: route, index: k }) => {
      if (!routes.has(route)) {
        error(['apis', index, 'routes', k], `unknown route '${route}'; an api lists names from routes[].name`)
        return
      }
      const owner = routeOwner.get(route)
      if (owner !== undefined) error(['apis', index, 'routes', k], `route '${route}' already belongs to api '${owner.api}' (${owner.path}); a route belongs to at most one api`)
      else routeOwner.set(route, { api: name, path: `apis[${index}].routes[${k}]` })
    })
    strings(value.sharedWith).forEach(({ value: tenant, index: k }) => {
      if (!tenants.has(tenant)) error(['apis', index, 'sharedWith', k], `unknown tenant '${tenant}'; ${knownTenants()}`)
      else if (tenant === value.tenant) warn(['apis', index, 'sharedWith', k], `'${tenant}' owns the api already; sharing with it changes nothing`)
    })
  })

  const ids = new Map<string, number>()
  const pairs = new Map<string, number>()
  entries(root.subscriptions).forEach(({ value, index }) => {
    if (typeof value.id === 'number' || typeof value.id === 'string') {
      const id = String(value.id)
      const first = ids.get(id)
      if (first !== undefined) error(['subscriptions', index, 'id'], `duplicate subscription id '${id}' (also subscriptions[${first}].id)`)
      else ids.set(id, index)
    }
    const consumer = typeof value.consumer === 'string' ? value.consumer : undefined
    const api = typeof value.api === 'string' ? value.api : undefined
    if (consumer !== undefined && !consumers.has(consumer)) error(['subscriptions', index, 'consumer'], `unknown consumer '${consumer}'; a subscription names an entry of consumers[].name`)
    if (api !== undefined && !apis.has(api)) error(['subscriptions', index, 'api'], `unknown api '${api}'; a subscription names an entry of apis[].name`)
    if (consumer === undefined || api === undefined || !consumers.has(consumer) || !apis.has(api)) return
    const pair = `${consumer} ${api}`
    const first = pairs.get(pair)
    if (first !== undefined) error(['subscriptions', index, 'api'], `consumer '${consumer}' already has a subscription to '${api}' (subscriptions[${first}])`)
    else pairs.set(pair, index)
    const apiEntry = apis.get(api)!
    const theirs = consumerTenant.get(consumer)
    const shared = strings(apiEntry.sharedWith).map((s) => s.value)
    if (theirs !== undefined && theirs !== apiEntry.tenant && !shared.includes(theirs)) {
      warn(
        ['subscriptions', index, 'consumer'],
        `consumer '${consumer}' belongs to tenant '${theirs}' but api '${api}' belongs to '${String(apiEntry.tenant)}' and is not shared with it, so calls are refused as cross-tenant; add '${theirs}' to its sharedWith`,
      )
    }
  })

  entries(root.routes).forEach(({ value, index }) => {
    const name = String(value.name)
    const policies = value.policies && typeof value.policies === 'object' ? (value.policies as RawEntry) : {}
    const owner = routeOwner.get(name)
    if (policies.subscription !== undefined && owner === undefined) {
      error(['routes', index, 'policies', 'subscription'], `route '${name}' is in no api, so there is nothing to subscribe to; list it in the routes of an entry under apis`)
    }
    if (owner !== undefined && policies.subscription === undefined && apis.get(owner.api)?.subscription !== 'open') {
      warn(['routes', index, 'name'], `route '${name}' is in api '${owner.api}', which requires a subscription, but has no 'subscription' policy, so calls are not checked for one`)
    }
  })
  return findings
}

function entries(value: unknown): { value: RawEntry; index: number }[] {
  if (!Array.isArray(value)) return []
  const out: { value: RawEntry; index: number }[] = []
  value.forEach((entry, index) => {
    if (entry && typeof entry === 'object' && !Array.isArray(entry)) out.push({ value: entry as RawEntry, index })
  })
  return out
}

function strings(value: unknown): { value: string; index: number }[] {
  if (!Array.isArray(value)) return []
  const out: { value: string; index: number }[] = []
  value.forEach((entry, index) => {
    if (typeof entry === 'string') out.push({ value: entry, index })
  })
  return out
}

/** Entries by name (first wins), reporting duplicates at `<section>[i].name`. */
function indexByName(list: { value: RawEntry; index: number }[], section: string, error: (path: (string | number)[], message: string) => void): Map<string, RawEntry> {
  const byName = new Map<string, RawEntry>()
  const firstIndex = new Map<string, number>()
  for (const { value, index } of list) {
    if (typeof value.name !== 'string') continue
    const first = firstIndex.get(value.name)
    if (first !== undefined) error([section, index, 'name'], `duplicate ${section.replace(/s$/, '')} name '${value.name}' (also ${section}[${first}].name)`)
    else {
      byName.set(value.name, value)
      firstIndex.set(value.name, index)
    }
  }
  return byName
}
