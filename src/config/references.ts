import { parseKeyRef } from '../core/keys.js'
import { isValidIpOrCidr } from '../policies/ip/client-ip.js'
import type { GatehouseConfig } from './schema.js'

export interface ReferenceFinding {
  path: (string | number)[]
  message: string
  severity: 'error' | 'warning'
}

/**
 * Checks that span several parts of the file: names that must exist, names that must be
 * unique, keys that must resolve. Each finding names the field to fix.
 */
export function checkConfigReferences(config: GatehouseConfig, env: Record<string, string | undefined>): ReferenceFinding[] {
  const findings: ReferenceFinding[] = []
  const error = (path: (string | number)[], message: string) => findings.push({ path, message, severity: 'error' })
  const warn = (path: (string | number)[], message: string) => findings.push({ path, message, severity: 'warning' })

  config.trustedProxies.forEach((entry, i) => {
    if (!isValidIpOrCidr(entry)) error(['trustedProxies', i], `'${entry}' is not an IP address or CIDR`)
  })

  const upstreamNames = Object.keys(config.upstreams)
  const routeNames = new Map<string, number>()
  const matches = new Map<string, number>()
  config.routes.forEach((route, i) => {
    if (!(route.upstream in config.upstreams)) {
      const known = upstreamNames.length ? `defined upstreams: ${upstreamNames.join(', ')}` : 'no upstreams are defined'
      error(['routes', i, 'upstream'], `unknown upstream '${route.upstream}'; ${known}`)
    }
    const first = routeNames.get(route.name)
    if (first !== undefined) error(['routes', i, 'name'], `duplicate route name '${route.name}' (also routes[${first}].name)`)
    else routeNames.set(route.name, i)

    for (const method of route.match.methods ?? ['*']) {
      const key = `${route.match.host ?? '*'} ${method} ${route.match.path}`
      const other = matches.get(key)
      if (other !== undefined && other !== i) {
        error(['routes', i, 'match'], `routes[${other}] already matches ${method === '*' ? 'any method' : method} ${route.match.path}${route.match.host ? ` on ${route.match.host}` : ''}`)
        break
      }
      matches.set(key, i)
    }

    const policies = route.policies as Record<string, unknown>
    if (policies.scopes !== undefined && policies.auth === undefined) {
      warn(['routes', i, 'policies', 'scopes'], "requires scopes but the route has no 'auth' policy, so every call is refused with 401")
    }
  })

  const consumerNames = new Map<string, number>()
  const keyOwners = new Map<string, string>()
  config.consumers.forEach((consumer, i) => {
    const first = consumerNames.get(consumer.name)
    if (first !== undefined) error(['consumers', i, 'name'], `duplicate consumer name '${consumer.name}' (also consumers[${first}].name)`)
    else consumerNames.set(consumer.name, i)
    consumer.keys.forEach((ref, k) => {
      const parsed = parseKeyRef(ref, env)
      if (!parsed.ok) {
        error(['consumers', i, 'keys', k], parsed.message)
        return
      }
      const hex = parsed.hash.toString('hex')
      const owner = keyOwners.get(hex)
      if (owner !== undefined) error(['consumers', i, 'keys', k], `the same key is also given to consumer '${owner}'`)
      else keyOwners.set(hex, consumer.name)
    })
  })
  return findings
}
