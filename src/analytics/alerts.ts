import type { GatehouseConfig } from '../config/schema.js'
import { systemClock, type Clock } from '../core/clock.js'
import type { Logger } from '../core/logger.js'
import type { CallLogStore } from '../store/types.js'
import { findSpikes } from './spikes.js'
import { deliverWebhook, type WebhookDelivery, type WebhookOptions } from './webhook.js'

/** The `alerts:` config block. */
export type AlertsConfig = NonNullable<GatehouseConfig['alerts']>

/** One denial spike, as POSTed to webhooks and listed by `GET /api/analytics/alerts`. */
export interface DenialAlert {
  type: 'gatehouse.denial-spike'
  /** Unique per process: `<detectedAt ms>-<sequence>`. */
  id: string
  route: string | null
  layer: string
  /** Most frequent rule among the sampled denials. */
  rule: string | null
  /** Tenant owning the route (through `apis:`), null when none does. */
  tenant: string | null
  /** Window length in seconds. */
  window: number
  count: number
  total: number
  rate: number
  /** Median denial rate of the baseline windows. */
  baseline: number
  threshold: number
  /** ISO start of the window in which the spike began. */
  since: string
  detectedAt: string
  /** A few request ids of the spike's denials, for `gatehouse why`. */
  requestIds: string[]
  /** Per webhook; filled in as deliveries finish. */
  deliveries: WebhookDelivery[]
}

export interface DenialAlertsOptions {
  store: CallLogStore
  /** Read at every check, so a config reload applies; undefined turns checking off. */
  config(): AlertsConfig | undefined
  /** The tenant owning a route, for tenant-admin scoping of alerts. */
  tenantOf?(route: string | null): string | null
  clock?: Clock
  logger?: Logger
  /** Retry policy of webhook POSTs. */
  webhook?: WebhookOptions
  /** Alerts kept in memory, newest first. Default 200. */
  maxAlerts?: number
  /** Start the background timer. Default true; tests call `check()` themselves. */
  schedule?: boolean
}

/** The running spike checker. */
export interface DenialAlerts {
  /** Runs one check now; resolves with the alerts it raised once their webhooks are done. */
  check(): Promise<DenialAlert[]>
  /** Remembered alerts, newest first. */
  alerts(): DenialAlert[]
  /** Stops the timer, cancels webhook retries, and waits for work in progress. */
  stop(): Promise<void>
}

const sampleSize = 5

/**
 * Starts the denial-spike checker: every `checkIntervalSeconds` it aggregates the call log by
 * route and layer over the current window and `baselineWindows` before it (see `findSpikes`),
 * and for each route+layer whose spike *starts* (it was not spiking at the previous check)
 * remembers an alert and POSTs it to every webhook. A spike that continues is not re-sent;
 * once its rate falls back under the threshold, a later rise alerts again.
 * Failures to read the store are logged and retried at the next check.
 */
export function startDenialAlerts(options: DenialAlertsOptions): DenialAlerts {
  const clock = options.clock ?? systemClock
  const maxAlerts = Math.max(1, options.maxAlerts ?? 200)
  const remembered: DenialAlert[] = []
  const active = new Set<string>()
  const pending = new Set<Promise<unknown>>()
  const cancel = new AbortController()
  let sequence = 0
  let timer: NodeJS.Timeout | undefined
  let running: Promise<DenialAlert[]> | undefined
  let isStopped = false

  async function runCheck(): Promise<DenialAlert[]> {
    const config = options.config()
    const aggregate = options.store.aggregate?.bind(options.store)
    if (!config || !aggregate) return []
    const windowMs = config.windowSeconds * 1000
    const now = clock.now()
    const since = now - (config.baselineWindows + 1) * windowMs
    const rows = await aggregate({ since, until: now, bucketMs: windowMs, by: ['route', 'layer'] })
    const spikes = findSpikes(rows, since, { windowMs, baselineWindows: config.baselineWindows, minDenials: config.minDenials, sensitivity: config.sensitivity })
    const spiking = new Set(spikes.map((s) => `${s.route ?? ''}\u0000${s.layer}`))
    for (const key of active) if (!spiking.has(key)) active.delete(key)
    const raised: DenialAlert[] = []
    const windowStart = now - windowMs
    for (const spike of spikes) {
      const key = `${spike.route ?? ''}\u0000${spike.layer}`
      if (active.has(key)) continue
      active.add(key)
      const sample = (await options.store.query({ route: spike.route ?? undefined, layer: spike.layer, denied: true, since: windowStart, until: now, limit: 200 }))
        .filter((call) => call.route === spike.route && (call.status === 401 || call.status === 403 || call.status === 429))
      const alert: DenialAlert = {
        type: 'gatehouse.denial-spike',
        id: `${now}-${++sequence}`,
        route: spike.route,
        layer: spike.layer,
        rule: mostCommon(sample.map((call) => call.rule)),
        tenant: options.tenantOf?.(spike.route) ?? null,
        window: config.windowSeconds,
        count: spike.count,
        total: spike.total,
        rate: spike.rate,
        baseline: spike.baseline,
        threshold: spike.threshold,
        since: new Date(windowStart).toISOString(),
        detectedAt: new Date(now).toISOString(),
        requestIds: sample.slice(0, sampleSize).map((call) => call.requestId),
        deliveries: [],
      }
      remembered.unshift(alert)
      if (remembered.length > maxAlerts) remembered.length = maxAlerts
      options.logger?.warn({ alert: { route: alert.route, layer: alert.layer, rule: alert.rule, count: alert.count, rate: alert.rate, baseline: alert.baseline } }, 'denial spike')
      raised.push(alert)
    }
    await Promise.all(raised.map((alert) => deliver(alert, config.webhooks)))
    return raised
  }

  async function deliver(alert: DenialAlert, webhooks: string[]): Promise<void> {
    const { deliveries: _own, ...payload } = alert
    const work = Promise.all(webhooks.map(async (url) => {
      const delivery = await deliverWebhook(url, payload, { ...options.webhook, signal: cancel.signal })
      alert.deliveries.push(delivery)
      if (!delivery.ok) options.logger?.warn({ webhook: url, attempts: delivery.attempts, error: delivery.error }, 'denial alert webhook failed')
    }))
    pending.add(work)
    try {
      await work
    } finally {
      pending.delete(work)
    }
  }

  function check(): Promise<DenialAlert[]> {
    if (isStopped) return Promise.resolve([])
    // One check at a time: a slow store must not pile checks up.
    running ??= runCheck().finally(() => { running = undefined })
    return running
  }

  function scheduleNext(): void {
    if (isStopped) return
    const seconds = options.config()?.checkIntervalSeconds ?? 60
    timer = setTimeout(() => {
      check()
        .catch((error: unknown) => options.logger?.warn({ err: error }, 'denial spike check failed; will retry'))
        .finally(scheduleNext)
    }, seconds * 1000)
    timer.unref()
  }

  if (options.schedule !== false) scheduleNext()

  return {
    check,
    alerts: () => [...remembered],
    async stop() {
      isStopped = true
      clearTimeout(timer)
      cancel.abort()
      await running?.catch(() => undefined)
      await Promise.all([...pending])
    },
  }
}

function mostCommon(values: (string | null)[]): string | null {
  const counts = new Map<string | null, number>()
  let best: string | null = null
  let bestCount = 0
  for (const value of values) {
    const count = (counts.get(value) ?? 0) + 1
    counts.set(value, count)
    if (count > bestCount) {
      best = value
      bestCount = count
    }
  }
  return best
}

/** The tenant whose API (under `apis:`) holds the route, or null. */
export function tenantOfRoute(config: { apis: readonly { tenant: string; routes: readonly string[] }[] }, route: string | null): string | null {
  if (route === null) return null
  return config.apis.find((api) => api.routes.includes(route))?.tenant ?? null
}
