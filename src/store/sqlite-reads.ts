import type Database from 'better-sqlite3'
import { checkAggregateQuery, toAggregateRows, type RawAggregateRow } from './aggregate.js'
import { rowToRecord, type CallRow } from './sqlite-schema.js'
import type { AggregateQuery, AggregateRow, CallQuery, CallRecord } from './types.js'

/** The call log's queries, synchronous, over a read-only connection (`prepared` caches statements). */
export interface SqliteReads {
  query(q: CallQuery): CallRecord[]
  get(requestId: string): CallRecord | null
  aggregate(q: AggregateQuery): AggregateRow[]
}

export function createSqliteReads(prepared: (sql: string) => Database.Statement): SqliteReads {
  function query(q: CallQuery): CallRecord[] {
    const where: string[] = []
    const params: Record<string, string | number> = {}
    if (q.denied) where.push('status >= 400')
    for (const key of ['route', 'consumer', 'tenant', 'layer'] as const) {
      const value = q[key]
      if (value !== undefined) {
        where.push(`${key} = @${key}`)
        params[key] = value
      }
    }
    if (q.status !== undefined) {
      where.push('status = @status')
      params.status = q.status
    }
    if (q.since !== undefined) {
      where.push('time >= @since')
      params.since = q.since
    }
    if (q.until !== undefined) {
      where.push('time < @until')
      params.until = q.until
    }
    params.limit = clampLimit(q.limit)
    const sql = `SELECT * FROM calls${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT @limit`
    const rows = prepared(sql).all(params) as CallRow[]
    return rows.map(rowToRecord)
  }

  function get(requestId: string): CallRecord | null {
    const id = requestId.trim()
    if (id.length === 0 || id.length > 4096) return null
    // ULIDs are upper case; people retype them in lower case.
    const candidates = id === id.toUpperCase() ? [id] : [id, id.toUpperCase()]
    for (const candidate of candidates) {
      const exact = prepared('SELECT * FROM calls WHERE request_id = ?').get(candidate) as CallRow | undefined
      if (exact) return rowToRecord(exact)
    }
    if (id.length < 8) return null
    for (const candidate of candidates) {
      // A range on the unique index instead of LIKE/GLOB: no wildcard escaping, and it uses the
      // index. U+10FFFF sorts after every character that can follow the prefix.
      const rows = prepared('SELECT * FROM calls WHERE request_id >= ? AND request_id < ? ORDER BY request_id LIMIT 2')
        .all(candidate, `${candidate}\u{10FFFF}`) as CallRow[]
      if (rows.length === 1) return rowToRecord(rows[0])
      if (rows.length > 1) return null
    }
    return null
  }

  function aggregate(q: AggregateQuery): AggregateRow[] {
    const { sql, params, width } = buildSqliteAggregate(q)
    if (width === 0) return []
    const rows = prepared(sql).all(params) as RawAggregateRow[]
    return toAggregateRows(rows, params.since as number, width, (q.by ?? []).length)
  }

  return { query, get, aggregate }
}


/**
 * One GROUP BY over `[since, until)`: the bucket is integer division of the offset from `since`
 * (cast, because better-sqlite3 binds JS numbers as REAL and the division would not truncate). The time range uses `calls_time`, or
 * `calls_route_time` / `calls_consumer_time` when a route or consumer is given.
 * `width` is 0 for an empty span (nothing to ask).
 */
function buildSqliteAggregate(query: AggregateQuery): { sql: string; params: Record<string, string | number>; width: number } {
  const q = checkAggregateQuery(query)
  const params: Record<string, string | number> = { since: q.since, until: q.until, bucket: q.bucketMs }
  const where = ['time >= @since', 'time < @until']
  if (q.deniedOnly) where.push('status IN (401, 403, 429)')
  for (const key of ['route', 'consumer', 'tenant', 'layer'] as const) {
    const value = q[key]
    if (value !== undefined) {
      where.push(`${key} = @${key}`)
      params[key] = value
    }
  }
  const keys = [q.by[0] ?? 'NULL', q.by[1] ?? 'NULL']
  const sql = `SELECT CAST(time - @since AS INTEGER) / CAST(@bucket AS INTEGER) AS b, ${keys[0]} AS k0, ${keys[1]} AS k1, COUNT(*) AS total,
    SUM(status IN (401, 403, 429)) AS denied, SUM(status = 401) AS s401, SUM(status = 403) AS s403,
    SUM(status = 429) AS s429, SUM(status >= 500 AND status < 600) AS s5xx
    FROM calls WHERE ${where.join(' AND ')} GROUP BY b${q.by.map((_, i) => `, k${i}`).join('')}`
  return { sql, params, width: q.until > q.since ? q.bucketMs : 0 }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 50
  return Math.min(1000, Math.max(1, Math.trunc(limit)))
}

