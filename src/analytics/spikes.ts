import type { AggregateRow } from '../store/types.js'

/** The knobs of spike detection (from the `alerts:` config). */
export interface SpikeSettings {
  windowMs: number
  /** Windows before the current one that make the baseline. */
  baselineWindows: number
  /** Fewest denials in the current window for a spike. */
  minDenials: number
  /** Scaled MADs above the median the rate must exceed. */
  sensitivity: number
}

/** A route and layer whose denial rate in the current window is far above its baseline. */
export interface Spike {
  route: string | null
  layer: string
  /** 401/403/429 answers of this layer on this route in the current window. */
  count: number
  /** All calls to the route in the current window. */
  total: number
  rate: number
  /** Median denial rate of the baseline windows that had traffic (0 when none had). */
  baseline: number
  /** Scaled median absolute deviation of those rates. */
  mad: number
  /** The rate the current one had to exceed. */
  threshold: number
}

/** Smallest spread used in the threshold: a perfectly flat baseline must not make 1 % noise a spike. */
export const minSpread = 0.02
/** Scales a MAD to estimate a standard deviation for normally distributed data. */
const madScale = 1.4826

function median(values: number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Finds spikes in rows aggregated by `['route', 'layer']` with `bucketMs = windowMs` from
 * `since = now - (baselineWindows + 1) * windowMs`: bucket `baselineWindows` is the current
 * window, the ones before it the baseline.
 *
 * For each route and layer, the rate is that layer's 401/403/429 answers over all the route's
 * calls in the window, so a traffic surge alone is not a spike. The baseline is the median of
 * the rates of the baseline windows that had traffic, and the spread is the median absolute
 * deviation scaled by 1.4826 (robust: one earlier spike does not raise the bar), at least
 * `minSpread`. A spike needs `count >= minDenials` and `rate > median + sensitivity * spread`.
 */
export function findSpikes(rows: AggregateRow[], since: number, settings: SpikeSettings): Spike[] {
  const windows = settings.baselineWindows + 1
  const routeTotals = new Map<string | null, number[]>()
  const layerDenials = new Map<string, { route: string | null; layer: string; denied: number[] }>()
  for (const row of rows) {
    const index = Math.round((row.bucket - since) / settings.windowMs)
    if (index < 0 || index >= windows) continue
    const route = row.keys[0]
    const layer = row.keys[1] ?? 'unknown'
    let totals = routeTotals.get(route)
    if (!totals) routeTotals.set(route, (totals = new Array<number>(windows).fill(0)))
    totals[index] += row.total
    if (row.denied === 0) continue
    const key = `${route ?? ''}\u0000${layer}`
    let entry = layerDenials.get(key)
    if (!entry) layerDenials.set(key, (entry = { route, layer, denied: new Array<number>(windows).fill(0) }))
    entry.denied[index] += row.denied
  }

  const spikes: Spike[] = []
  const current = windows - 1
  for (const { route, layer, denied } of layerDenials.values()) {
    const totals = routeTotals.get(route) ?? []
    const count = denied[current]
    const total = totals[current] ?? 0
    if (count < settings.minDenials || total === 0) continue
    const rate = count / total
    const rates: number[] = []
    for (let i = 0; i < current; i++) if (totals[i] > 0) rates.push(denied[i] / totals[i])
    const baseline = median(rates)
    const mad = madScale * median(rates.map((r) => Math.abs(r - baseline)))
    const threshold = baseline + settings.sensitivity * Math.max(mad, minSpread)
    if (rate > threshold) spikes.push({ route, layer, count, total, rate: round(rate), baseline: round(baseline), mad: round(mad), threshold: round(threshold) })
  }
  return spikes.sort((a, b) => b.count - a.count)
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000
}
