import type { AggregateDimension, AggregateQuery, AggregateRow } from './types.js'

/** Columns `aggregate` may group by. SQL text only ever holds names from this list. */
export const aggregateDimensions: readonly AggregateDimension[] = ['route', 'consumer', 'tenant', 'layer', 'rule']

/** Most buckets one aggregate may produce per group; beyond it the query is refused. */
export const maxAggregateBuckets = 10_000

/** A validated aggregate query: integer bounds, a bucket width of at least 1 ms, known columns. */
export interface CheckedAggregateQuery extends AggregateQuery {
  by: AggregateDimension[]
}

/**
 * Checks an aggregate query before it becomes SQL: integer times, a positive bucket, at most
 * two known dimensions, and no more than `maxAggregateBuckets` buckets. Throws RangeError (a bug
 * in the caller: the admin API validates user input before this).
 */
export function checkAggregateQuery(query: AggregateQuery): CheckedAggregateQuery {
  const since = Math.trunc(query.since)
  const until = Math.trunc(query.until)
  const bucketMs = Math.trunc(query.bucketMs)
  const by = query.by ?? []
  if (!Number.isFinite(since) || !Number.isFinite(until)) throw new RangeError('aggregate: since and until must be finite')
  if (!Number.isFinite(bucketMs) || bucketMs < 1) throw new RangeError('aggregate: bucketMs must be at least 1')
  if (until > since && (until - since) / bucketMs > maxAggregateBuckets) throw new RangeError(`aggregate: more than ${maxAggregateBuckets} buckets`)
  if (by.length > 2 || by.some((d) => !aggregateDimensions.includes(d)) || new Set(by).size !== by.length) {
    throw new RangeError(`aggregate: by must be up to two distinct of ${aggregateDimensions.join(', ')}`)
  }
  return { ...query, since, until, bucketMs, by }
}

/** Orders rows by bucket, then keys (null first), so every store answers in the same order. */
export function sortAggregateRows(rows: AggregateRow[]): AggregateRow[] {
  return rows.sort((a, b) => {
    if (a.bucket !== b.bucket) return a.bucket - b.bucket
    for (let i = 0; i < a.keys.length; i++) {
      const x = a.keys[i]
      const y = b.keys[i]
      if (x === y) continue
      if (x === null) return -1
      if (y === null) return 1
      return x < y ? -1 : 1
    }
    return 0
  })
}

/** One GROUP BY row as both stores' SQL names its columns: bucket index, up to two keys, counts. */
export interface RawAggregateRow {
  b: number
  k0: string | null
  k1: string | null
  total: number
  denied: number
  s401: number
  s403: number
  s429: number
  s5xx: number
}

/** Turns raw GROUP BY rows into sorted AggregateRows (bucket index → bucket start time). */
export function toAggregateRows(rows: readonly RawAggregateRow[], since: number, width: number, dimensions: number): AggregateRow[] {
  return sortAggregateRows(rows.map((row) => ({
    bucket: since + row.b * width,
    keys: [row.k0, row.k1].slice(0, dimensions),
    total: row.total,
    denied: row.denied,
    status401: row.s401,
    status403: row.s403,
    status429: row.s429,
    status5xx: row.s5xx,
  })))
}
