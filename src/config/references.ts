import { parseKeyRef } from '../core/keys.js'
import { checkAuthnReferences } from '../policies/authn/references.js'
import { isValidIpOrCidr } from '../policies/ip/client-ip.js'
import { checkTenancyReferences } from '../tenancy/references.js'
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
    if (typeof route.upstream === 'string' && !(route.upstream in upstreams)) {
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
  findings.push(...checkTenancyReferences(raw))
  return findings
}
