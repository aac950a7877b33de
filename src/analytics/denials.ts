import type { AggregateDimension, AggregateRow, CallLogStore } from '../store/types.js'

/** Most buckets a report may have; a finer bucket over a long span is refused. */
export const maxReportBuckets = 1000
/** Groups and top reasons listed at most. */
const maxGroups = 100
const maxTop = 10

const unitMs = { s: 1e3, m: 6e4, h: 36e5, d: 864e5 } as const

/** `90s`, `15m`, `1h`, `7d` → milliseconds; undefined for anything else (bounded, at most 400 days). */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d{1,6})(s|m|h|d)$/.exec(text)
  if (!match) return undefined
  const ms = Number(match[1]) * unitMs[match[2] as keyof typeof unitMs]
  return ms > 0 && ms <= 400 * unitMs.d ? ms : undefined
}

/** What a denial report covers. */
export interface DenialReportOptions {
  /** End of the span (exclusive), epoch ms; usually now. */
  until: number
  /** Length of the span in ms; the previous period is the same length just before it. */
  spanMs: number
  /** Width of each bucket in ms. */
  bucketMs: number
  /** Dimension of `groups`. */
  by: AggregateDimension
  route?: string
  consumer?: string
  /** Set for tenant admins: every number is about this tenant's calls only. */
  tenant?: string
}

/** Counts of one bucket. `rate` is denied / total (0 without traffic). */
export interface DenialBucket {
  start: string
  total: number
  denied: number
  status: { 401: number; 403: number; 429: number }
  rate: number
}

/** One value of the `by` dimension now and in the previous period. */
export interface DenialGroup {
  /** The dimension's value; null for calls without one (no route matched, anonymous, ...). */
  key: string | null
  total: number
  denied: number
  rate: number
  previous: { total: number; denied: number; rate: number }
  /** `rate - previous.rate` (a difference of fractions); null when the previous period had no calls. */
  change: number | null
  /** Denials per bucket, aligned with the report's `buckets` (for stacked charts). */
  buckets: number[]
}

/** The answer of `GET /api/analytics/denials`. */
export interface DenialReport {
  since: string
  until: string
  bucketMs: number
  by: AggregateDimension
  buckets: DenialBucket[]
  groups: DenialGroup[]
  /** Most frequent denying layer and rule in the span. */
  top: { layer: string; rule: string | null; count: number }[]
}

/** Adds a row's counts into the row kept under `key` (a copy, so store rows are not changed). */
function addInto<K>(map: Map<K, AggregateRow>, key: K, row: AggregateRow): void {
  const sum = map.get(key)
  if (!sum) {
    map.set(key, { ...row })
    return
  }
  sum.total += row.total
  sum.denied += row.denied
  sum.status401 += row.status401
  sum.status403 += row.status403
  sum.status429 += row.status429
  sum.status5xx += row.status5xx
}

function rateOf(denied: number, total: number): number {
  return total === 0 ? 0 : Math.round((denied / total) * 10_000) / 10_000
}

/**
 * Builds a denial report from three aggregate queries: buckets by group now, groups in the
 * previous period, and the top layer/rule pairs among denials. A denial is a 401, 403 or 429
 * (the gateway's own refusals and an upstream's own 403 alike).
 */
export async function buildDenialReport(store: CallLogStore, options: DenialReportOptions): Promise<DenialReport> {
  if (!store.aggregate) throw new Error('this call log cannot aggregate')
  const until = Math.trunc(options.until)
  const since = until - options.spanMs
  const filters = { route: options.route, consumer: options.consumer, tenant: options.tenant }
  const spanBucket = Math.max(1, options.spanMs)
  // Buckets and current groups come from one scan grouped by bucket and key: on SQLite these
  // reads run on the event loop, so each scan saved is time the gateway is not answering.
  const [perBucketAndKey, before, reasons] = await Promise.all([
    store.aggregate({ since, until, bucketMs: options.bucketMs, by: [options.by], ...filters }),
    store.aggregate({ since: since - options.spanMs, until: since, bucketMs: spanBucket, by: [options.by], ...filters }),
    store.aggregate({ since, until, bucketMs: spanBucket, by: ['layer', 'rule'], deniedOnly: true, ...filters }),
  ])
  const byStart = new Map<number, AggregateRow>()
  const current = new Map<string | null, AggregateRow>()
  const bucketCount = Math.ceil(options.spanMs / options.bucketMs)
  const series = new Map<string | null, number[]>()
  for (const row of perBucketAndKey) {
    addInto(byStart, row.bucket, row)
    addInto(current, row.keys[0], row)
    const counts = series.get(row.keys[0]) ?? new Array<number>(bucketCount).fill(0)
    counts[Math.floor((row.bucket - since) / options.bucketMs)] += row.denied
    series.set(row.keys[0], counts)
  }

  const buckets: DenialBucket[] = []
  // Every bucket is listed, empty ones too, so a chart needs no gap filling.
  for (let start = since; start < until; start += options.bucketMs) {
    const row = byStart.get(start)
    buckets.push({
      start: new Date(start).toISOString(),
      total: row?.total ?? 0,
      denied: row?.denied ?? 0,
      status: { 401: row?.status401 ?? 0, 403: row?.status403 ?? 0, 429: row?.status429 ?? 0 },
      rate: rateOf(row?.denied ?? 0, row?.total ?? 0),
    })
  }

  const previous = new Map<string | null, AggregateRow>(before.map((row) => [row.keys[0], row]))
  // Keys seen only in the previous period are listed too: traffic that stopped is news.
  const keys = new Set<string | null>([...current.keys(), ...previous.keys()])
  const groups = [...keys]
    .map((key): DenialGroup => {
      const row = current.get(key) ?? { keys: [key], total: 0, denied: 0 }
      const prior = previous.get(key)
      const rate = rateOf(row.denied, row.total)
      const previousRate = rateOf(prior?.denied ?? 0, prior?.total ?? 0)
      return {
        key: row.keys[0],
        total: row.total,
        denied: row.denied,
        rate,
        previous: { total: prior?.total ?? 0, denied: prior?.denied ?? 0, rate: previousRate },
        change: prior && prior.total > 0 ? Math.round((rate - previousRate) * 10_000) / 10_000 : null,
        buckets: series.get(key) ?? new Array<number>(bucketCount).fill(0),
      }
    })
    .sort((a, b) => b.denied - a.denied || b.total - a.total || String(a.key).localeCompare(String(b.key)))
    .slice(0, maxGroups)

  const top = reasons
    .map((row) => ({ layer: row.keys[0] ?? 'unknown', rule: row.keys[1], count: row.denied }))
    .sort((a, b) => b.count - a.count || a.layer.localeCompare(b.layer) || String(a.rule).localeCompare(String(b.rule)))
    .slice(0, maxTop)

  return { since: new Date(since).toISOString(), until: new Date(until).toISOString(), bucketMs: options.bucketMs, by: options.by, buckets, groups, top }
}
