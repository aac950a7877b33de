import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CallRecord } from '../store/types.js'
import type { MetricsConfig } from './schema.js'
import type { z } from 'zod'

/** The gateway's Prometheus metrics, fed one CallRecord at a time. */
export interface GatewayMetrics {
  /** Counts and times one recorded call. */
  observe(record: CallRecord): void
  /** Sets `gatehouse_upstream_target_healthy` for one target. */
  setUpstreamHealth(upstream: string, target: string, healthy: boolean): void
  /** Prometheus text exposition and its content type. */
  render(): Promise<{ contentType: string; body: string }>
  /** How many label-bound children are cached, per metric (for tests and debugging). */
  cachedChildren(): Record<string, number>
  readonly registry: Registry
}

// Separator that cannot appear in a method, status, layer or rule, and is unlikely in a route name.
const SEP = '\u0001'

// Methods outside the registered set collapse to one value: clients choose the method, and a label they control must stay bounded.
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'])

/** The request method as a bounded label value: the method itself when standard, else `_OTHER` (as OpenTelemetry spells it). */
export function methodLabel(method: string): string {
  return knownMethods.has(method) ? method : '_OTHER'
}

const statusClasses = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const

/** `2xx`.. `5xx` for an upstream status, `none` when the upstream never answered. */
export function statusClassLabel(status: number | null): string {
  if (status === null || status < 100 || status > 599) return statusClasses[0]
  return statusClasses[Math.floor(status / 100)]
}

// Upstream statuses are three digits but any of 100..999 can arrive; cache the strings for the usual ones.
const statusStrings: string[] = []
for (let s = 100; s < 600; s++) statusStrings[s] = String(s)
function statusLabel(status: number): string {
  return statusStrings[status] ?? String(status)
}

/**
 * A denial is the gateway's own refusal: a 4xx/5xx it decided. Excluded: allowed calls,
 * clients that hung up (499), and statuses the upstream answered itself (passed through, so
 * `upstreamStatus` is set), while a 502/503/504 the gateway answered for a dead upstream counts.
 */
export function isGatewayDenial(record: CallRecord): boolean {
  if (record.status < 400) return false
  if (record.decision === 'allow' || record.decision === 'client-closed') return false
  if (record.decision === 'upstream' && record.upstreamStatus !== null) return false
  return true
}

/**
 * Caches the child a metric binds to one label tuple, so a request after the first with the
 * same labels costs one string key and one Map lookup instead of a label object and prom-client's
 * own hashing. Label values are bounded by config and by `methodLabel`/status ranges, so the
 * cache is bounded too.
 */
class ChildCache<C> {
  readonly children = new Map<string, C>()
  constructor(private readonly bind: (...values: string[]) => C) {}

  get2(a: string, b: string): C {
    const key = a + SEP + b
    let child = this.children.get(key)
    if (child === undefined) {
      child = this.bind(a, b)
      this.children.set(key, child)
    }
    return child
  }

  get4(a: string, b: string, c: string, d: string): C {
    const key = a + SEP + b + SEP + c + SEP + d
    let child = this.children.get(key)
    if (child === undefined) {
      child = this.bind(a, b, c, d)
      this.children.set(key, child)
    }
    return child
  }

  get6(a: string, b: string, c: string, d: string, e: string, f: string): C {
    const key = a + SEP + b + SEP + c + SEP + d + SEP + e + SEP + f
    let child = this.children.get(key)
    if (child === undefined) {
      child = this.bind(a, b, c, d, e, f)
      this.children.set(key, child)
    }
    return child
  }
}

let sharedProcessRegistry: Registry | undefined

/**
 * Process metrics describe the process, not a gateway, and collecting them installs a GC
 * observer and an event-loop monitor; so one registry per process serves every gateway
 * instead of each new instance (a test, a restart inside the process) adding observers.
 */
function processRegistry(): Registry {
  if (!sharedProcessRegistry) {
    sharedProcessRegistry = new Registry()
    collectDefaultMetrics({ register: sharedProcessRegistry })
  }
  return sharedProcessRegistry
}

/**
 * Builds a private registry (never prom-client's global one, so two gateways in one process or
 * one test file do not collide) with the gateway's metrics. Absent route and rule are the empty
 * label value, which Prometheus treats as "label not set".
 */
export function createGatewayMetrics(config: z.output<typeof MetricsConfig>): GatewayMetrics {
  const registry = new Registry()
  const processMetrics = config.enabled && config.processMetrics ? processRegistry() : undefined
  const registers = config.enabled ? [registry] : []

  const requests = new Counter({
    name: 'gatehouse_requests_total',
    help: 'Requests handled, by route, method, status sent to the client, decision (allow, upstream, client-closed or the denying layer), deciding layer and rule.',
    labelNames: ['route', 'method', 'status', 'decision', 'layer', 'rule'] as const,
    registers,
  })
  const denials = new Counter({
    name: 'gatehouse_denials_total',
    help: 'Requests the gateway itself refused (status 400 or more decided by a policy or the gateway, not passed through from the upstream), by route, layer, rule and status.',
    labelNames: ['route', 'layer', 'rule', 'status'] as const,
    registers,
  })
  const requestDuration = new Histogram({
    name: 'gatehouse_request_duration_seconds',
    help: 'Time from the request arriving to the call being recorded, in seconds, by route and decision.',
    labelNames: ['route', 'decision'] as const,
    buckets: config.durationBuckets,
    registers,
  })
  const upstreamDuration = new Histogram({
    name: 'gatehouse_upstream_duration_seconds',
    help: 'Time the upstream took to answer, in seconds, by route and upstream status class (2xx..5xx, or none when it never answered).',
    labelNames: ['route', 'upstream_status_class'] as const,
    buckets: config.durationBuckets,
    registers,
  })
  const upstreamHealthy = new Gauge({
    name: 'gatehouse_upstream_target_healthy',
    help: 'Whether the gateway considers an upstream target healthy (1) or not (0).',
    labelNames: ['upstream', 'target'] as const,
    registers,
  })

  const requestChildren = new ChildCache((...v) => requests.labels(...v))
  const denialChildren = new ChildCache((...v) => denials.labels(...v))
  const durationChildren = new ChildCache((...v) => requestDuration.labels(...v))
  const upstreamChildren = new ChildCache((...v) => upstreamDuration.labels(...v))
  const healthChildren = new ChildCache((...v) => upstreamHealthy.labels(...v))

  function observe(record: CallRecord): void {
    if (!config.enabled) return
    const route = record.route ?? ''
    const rule = record.rule ?? ''
    const status = statusLabel(record.status)
    requestChildren.get6(route, methodLabel(record.method), status, record.decision, record.layer, rule).inc()
    if (isGatewayDenial(record)) denialChildren.get4(route, record.layer, rule, status).inc()
    durationChildren.get2(route, record.decision).observe(record.totalMs / 1000)
    if (record.upstreamMs !== null) upstreamChildren.get2(route, statusClassLabel(record.upstreamStatus)).observe(record.upstreamMs / 1000)
  }

  return {
    registry,
    observe,
    setUpstreamHealth(upstream, target, healthy) {
      if (!config.enabled) return
      healthChildren.get2(upstream, target).set(healthy ? 1 : 0)
    },
    async render() {
      const own = await registry.metrics()
      if (!processMetrics) return { contentType: registry.contentType, body: own }
      return { contentType: registry.contentType, body: `${await processMetrics.metrics()}\n${own}` }
    },
    cachedChildren() {
      return {
        gatehouse_requests_total: requestChildren.children.size,
        gatehouse_denials_total: denialChildren.children.size,
        gatehouse_request_duration_seconds: durationChildren.children.size,
        gatehouse_upstream_duration_seconds: upstreamChildren.children.size,
        gatehouse_upstream_target_healthy: healthChildren.children.size,
      }
    },
  }
}
