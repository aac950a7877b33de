import { parseKeyRef } from '../core/keys.js'
import { checkAuthnReferences } from '../policies/authn/references.js'
import { isValidIpOrCidr } from '../policies/ip/client-ip.js'
import { checkTenancyReferences } from '../tenancy/references.js'
import { providerKeyProblem } from '../ai/config.js'
import type { GatehouseConfig } from './schema.js'

export interface ReferenceFinding {
  path: (string | number)[]
  message: string
  severity: 'error' | 'warning'
}

type Loose<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? Loose<U>[] : T[K] extends object ? Loose<T[K]> : T[K] }

/**
 * Checks that span several parts of the file: names that must exist, names that must be
 * unique, keys that must resolve. Each finding names the field to fix. Runs on the raw file
 * even when the schema found problems, so one run lists everything; hence the defensive reads.
 */
export function checkConfigReferences(raw: unknown, env: Record<string, string | undefined>): ReferenceFinding[] {
  const config = raw as Loose<GatehouseConfig>
  const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : [])
  const upstreams = config.upstreams && typeof config.upstreams === 'object' ? config.upstreams : {}
  const findings: ReferenceFinding[] = []
  const error = (path: (string | number)[], message: string) => findings.push({ path, message, severity: 'error' })
  const warn = (path: (string | number)[], message: string) => findings.push({ path, message, severity: 'warning' })

  list(config.trustedProxies).forEach((entry, i) => {
    if (typeof entry === 'string' && !isValidIpOrCidr(entry)) error(['trustedProxies', i], `'${entry}' is not an IP address or CIDR`)
  })

  list((config.admin as { tokens?: unknown[] } | undefined)?.tokens).forEach((entry, i) => {
    const token = entry as { role?: string; tenant?: string } | string
    if (typeof token === 'object' && token !== null && token.role === 'tenant-admin' && !token.tenant) {
      error(['admin', 'tokens', i, 'tenant'], "a tenant-admin token needs 'tenant': the tenant it manages")
    }
  })

  const upstreamNames = Object.keys(upstreams)
  const routeNames = new Map<string, number>()
  const matches = new Map<string, number>()
  list(config.routes).forEach((route, i) => {
    if (!route || typeof route !== 'object') return
    const isAi = (route as { kind?: unknown }).kind === 'ai'
    if (isAi && route.upstream !== undefined) {
      error(['routes', i, 'upstream'], "an ai route calls the models of its 'models:' at the providers, not an upstream; remove 'upstream' (or drop kind: ai to proxy)")
    } else if (typeof route.upstream === 'string' && !(route.upstream in upstreams)) {
      const known = upstreamNames.length ? `defined upstreams: ${upstreamNames.join(', ')}` : 'no upstreams are defined'
      error(['routes', i, 'upstream'], `unknown upstream '${route.upstream}'; ${known}`)
    }
    const first = routeNames.get(String(route.name))
    if (first !== undefined) error(['routes', i, 'name'], `duplicate route name '${route.name}' (also routes[${first}].name)`)
    else routeNames.set(String(route.name), i)

    const match = route.match ?? {}
    for (const method of list(match.methods).length ? list(match.methods) : ['*']) {
      const key = `${match.host ?? '*'} ${method} ${match.path}`
      const other = matches.get(key)
      if (other !== undefined && other !== i) {
        error(['routes', i, 'match'], `routes[${other}] already matches ${method === '*' ? 'any method' : method} ${match.path}${match.host ? ` on ${match.host}` : ''}`)
        break
      }
      matches.set(key, i)
    }

    const policies = (route.policies ?? {}) as Record<string, unknown>
    if (policies.scopes !== undefined && policies.auth === undefined) {
      warn(['routes', i, 'policies', 'scopes'], "requires scopes but the route has no 'auth' policy, so every call is refused with 401")
    }
  })

  const consumerNames = new Map<string, number>()
  const keyOwners = new Map<string, string>()
  list(config.consumers).forEach((consumer, i) => {
    if (!consumer || typeof consumer !== 'object') return
    const first = consumerNames.get(String(consumer.name))
    if (first !== undefined) error(['consumers', i, 'name'], `duplicate consumer name '${consumer.name}' (also consumers[${first}].name)`)
    else consumerNames.set(String(consumer.name), i)
    list(consumer.keys).forEach((ref, k) => {
      if (typeof ref !== 'string') return
      const parsed = parseKeyRef(ref, env)
      if (!parsed.ok) {
        error(['consumers', i, 'keys', k], parsed.message)
        return
      }
      const hex = parsed.hash.toString('hex')
      const owner = keyOwners.get(hex)
      if (owner !== undefined) error(['consumers', i, 'keys', k], `the same key is also given to consumer '${owner}'`)
      else keyOwners.set(hex, String(consumer.name))
    })
  })
  // Consumers and env:NAME secrets named inside auth blocks (basic users, hmac keys, mtls entries).
  const knownConsumers = new Set(consumerNames.keys())
  list(config.routes).forEach((route, i) => {
    const auth = (route?.policies as Record<string, unknown> | undefined)?.auth
    for (const problem of checkAuthnReferences(auth, knownConsumers, env)) error(['routes', i, 'policies', 'auth', ...problem.path], problem.message)
  })
  checkAiReferences(config, error, warn, env)
  findings.push(...checkTenancyReferences(raw))
  return findings
}

type Report = (path: (string | number)[], message: string) => void

/**
 * ai routes: providers named by aliases and allow-lists must exist, allow-lists may only name
 * the route's aliases, provider keys must be readable, and the ai policies belong on ai routes.
 */
function checkAiReferences(config: Loose<GatehouseConfig>, error: Report, warn: Report, env: Record<string, string | undefined>): void {
  const providers = config.providers && typeof config.providers === 'object' ? (config.providers as Record<string, { key?: unknown } | undefined>) : {}
  const providerNames = Object.keys(providers)
  const knownProviders = providerNames.length ? `defined providers: ${providerNames.join(', ')}` : 'no providers are defined'
  for (const [name, provider] of Object.entries(providers)) {
    const key = provider?.key
    if (typeof key !== 'string') continue
    const problem = providerKeyProblem(key, env)
    if (problem) error(['providers', name, 'key'], problem)
  }
  const routes = Array.isArray(config.routes) ? config.routes : []
  routes.forEach((route, i) => {
    if (!route || typeof route !== 'object') return
    const isAi = (route as { kind?: unknown }).kind === 'ai'
    const policies = (route.policies ?? {}) as Record<string, unknown>
    if (!isAi) {
      for (const key of ['models', 'budget']) {
        if (policies[key] !== undefined) warn(['routes', i, 'policies', key], `applies to routes with kind: ai; this route proxies to '${String(route.upstream)}' and never calls a model`)
      }
      return
    }
    if (providerNames.length === 0) error(['routes', i, 'kind'], "an ai route needs at least one entry under the top-level 'providers:'")
    const models = (route as { models?: unknown }).models
    const aliases = models && typeof models === 'object' && !Array.isArray(models) ? (models as Record<string, unknown>) : {}
    for (const [alias, targets] of Object.entries(aliases)) {
      if (!Array.isArray(targets)) continue
      targets.forEach((target, t) => {
        if (typeof target !== 'string') return
        const provider = target.slice(0, Math.max(0, target.indexOf('/')))
        if (provider && !(provider in providers)) error(['routes', i, 'models', alias, t], `unknown provider '${provider}'; ${knownProviders}`)
      })
    }
    const allowPolicy = policies.models
    if (!allowPolicy || typeof allowPolicy !== 'object') return
    const checkEntries = (entries: unknown, path: (string | number)[]) => {
      if (!Array.isArray(entries)) return
      entries.forEach((entry, k) => {
        if (typeof entry !== 'string' || entry === '*') return
        const slash = entry.indexOf('/')
        if (slash > 0) {
          const provider = entry.slice(0, slash)
          if (!(provider in providers)) error([...path, k], `unknown provider '${provider}'; ${knownProviders}`)
          return
        }
        if (!(entry in aliases)) {
          const known = Object.keys(aliases)
          error([...path, k], `unknown alias '${entry}'; ${known.length ? `this route's aliases (routes[${i}].models): ${known.join(', ')}` : `routes[${i}] defines no aliases under 'models:'`}`)
        }
      })
    }
    const base = ['routes', i, 'policies', 'models']
    const p = allowPolicy as { allow?: unknown; consumers?: unknown; tenants?: unknown }
    checkEntries(p.allow, [...base, 'allow'])
    for (const group of ['consumers', 'tenants'] as const) {
      const lists = p[group]
      if (!lists || typeof lists !== 'object') continue
      for (const [who, entries] of Object.entries(lists as Record<string, unknown>)) checkEntries(entries, [...base, group, who])
    }
  })
}
