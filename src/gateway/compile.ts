import FindMyWay from 'find-my-way'
import type { Clock } from '../core/clock.js'
import { GatewayError } from '../core/errors.js'
import { parseKeyRef } from '../core/keys.js'
import type { GatehouseConfig, RouteConfig } from '../config/schema.js'
import type { ConsumerRecord, PolicyDefinition } from '../policies/define.js'
import { policies as registeredPolicies } from '../policies/index.js'
import { createClientIpResolver, type ClientIpResolver } from '../policies/ip/client-ip.js'
import type { TenancyView } from '../tenancy/types.js'
import { createTenancyView } from '../tenancy/view.js'
import type { CompiledLayer } from './pipeline.js'
import { UpstreamGroup } from './upstream/group.js'
import { UpstreamConfig } from '../config/schema.js'
import { compileAiRoute, resolveProviders, type CompiledAiRoute } from '../ai/config.js'
import type { ResolvedProvider } from '../ai/types.js'

/** Default bound on a buffered body when no `body` policy sets one (1 MiB). */
export const defaultBodyLimitBytes = 1024 * 1024

export interface CompiledRoute {
  name: string
  config: RouteConfig
  /**
   * Where a proxy route forwards. An ai route gets a stand-in group named `ai:<route>` whose
   * targets are the provider URLs (never used to proxy; it keeps listings and `explain` simple).
   */
  upstream: UpstreamGroup
  /** Set on routes of kind ai: aliases, providers and prices. */
  ai?: CompiledAiRoute
  stripPrefix?: string
  layers: CompiledLayer[]
  bodyLimitBytes: number
  /**
   * OPTIONS was added only so the cors layer can answer preflights (a route listing just POST
   * would otherwise 405 every browser preflight, a classic gateway gotcha); a plain OPTIONS
   * that is not a preflight still gets 405.
   */
  optionsForPreflightOnly: boolean
}

/** Everything a request needs, built once per config load and swapped whole on reload. */
export interface Runtime {
  config: Readonly<GatehouseConfig>
  routes: CompiledRoute[]
  upstreams: Map<string, UpstreamGroup>
  /** Consumers with their keys hashed. */
  consumers: ConsumerRecord[]
  /** `providers:` with their keys read from the environment (never logged or returned). */
  providers: Map<string, ResolvedProvider>
  resolveClientIp: ClientIpResolver
  /** Tenants, APIs and the live subscription registry; approvals made here apply without a reload. */
  tenancy: TenancyView
  /** Finds the route for a request; `allowed` lists the methods a path answers when the method is wrong. */
  match(method: string, path: string, host: string): { route: CompiledRoute; params: Record<string, string> } | { route: undefined; allowed: string[] }
}

export interface CompileDeps {
  clock: Clock
  env: Record<string, string | undefined>
  /** State that survives reloads (JWKS caches, counters), keyed by policy and route. */
  shared: Map<string, unknown>
  /** Upstream groups of the previous runtime, reused when their config is unchanged. */
  previous?: Runtime
  /**
   * `gatehouse explain`: nothing shared with running gateways is touched (no Redis, so a dry
   * run never spends a real rate-limit quota; counters start empty).
   */
  dryRun?: boolean
}

/**
 * Closes what policies keep in the shared map across reloads (Redis clients, caches with
 * timers): every value with a `close()` method. Called when a gateway or a dry run ends.
 */
export async function closeShared(shared: Map<string, unknown>): Promise<void> {
  const closable = [...shared.values()].filter((v): v is { close(): unknown } => typeof (v as { close?: unknown } | null)?.close === 'function')
  await Promise.all(closable.map(async (v) => { await v.close() }))
}

/** Compiles a validated config. Throws GatewayError('config.compile') for what validation could not catch. */
export function compileRuntime(config: Readonly<GatehouseConfig>, deps: CompileDeps, policyList: readonly PolicyDefinition[] = registeredPolicies): Runtime {
  const consumers: ConsumerRecord[] = config.consumers.map((c) => ({
    name: c.name,
    tenant: c.tenant,
    scopes: [...c.scopes],
    roles: [...c.roles],
    attributes: { ...c.attributes },
    keyHashes: c.keys.map((ref) => {
      const parsed = parseKeyRef(ref, deps.env)
      if (!parsed.ok) throw new GatewayError('config.compile', `consumer '${c.name}': ${parsed.message}`)
      return parsed.hash
    }),
  }))

  const tenancy = createTenancyView(config, { clock: deps.clock, previous: deps.previous?.tenancy })

  const upstreams = new Map<string, UpstreamGroup>()
  for (const [name, upstreamConfig] of Object.entries(config.upstreams)) {
    const old = deps.previous?.upstreams.get(name)
    upstreams.set(name, old && JSON.stringify(old.config) === JSON.stringify(upstreamConfig) ? old : new UpstreamGroup(name, upstreamConfig))
  }

  const providers = resolveProviders(config, deps.env)

  const ordered = [...policyList].sort((a, b) => a.order - b.order)
  const routes = config.routes.map((route): CompiledRoute => {
    let upstream: UpstreamGroup | undefined
    let ai: CompiledAiRoute | undefined
    if (route.kind === 'ai') {
      ai = compileAiRoute(route, providers, config.providers)
      upstream = aiStandIn(route.name, providers)
    } else {
      upstream = route.upstream === undefined ? undefined : upstreams.get(route.upstream)
      if (!upstream) throw new GatewayError('config.compile', `route '${route.name}' names unknown upstream '${route.upstream ?? ''}'`)
    }
    const layers: CompiledLayer[] = []
    let bodyLimitBytes = defaultBodyLimitBytes
    const policyConfigs = route.policies as Record<string, unknown>
    for (const policy of ordered) {
      const policyConfig = policyConfigs[policy.configKey]
      if (policyConfig === undefined) continue
      const evaluate = policy.compile(policyConfig, { clock: deps.clock, consumers, routeName: route.name, shared: deps.shared, env: deps.env, redisUrl: deps.dryRun ? undefined : config.redis, tenancy })
      layers.push({ name: policy.name, order: policy.order, evaluate, needsBody: policy.needsBody?.(policyConfig) ?? false })
      const limit = policy.bodyLimitBytes?.(policyConfig)
      if (limit !== undefined) bodyLimitBytes = limit
    }
    const methods = route.match.methods
    const optionsForPreflightOnly = methods !== undefined && !methods.includes('OPTIONS') && policyConfigs.cors !== undefined
    return { name: route.name, config: route, upstream, ai, stripPrefix: route.stripPrefix, layers, bodyLimitBytes, optionsForPreflightOnly }
  })

  const router = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 500 })
  const methodsByPath = new Map<string, Set<string>>()
  routes.forEach((route) => {
    const { methods, path, host } = route.config.match
    const opts = host ? { constraints: { host } } : {}
    const list = methods ? [...methods] : ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']
    if (methods?.includes('GET') && !methods.includes('HEAD')) list.push('HEAD')
    if (route.optionsForPreflightOnly) list.push('OPTIONS')
    const known = methodsByPath.get(path) ?? new Set<string>()
    methodsByPath.set(path, known)
    for (const method of list) {
      known.add(method)
      try {
        router.on(method as 'GET', path, opts, noop, route)
      } catch (error) {
        // Same method and path twice (e.g. a route without methods beside one with GET).
        if (methods === undefined) continue
        throw new GatewayError('config.compile', `route '${route.name}': ${(error as Error).message}`)
      }
    }
  })

  const knownMethods = [...new Set([...methodsByPath.values()].flatMap((set) => [...set]))]
  return {
    config,
    routes,
    upstreams,
    consumers,
    providers,
    resolveClientIp: createClientIpResolver([...config.trustedProxies]),
    tenancy,
    match(method, path, host) {
      const found = router.find(method as 'GET', path, { host })
      if (found) return { route: found.store as CompiledRoute, params: found.params as Record<string, string> }
      // Only on a miss: which methods would this path answer? (for 405 and its Allow header)
      const allowed = knownMethods.filter((m) => m !== method && router.find(m as 'GET', path, { host }) !== null)
      return { route: undefined, allowed }
    },
  }
}

/** The stand-in upstream of an ai route: its providers' URLs, never connected to. */
function aiStandIn(routeName: string, providers: ReadonlyMap<string, ResolvedProvider>): UpstreamGroup {
  const urls = [...new Set([...providers.values()].map((p) => p.url))]
  // An ai route on a config without providers is refused by the loader; the placeholder keeps compile total.
  return new UpstreamGroup(`ai:${routeName}`, UpstreamConfig.parse({ targets: urls.length > 0 ? urls : ['http://127.0.0.1:9'] }))
}

const noop: FindMyWay.Handler<FindMyWay.HTTPVersion.V1> = () => undefined
