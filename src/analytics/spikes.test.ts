import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../store/sqlite.js'
import type { AggregateRow, CallLogStore, CallRecord } from '../store/types.js'
import { fakeClock } from '../testing/fake-clock.js'
import { startUpstream, type TestUpstream } from '../testing/start-upstream.js'
import { startDenialAlerts, tenantOfRoute, type AlertsConfig } from './alerts.js'
import { findSpikes } from './spikes.js'

const windowMs = 300_000
const settings = { windowMs, baselineWindows: 12, minDenials: 20, sensitivity: 3 }
const since = Date.UTC(2026, 0, 1)

/** Aggregate rows of one route+layer: `denied[i]` of `totals[i]` in window i (the last is current). */
function series(route: string, layer: string, totals: number[], denied: number[]): AggregateRow[] {
  return totals.flatMap((total, i) => [
    { bucket: since + i * windowMs, keys: [route, layer], total: denied[i], denied: denied[i], status401: 0, status403: denied[i], status429: 0, status5xx: 0 },
    { bucket: since + i * windowMs, keys: [route, 'upstream'], total: total - denied[i], denied: 0, status401: 0, status403: 0, status429: 0, status5xx: 0 },
  ])
}

describe('findSpikes', () => {
  it('reports a denial rate far above a steady baseline', () => {
    const rows = series('orders', 'authz', Array(13).fill(100), [...Array(12).fill(5), 40])
    expect(findSpikes(rows, since, settings)).toEqual([{ route: 'orders', layer: 'authz', count: 40, total: 100, rate: 0.4, baseline: 0.05, mad: 0, threshold: 0.11 }])
  })

  it('does not report a traffic surge whose denial rate is unchanged', () => {
    const rows = series('orders', 'authz', [...Array(12).fill(100), 1000], [...Array(12).fill(10), 100])
    expect(findSpikes(rows, since, settings)).toEqual([])
  })

  it('needs at least minDenials denials in the window', () => {
    const rows = series('orders', 'authz', Array(13).fill(20), [...Array(12).fill(0), 19])
    expect(findSpikes(rows, since, settings)).toEqual([])
    expect(findSpikes(rows, since, { ...settings, minDenials: 19 })).toHaveLength(1)
  })

  it('keeps the bar low after one earlier spike, because the baseline is a median', () => {
    const denied = [5, 6, 4, 5, 90, 5, 6, 4, 5, 5, 6, 4, 40]
    const [spike] = findSpikes(series('orders', 'authz', Array(13).fill(100), denied), since, settings)
    expect(spike.baseline).toBe(0.05)
    expect(spike.threshold).toBeLessThan(0.15)
  })

  it('raises the bar for a noisy baseline', () => {
    const denied = [5, 25, 10, 30, 5, 20, 15, 35, 10, 25, 5, 30, 40]
    expect(findSpikes(series('orders', 'authz', Array(13).fill(100), denied), since, settings)).toEqual([])
    expect(findSpikes(series('orders', 'authz', Array(13).fill(100), denied), since, { ...settings, sensitivity: 1 })).toHaveLength(1)
  })

  it('treats a route with no earlier traffic as a zero baseline', () => {
    const rows = series('new', 'waf', [...Array(12).fill(0), 50], [...Array(12).fill(0), 30])
    expect(findSpikes(rows, since, settings)).toMatchObject([{ route: 'new', layer: 'waf', baseline: 0, rate: 0.6 }])
  })
})

function call(i: number, time: number, route: string, status: number, layer: string, rule: string | null): CallRecord {
  return {
    time, requestId: `01JSPIKE${String(i).padStart(8, '0')}`, traceId: `t${i}`, route, consumer: 'acme-app', tenant: 'acme',
    method: 'GET', path: `/${route}`, status, decision: status < 400 ? 'allow' : layer, layer, rule,
    upstreamStatus: status < 400 ? 200 : null, upstreamMs: null, totalMs: 1, requestBytes: 0, responseBytes: 0,
    clientIp: '127.0.0.1', upstreamTarget: null, trail: [], denial: null,
  }
}

describe('the denial-spike checker on a real SQLite call log', () => {
  let dir: string
  let store: CallLogStore
  let receiver: TestUpstream
  let n = 0
  const clock = fakeClock(Date.UTC(2026, 0, 1, 12))

  /** One window of traffic, then the clock moves on: per route, `denials` of `total` calls denied by `layer`. */
  function logWindow(...traffic: [route: string, total: number, denials: number, rule?: string, layer?: string][]): void {
    const start = clock.now()
    for (const [route, total, denials, rule = 'missing-scope', layer = 'authz'] of traffic) {
      for (let i = 0; i < total; i++) {
        const time = start + Math.floor((i * windowMs) / total)
        store.append(i < denials ? call(n++, time, route, layer === 'rate-limit' ? 429 : 403, layer, rule) : call(n++, time, route, 200, 'upstream', null))
      }
    }
    clock.advance(windowMs)
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-spikes-'))
    store = createSqliteStore(join(dir, 'calls.db'), { batchMs: 5 })
    receiver = await startUpstream((_req, res) => { res.statusCode = 202; res.end() })
  })

  afterEach(async () => {
    await store.close()
    await receiver.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function config(overrides: Partial<AlertsConfig> = {}): AlertsConfig {
    return { webhooks: [`${receiver.url}/alerts`], windowSeconds: 300, baselineWindows: 12, checkIntervalSeconds: 60, minDenials: 20, sensitivity: 3, ...overrides }
  }

  it('alerts once when a spike starts, POSTs it to the webhook, and again after it ended', async () => {
    // users is denied half the time, always: high but steady, so never a spike.
    for (let w = 0; w < 12; w++) logWindow(['orders', 100, 5], ['users', 50, 25, 'exceeded', 'rate-limit'])
    logWindow(['orders', 100, 40, 'missing-scope'], ['users', 50, 25, 'exceeded', 'rate-limit'])
    await store.flush()
    const alerts = startDenialAlerts({ store, config: () => config(), clock, schedule: false, tenantOf: (route) => tenantOfRoute({ apis: [{ tenant: 'acme', routes: ['users', 'orders'] }] }, route) })

    const [alert, ...others] = await alerts.check()
    expect(others).toEqual([])
    expect(alert).toMatchObject({ type: 'gatehouse.denial-spike', route: 'orders', layer: 'authz', rule: 'missing-scope', tenant: 'acme', window: 300, count: 40, total: 100, rate: 0.4, baseline: 0.05 })
    expect(tenantOfRoute({ apis: [] }, 'orders')).toBeNull()
    expect(alert.since).toBe(new Date(clock.now() - windowMs).toISOString())
    expect(alert.requestIds).toHaveLength(5)
    for (const id of alert.requestIds) expect((await store.get(id))?.status).toBe(403)
    expect(alert.deliveries).toEqual([{ url: `${receiver.url}/alerts`, ok: true, attempts: 1, status: 202, error: null }])
    const posted = JSON.parse(receiver.requests[0].body.toString('utf8')) as Record<string, unknown>
    expect(posted).toMatchObject({ type: 'gatehouse.denial-spike', route: 'orders', layer: 'authz', rule: 'missing-scope', count: 40, rate: 0.4, baseline: 0.05, requestIds: alert.requestIds })
    expect(posted).not.toHaveProperty('deliveries')

    // Still spiking a minute later: remembered, not re-sent.
    clock.advance(60_000)
    expect(await alerts.check()).toEqual([])
    expect(receiver.requests).toHaveLength(1)

    // Back to normal, then a new spike: a new alert.
    clock.advance(-60_000)
    logWindow(['orders', 100, 5])
    await store.flush()
    expect(await alerts.check()).toEqual([])
    logWindow(['orders', 100, 60, 'scope-missing'])
    await store.flush()
    const [second] = await alerts.check()
    expect(second).toMatchObject({ route: 'orders', count: 60, rule: 'scope-missing' })
    expect(alerts.alerts().map((a) => a.count)).toEqual([60, 40])
    expect(receiver.requests).toHaveLength(2)
    await alerts.stop()
  })

  it('keeps the alert when the webhook keeps failing, and records the attempts', async () => {
    await receiver.close()
    receiver = await startUpstream((_req, res) => { res.statusCode = 500; res.end() })
    for (let w = 0; w < 12; w++) logWindow(['orders', 40, 1])
    logWindow(['orders', 40, 30])
    await store.flush()
    const alerts = startDenialAlerts({ store, config: () => config(), clock, schedule: false, webhook: { maxAttempts: 3, sleep: () => Promise.resolve() } })
    const [alert] = await alerts.check()
    expect(alert.deliveries).toEqual([{ url: `${receiver.url}/alerts`, ok: false, attempts: 3, status: 500, error: 'answered 500' }])
    expect(receiver.requests).toHaveLength(3)
    expect(alerts.alerts()).toHaveLength(1)
    await alerts.stop()
  })

  it('does nothing while alerts are not configured, and keeps a bounded memory', async () => {
    for (let w = 0; w < 12; w++) logWindow(['orders', 40, 0])
    logWindow(['orders', 40, 30])
    await store.flush()
    let current: AlertsConfig | undefined
    const alerts = startDenialAlerts({ store, config: () => current, clock, schedule: false, maxAlerts: 1 })
    expect(await alerts.check()).toEqual([])
    current = config({ webhooks: [] })
    expect(await alerts.check()).toHaveLength(1)
    expect(alerts.alerts()).toHaveLength(1)
    await alerts.stop()
    expect(await alerts.check()).toEqual([])
  })
})
