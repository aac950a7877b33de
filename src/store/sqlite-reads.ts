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
  let hasConsoleIndex: boolean | undefined
  // Looked up once: a log whose migrations predate `calls_console` keeps the planner's own choice.
  const consoleIndex = (): boolean =>
    (hasConsoleIndex ??= prepared("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'calls_console'").get() !== undefined)

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
    const sql = `SELECT * FROM calls${listIndex(q, params)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT @limit`
    const rows = prepared(sql).all(params) as CallRow[]
    return rows.map(rowToRecord)
  }

  /**
   * The index a call list walks, newest first; every choice stops after `limit` matches.
   * - No filter, or one route, consumer or status filter alone: the planner's choice
   *   (`calls_console` read by time, or that column's own index, where every entry is a match).
   * - Otherwise (denied, layer, tenant, several filters): `calls_console`, which checks every
   *   filter on the index entry and reads a row only when it matches, so a rare or impossible
   *   match costs one pass over the index rather than a read of every wide row — unless one of
   *   the filters is a route, consumer or status with few calls (a bounded count on its own
   *   index says so), whose own index then reads fewer rows than the pass would entries.
   * Named, not left to the planner: without statistics it takes any equality's index, and a
   * frequent value's (status 200, the busiest route) reads most of the table through it.
   */
  function listIndex(q: CallQuery, params: Record<string, string | number>): string {
    const own = ownIndexFilters.filter((key) => q[key] !== undefined)
    const others = (q.denied ? 1 : 0) + (q.tenant !== undefined ? 1 : 0) + (q.layer !== undefined ? 1 : 0)
    if (own.length + others === 0 || (own.length === 1 && others === 0) || !consoleIndex()) return ''
    if (own.length === 0) return ' INDEXED BY calls_console'
    // Two lookups at the ends of the rowid tree; `MAX(id) - MIN(id)` in one SELECT would scan it.
    const span = prepared('SELECT COALESCE((SELECT MAX(id) FROM calls) - (SELECT MIN(id) FROM calls) + 1, 0) AS n').get() as { n: number }
    const cap = Math.max(1000, Math.floor(span.n * ownIndexShare))
    let best: { key: string; count: number } | undefined
    for (const key of own) {
      const range = `${q.since !== undefined ? ' AND time >= @since' : ''}${q.until !== undefined ? ' AND time < @until' : ''}`
      const count = (prepared(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM calls INDEXED BY calls_${key}_time WHERE ${key} = @value${range} LIMIT @cap)`)
        .get({ value: params[key], cap, ...(q.since !== undefined ? { since: q.since } : {}), ...(q.until !== undefined ? { until: q.until } : {}) }) as { n: number }).n
      if (count < cap && (!best || count < best.count)) best = { key, count }
    }
    return ` INDEXED BY ${best ? `calls_${best.key}_time` : 'calls_console'}`
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
    const { sql, params, width } = buildSqliteAggregate(q, consoleIndex())
    if (width === 0) return []
    const rows = prepared(sql).all(params) as RawAggregateRow[]
    return toAggregateRows(rows, params.since as number, width, (q.by ?? []).length)
  }

  return { query, get, aggregate }
}

/** Filters with a `(column, time)` index of their own (migration 1) that gives their newest matches. */
const ownIndexFilters = ['route', 'consumer', 'status'] as const

/**
 * A value's own index is walked, row by row through the table, when it holds fewer than this
 * share of the log; otherwise `calls_console` is walked, checking the filters on the index entry.
 * Reading a wide row through an index costs about as much as passing 15–20 index entries.
 */
const ownIndexShare = 1 / 16

/**
 * One GROUP BY over `[since, until)`: the bucket is integer division of the offset from `since`
 * (cast, because better-sqlite3 binds JS numbers as REAL and the division would not truncate). The time range is read from
 * `calls_console` alone, which holds every column grouped, filtered or counted here, so the wide
 * rows are never read. It is named because the planner, without statistics, would rather seek
 * `calls_status_time` for a denied-only count or `calls_route_time` for a route and then read
 * each matching row: fine for a quiet route, most of the range for a busy one.
 * `width` is 0 for an empty span (nothing to ask).
 */
function buildSqliteAggregate(query: AggregateQuery, consoleIndex: boolean): { sql: string; params: Record<string, string | number>; width: number } {
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
    FROM calls${consoleIndex ? ' INDEXED BY calls_console' : ''} WHERE ${where.join(' AND ')} GROUP BY b${q.by.map((_, i) => `, k${i}`).join('')}`
  return { sql, params, width: q.until > q.since ? q.bucketMs : 0 }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 50
  return Math.min(1000, Math.max(1, Math.trunc(limit)))
}

