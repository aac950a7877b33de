import pg from 'pg'
import { resolve } from 'node:path'
import { GatewayError } from '../core/errors.js'
import { applyPostgresMigrations } from './postgres-migrations/apply.js'
import { recordToRow, rowToRecord, type CallRow } from './sqlite-schema.js'
import { Spool, type SpoolSegment } from './spool.js'
import { checkAggregateQuery, toAggregateRows, type RawAggregateRow } from './aggregate.js'
import type { AggregateQuery, AggregateRow, CallLogStats, CallLogStore, CallQuery, CallRecord } from './types.js'

/** Something went wrong on the write side of the PostgreSQL call log. Reported, never thrown at the caller. */
export interface PostgresStoreProblem {
  /**
   * `store.unreachable`: PostgreSQL cannot be reached or refused a write; rows go to the spool
   * and are replayed when it is back (once per outage). `store.spool-failed`: the spool could not
   * be written either; rows stay in memory. `store.rows-dropped`: rows given up on (spool full,
   * memory queue full, unreadable spool lines, rows PostgreSQL rejects as malformed).
   * `store.partition-failed`: a monthly partition could not be created; rows go to the default
   * partition, nothing is lost.
   */
  code: 'store.unreachable' | 'store.spool-failed' | 'store.rows-dropped' | 'store.partition-failed'
  message: string
  /** Rows accepted and not yet committed or spooled. */
  queued: number
  /** Bytes waiting in the spool. */
  spoolBytes: number
  /** Rows dropped since the store opened. */
  dropped: number
}

/** What a drained outage looked like, for logs and tests. */
export interface PostgresRecovery {
  /** Rows replayed from the spool. */
  rows: number
  /** Milliseconds from the first failed write to the empty spool. */
  ms: number
}

export interface PostgresStoreOptions {
  /** Longest a row waits before its batch is written, in ms. Default 50. */
  batchMs?: number
  /** Rows per INSERT; reaching it writes at once. Default 500. */
  batchSize?: number
  /** Rows held in memory while neither PostgreSQL nor the spool takes them; beyond it new rows are dropped. Default 100,000. */
  maxQueued?: number
  /** Directory of the spool; relative paths are resolved against the working directory. Default `./data/spool`. */
  spoolDir?: string
  /** Most bytes the spool may hold; rows beyond it are dropped and counted. Default 1 GiB. */
  maxSpoolBytes?: number
  /** Longest pause between reconnection attempts, in ms. Default 5000. */
  maxRetryMs?: number
  /** How long close() waits for writes before spooling what is left, in ms. Default 10,000. */
  closeTimeoutMs?: number
  /**
   * Calls older than this many days are removed, checked at most every 10 minutes while the
   * store writes: whole monthly partitions are dropped once entirely older, and the rest (the
   * partition holding the cutoff, the default partition) is deleted in small steps.
   * Default: kept forever.
   */
  retentionDays?: number
  /** Connections in the pool. Default 4. */
  poolSize?: number
  /** How long to wait for a new connection, in ms. Default 5000. */
  connectTimeoutMs?: number
  /** How long a statement may take before it is treated as a failure (rows are spooled), in ms. Default 30,000. */
  statementTimeoutMs?: number
  /**
   * Told about outages, spool failures, partition failures and dropped rows. Must not throw.
   * Without one, problems go to `process.emitWarning`: a call log that silently stops is worse.
   */
  onProblem?: (problem: PostgresStoreProblem) => void
  /** Told when the spool of an outage (or of a previous run) has been replayed completely. */
  onRecover?: (recovery: PostgresRecovery) => void
}

/** Counters of the PostgreSQL call log: the common ones plus the spool's. */
export interface PostgresStoreStats extends CallLogStats {
  /** Rows written to the spool since the store opened. */
  spooled: number
  /** Rows replayed from the spool into PostgreSQL since the store opened. */
  replayed: number
  /** Bytes waiting in the spool now (including segments left by a previous run). */
  spoolBytes: number
}

/** The PostgreSQL call log. */
export interface PostgresCallLogStore extends CallLogStore {
  stats(): PostgresStoreStats
  /**
   * Resolves once the schema is migrated. Rejects with `GatewayError('store.unreachable')` if
   * that fails now; writes keep being spooled and retried either way.
   */
  ready(): Promise<void>
  /** The spool directory in use (an `instance-<pid>` subdirectory if another process holds the configured one). */
  readonly spoolDir: string
}

/** A `calls` row as sent to PostgreSQL and kept in the spool: values in `columns` order. */
type PgValue = string | number | null
type PgRow = PgValue[]

/** Columns and their PostgreSQL array types, in insert order. */
const columns: readonly { name: keyof CallRow; type: string }[] = [
  { name: 'time', type: 'bigint' },
  { name: 'request_id', type: 'text' },
  { name: 'trace_id', type: 'text' },
  { name: 'route', type: 'text' },
  { name: 'consumer', type: 'text' },
  { name: 'tenant', type: 'text' },
  { name: 'method', type: 'text' },
  { name: 'path', type: 'text' },
  { name: 'status', type: 'integer' },
  { name: 'decision', type: 'text' },
  { name: 'layer', type: 'text' },
  { name: 'rule', type: 'text' },
  { name: 'upstream_status', type: 'integer' },
  { name: 'upstream_ms', type: 'double precision' },
  { name: 'total_ms', type: 'double precision' },
  { name: 'request_bytes', type: 'bigint' },
  { name: 'response_bytes', type: 'bigint' },
  { name: 'client_ip', type: 'text' },
  { name: 'upstream_target', type: 'text' },
  { name: 'trail', type: 'jsonb' },
  { name: 'denial', type: 'jsonb' },
  { name: 'ai', type: 'jsonb' },
]

/**
 * One statement per batch: each column travels as one array parameter and `unnest` zips them
 * back into rows, so 500 rows cost one round trip and one plan regardless of batch size.
 * `ORDER BY` the ordinality hands out ids in append order, so calls logged in the same
 * millisecond list in the same order as on SQLite. The conflict target makes a replay of rows
 * that were committed but not acknowledged a no-op.
 */
const insertSql = `INSERT INTO calls (${columns.map((c) => c.name).join(', ')})
SELECT ${columns.map((c) => c.name).join(', ')}
FROM unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')}) WITH ORDINALITY AS batch (${columns.map((c) => c.name).join(', ')}, position)
ORDER BY position
ON CONFLICT (request_id, time) DO NOTHING`

/** Read back with bigint as float8 (exact below 2^53) and jsonb as text, the shapes `rowToRecord` takes. */
const selectColumns = columns
  .map(({ name, type }) => type === 'bigint' ? `${name}::float8 AS ${name}` : type === 'jsonb' ? `${name}::text AS ${name}` : name)
  .join(', ')

/**
 * The call log on PostgreSQL, for clusters: every gateway instance writes to the same `calls`
 * table and `gatehouse calls` / `why` see all of them.
 *
 * Writes: `append` only queues. A batch goes every `batchMs` (default 50) or at `batchSize` rows
 * (default 500) as one multi-row INSERT. The schema is migrated on first use (advisory lock, so
 * instances may start together), and monthly partitions are created a few months ahead.
 *
 * Failure behaviour, for operators:
 * - When PostgreSQL is unreachable or a write fails, batches go to a local spool instead: JSON
 *   lines in `spoolDir` (default `./data/spool`; `openStore` resolves it next to the config
 *   file), fsync'd per batch. Rows in the spool are redacted exactly like stored rows.
 * - The store retries with backoff (up to `maxRetryMs`), and when PostgreSQL answers again it
 *   replays the spool oldest first; a segment file is deleted only after its rows committed.
 *   Replays are idempotent (`ON CONFLICT (request_id, time) DO NOTHING`).
 * - A spool left by a crash or by a close() during an outage is replayed on the next start.
 * - The spool is bounded (`maxSpoolBytes`, 1 GiB); rows beyond it are dropped, counted in
 *   `stats().dropped` and reported once per outage through `onProblem`.
 * - Spooled rows are not visible to `query`/`get` until replayed; reads during an outage throw
 *   `GatewayError('store.unreachable')`.
 * - Give each instance its own spool directory; if two processes share one, the second writes
 *   to an `instance-<pid>` subdirectory, which the owner adopts after that process exits.
 *
 * Throws `GatewayError('store.unreachable')` only if the spool directory cannot be created or
 * locked; an unreachable database at start is an outage like any other.
 */
export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): PostgresCallLogStore {
  const batchMs = Math.max(1, options.batchMs ?? 50)
  const batchSize = Math.max(1, options.batchSize ?? 500)
  const maxQueued = Math.max(batchSize, options.maxQueued ?? 100_000)
  const maxRetryMs = Math.max(batchMs, options.maxRetryMs ?? 5000)
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000
  const target = describePostgresTarget(url)
  const retentionMs = options.retentionDays !== undefined && options.retentionDays > 0 ? options.retentionDays * 86_400_000 : null

  const requestedSpoolDir = resolve(options.spoolDir ?? 'data/spool')
  let spool: Spool
  try {
    spool = new Spool({ dir: requestedSpoolDir, maxBytes: options.maxSpoolBytes })
  } catch (error) {
    throw new GatewayError('store.unreachable', `cannot open the call-log spool directory ${requestedSpoolDir}: ${messageOf(error)}`, {
      remediation: 'Make the directory writable, or set another spool directory for the PostgreSQL call log.',
      cause: error,
    })
  }

  const pool = new pg.Pool({
    connectionString: url,
    max: Math.max(1, options.poolSize ?? 4),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    query_timeout: options.statementTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30_000,
    // Idle connections must not keep a CLI process (`gatehouse calls`) alive.
    allowExitOnIdle: true,
    application_name: 'gatehouse',
  })
  // An idle connection dropped by the server: the pool discards it, the next write reconnects.
  pool.on('error', () => undefined)

  let queue: CallRecord[] = []
  let batchTimer: NodeJS.Timeout | null = null
  let isBatchDue = false
  let retryTimer: NodeJS.Timeout | null = null
  /** PostgreSQL failed; no attempt until the retry timer fires or flush() asks. */
  let isDown = false
  /** The spool failed too; nothing is taken from the queue until the retry timer fires. */
  let isPaused = false
  let failureStreak = 0
  let downSince = 0
  let replayedSinceDown = 0
  let isDropping = false
  let loop: Promise<void> | null = null
  let isKickScheduled = false
  let closing: Promise<void> | null = null
  let isClosed = false
  let schema: Promise<void> | null = null
  let isSchemaReady = false
  let replaying: { segment: SpoolSegment; rows: PgRow[]; offset: number } | null = null
  const ensuredMonths = new Set<number>()
  const reportedPartitionMonths = new Set<number>()
  const waiters: { target: number; resolve: () => void }[] = []
  let drainWaiters: (() => void)[] = []
  const counts = { accepted: 0, settled: 0, written: 0, dropped: 0, failures: 0, spooled: 0, replayed: 0, pruned: 0 }
  let lastPruneAt = 0

  function report(code: PostgresStoreProblem['code'], message: string): void {
    const problem: PostgresStoreProblem = { code, message, queued: counts.accepted - counts.settled, spoolBytes: spool.bytes, dropped: counts.dropped }
    try {
      if (options.onProblem) options.onProblem(problem)
      else process.emitWarning(message, { code })
    } catch {
      // A broken reporter must not break logging.
    }
  }

  function drop(rows: number, message: string): void {
    if (rows <= 0) return
    counts.dropped += rows
    // Once per outage, not once per batch: a full spool under load would flood the reporter.
    if (!isDropping) {
      isDropping = true
      report('store.rows-dropped', message)
    }
  }

  function settle(rows: number): void {
    counts.settled += rows
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].target <= counts.settled) waiters.splice(i, 1)[0].resolve()
    }
  }

  function endDrainWait(): void {
    const waiting = drainWaiters
    drainWaiters = []
    for (const resolveWaiter of waiting) resolveWaiter()
  }

  function kick(): void {
    if (loop || isClosed) return
    loop = run().finally(() => {
      loop = null
      afterRun()
    })
  }

  function afterRun(): void {
    if (isClosed) return
    const isQueueDue = queue.length > 0 && !isPaused
      && (isBatchDue || waiters.length > 0 || closing !== null || queue.length >= batchSize)
    // Also covers a flush() that arrived while the loop was on its way out.
    if (isQueueDue || (!spool.isEmpty && !isDown && !isPaused)) {
      kick()
      return
    }
    if (queue.length > 0 && !batchTimer && !isPaused) {
      batchTimer = setTimeout(onBatchTimer, batchMs)
      // An idle log must not keep a process alive; someone waiting on flush() must.
      if (waiters.length === 0 && !closing) batchTimer.unref()
    }
  }

  function onBatchTimer(): void {
    batchTimer = null
    isBatchDue = true
    kick()
  }

  /** One unit of work at a time: a queued batch first (keeps memory flat), else a replay chunk. */
  async function run(): Promise<void> {
    while (!isClosed) {
      const isDue = queue.length >= batchSize || isBatchDue || waiters.length > 0 || closing !== null
      if (queue.length > 0 && isDue && !isPaused) {
        await writeQueued()
        if (queue.length === 0) isBatchDue = false
        continue
      }
      if (!isDown && !isPaused && !spool.isEmpty) {
        if (await replayChunk()) continue
      }
      break
    }
  }

  async function writeQueued(): Promise<void> {
    const records = queue.length <= batchSize ? queue : queue.slice(0, batchSize)
    queue = queue.length <= batchSize ? [] : queue.slice(batchSize)
    const rows: PgRow[] = []
    for (const record of records) {
      try {
        rows.push(toPgRow(record))
      } catch {
        // A record whose getters throw: it has no storable form.
      }
    }
    drop(records.length - rows.length, `dropped ${records.length - rows.length} call records that could not be converted to rows`)
    if (!isDown && spool.isEmpty) {
      try {
        await insertWithFallback(rows)
        // Written directly with nothing spooled: any earlier outage is over.
        isDropping = false
        downSince = 0
        // Before settling, so a flush() after old rows were written sees them pruned.
        await pruneIfDue()
        settle(records.length)
        return
      } catch (error) {
        markDown(error)
      }
    }
    try {
      const { written, refused } = await spool.append(rows)
      counts.spooled += written
      drop(refused, `the call-log spool in ${spool.dir} is full; ${refused} call records were dropped (PostgreSQL at ${target} is still unreachable)`)
      settle(records.length)
    } catch (error) {
      // Neither PostgreSQL nor the disk takes them: keep them in memory and wait.
      queue = records.concat(queue)
      isPaused = true
      report('store.spool-failed', `cannot write the call-log spool in ${spool.dir} (rows are kept in memory, up to ${maxQueued}): ${messageOf(error)}`)
      counts.failures++
      failureStreak++
      scheduleRetry()
    }
  }

  /** Replays up to one batch of the spool. False when there is nothing to do or it failed. */
  async function replayChunk(): Promise<boolean> {
    try {
      if (!replaying) {
        const segment = await spool.nextSegment()
        if (!segment) return false
        const rows = segment.rows.map(upgradeSpooledRow).filter(isPgRow)
        const unreadable = segment.unreadable + segment.rows.length - rows.length
        drop(unreadable, `${unreadable} unreadable lines in the call-log spool segment ${segment.name} were skipped`)
        replaying = { segment, rows, offset: 0 }
      }
    } catch (error) {
      isPaused = true
      counts.failures++
      failureStreak++
      report('store.spool-failed', `cannot read the call-log spool in ${spool.dir}: ${messageOf(error)}`)
      scheduleRetry()
      endDrainWait()
      return false
    }
    const current = replaying
    const chunk = current.rows.slice(current.offset, current.offset + batchSize)
    try {
      if (chunk.length > 0) await insertWithFallback(chunk)
    } catch (error) {
      markDown(error)
      return false
    }
    current.offset += chunk.length
    counts.replayed += chunk.length
    replayedSinceDown += chunk.length
    if (current.offset >= current.rows.length) {
      // Deleted only now, after every chunk of the segment committed.
      try {
        await spool.remove(current.segment)
      } catch (error) {
        // Replaying it again is harmless (idempotent) but must not spin: wait like any failure.
        replaying = null
        isPaused = true
        counts.failures++
        failureStreak++
        report('store.spool-failed', `cannot delete the replayed spool segment ${current.segment.name}: ${messageOf(error)}`)
        scheduleRetry()
        endDrainWait()
        return false
      }
      replaying = null
      if (spool.isEmpty) onDrained()
    }
    return true
  }

  function onDrained(): void {
    if (replayedSinceDown > 0) {
      const recovery: PostgresRecovery = { rows: replayedSinceDown, ms: downSince > 0 ? Date.now() - downSince : 0 }
      try {
        options.onRecover?.(recovery)
      } catch {
        // Informational only.
      }
    }
    downSince = 0
    replayedSinceDown = 0
    isDropping = false
    endDrainWait()
  }

  function markDown(error: unknown): void {
    counts.failures++
    failureStreak++
    if (!isDown && downSince === 0) {
      downSince = Date.now()
      report('store.unreachable', `cannot write the call log to PostgreSQL at ${target} (rows go to the spool in ${spool.dir} and are replayed when it is back): ${messageOf(error)}`)
    }
    isDown = true
    if (isSchemaMissing(error)) {
      isSchemaReady = false
      schema = null
    }
    scheduleRetry()
    endDrainWait()
  }

  function scheduleRetry(): void {
    if (retryTimer) clearTimeout(retryTimer)
    const delay = Math.min(maxRetryMs, 100 * 2 ** Math.min(Math.max(0, failureStreak - 1), 16))
    retryTimer = setTimeout(retryNow, delay)
    if (waiters.length === 0) retryTimer.unref()
  }

  function retryNow(): void {
    if (retryTimer) clearTimeout(retryTimer)
    retryTimer = null
    isDown = false
    isPaused = false
    kick()
  }

  /** Inserts rows; if PostgreSQL rejects the batch's data, retries row by row and drops only the bad ones. */
  async function insertWithFallback(rows: PgRow[]): Promise<void> {
    try {
      counts.written += await insertRows(rows)
    } catch (error) {
      if (!isDataError(error) || rows.length === 0) throw error
      let rejected = 0
      for (const row of rows) {
        try {
          counts.written += await insertRows([row])
        } catch (rowError) {
          if (!isDataError(rowError)) throw rowError
          rejected++
        }
      }
      drop(rejected, `PostgreSQL rejected ${rejected} malformed call records: ${messageOf(error)}`)
    }
    failureStreak = 0
  }

  async function insertRows(rows: PgRow[]): Promise<number> {
    await ensureSchema()
    await ensurePartitions(rows)
    const params = columns.map((_, index) => rows.map((row) => row[index]))
    const result = await pool.query(insertSql, params)
    return result.rowCount ?? 0
  }

  function ensureSchema(): Promise<void> {
    if (isSchemaReady) return Promise.resolve()
    schema ??= (async () => {
      await withClient(pool, (client) => applyPostgresMigrations(client))
      isSchemaReady = true
    })().catch((error: unknown) => {
      schema = null
      throw error
    })
    return schema
  }

  /** Creates this month's partition and the next two, and any recent month a batch needs. */
  async function ensurePartitions(rows: PgRow[]): Promise<void> {
    const now = monthOf(Date.now())
    const wanted = new Set<number>([now, now + 1, now + 2])
    for (const row of rows) {
      const month = monthOf(row[0] as number)
      // Older or further ahead than this goes to the default partition: a skewed clock or a
      // hostile timestamp must not create hundreds of tables.
      if (month >= now - 12 && month <= now + 2) wanted.add(month)
    }
    for (const month of wanted) {
      if (ensuredMonths.has(month)) continue
      await createPartition(month)
      ensuredMonths.add(month)
    }
  }

  /** Applies `retentionDays`; a failure is left for the next pass (the rows are only old, not lost). */
  async function pruneIfDue(): Promise<void> {
    const now = Date.now()
    if (retentionMs === null || now - lastPruneAt < pruneEveryMs) return
    lastPruneAt = now
    const cutoff = now - retentionMs
    try {
      const partitions = await pool.query<{ name: string }>(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'calls'::regclass")
      for (const { name } of partitions.rows) {
        const month = monthOfPartition(name)
        if (month === null || monthStart(month + 1) > cutoff) continue
        // Our own generated names only (checked by monthOfPartition), never input. Counted
        // first so `pruned` means rows, as with SQLite; this runs once a month per partition.
        const [{ rows }] = (await pool.query<{ rows: number }>(`SELECT count(*)::float8 AS rows FROM ${name}`)).rows
        await pool.query(`DROP TABLE IF EXISTS ${name}`)
        counts.pruned += rows
        ensuredMonths.delete(month)
      }
      for (let round = 0; round < pruneRounds; round++) {
        const removed = await pool.query(
          'DELETE FROM calls WHERE (request_id, time) IN (SELECT request_id, time FROM calls WHERE time < $1 LIMIT $2)', [cutoff, pruneChunk])
        counts.pruned += removed.rowCount ?? 0
        if ((removed.rowCount ?? 0) < pruneChunk) break
      }
    } catch {
      lastPruneAt = now - pruneEveryMs / 2
    }
  }

  async function createPartition(month: number): Promise<void> {
    const name = `calls_p${Math.floor(month / 12)}${String((month % 12) + 1).padStart(2, '0')}`
    try {
      await withClient(pool, async (client) => {
        await client.query('BEGIN')
        try {
          await client.query("SELECT pg_advisory_xact_lock(hashtext('gatehouse.partitions.' || current_schema()))")
          // Both bounds are integers computed here, never input: safe to inline.
          await client.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF calls FOR VALUES FROM (${monthStart(month)}) TO (${monthStart(month + 1)})`)
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw error
        }
      })
    } catch (error) {
      // The default partition already holds rows of that month (23514), or a hand-made
      // partition overlaps (42P17): rows keep going to the default partition; nothing is lost.
      const code = codeOf(error)
      if (code !== '23514' && code !== '42P17') throw error
      if (!reportedPartitionMonths.has(month)) {
        reportedPartitionMonths.add(month)
        report('store.partition-failed', `cannot create the call-log partition ${name}; its rows go to calls_default: ${messageOf(error)}`)
      }
    }
  }

  function append(record: CallRecord): void {
    if (isClosed || closing || queue.length >= maxQueued) {
      drop(1, isClosed || closing
        ? 'call records appended after close() are dropped'
        : `the call-log queue is full (${maxQueued} rows, neither PostgreSQL nor the spool is taking rows); new call records are dropped`)
      return
    }
    queue.push(record)
    counts.accepted++
    if (queue.length >= batchSize) {
      // Not inline: the caller is answering a request; the write can wait a tick.
      if (!loop && !isKickScheduled) {
        isKickScheduled = true
        setImmediate(() => {
          isKickScheduled = false
          kick()
        })
      }
    } else if (!batchTimer) {
      // Also while the loop is busy (a long replay): the timer marks the batch due, and the
      // loop takes due batches between replay chunks.
      batchTimer = setTimeout(onBatchTimer, batchMs)
      batchTimer.unref()
    }
  }

  /**
   * Resolves once every row appended before the call is committed or spooled, and, if the spool
   * holds rows, after one replay attempt made now (not at the next backoff tick).
   */
  function flush(): Promise<void> {
    const goal = counts.accepted
    return new Promise<void>((resolveFlush) => {
      const afterSettled = (): void => {
        if (spool.isEmpty || isClosed) return resolveFlush()
        drainWaiters.push(resolveFlush)
        if (isDown || isPaused) retryNow()
        else kick()
      }
      if (counts.settled >= goal) return afterSettled()
      waiters.push({ target: goal, resolve: afterSettled })
      if (batchTimer) batchTimer.ref()
      if (retryTimer) retryTimer.ref()
      kick()
    })
  }

  async function close(): Promise<void> {
    closing ??= (async () => {
      let timeout: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((resolveTimeout) => { timeout = setTimeout(() => resolveTimeout('timeout'), closeTimeoutMs) })
      await Promise.race([flush(), timedOut])
      clearTimeout(timeout)
      isClosed = true
      if (batchTimer) clearTimeout(batchTimer)
      if (retryTimer) clearTimeout(retryTimer)
      batchTimer = null
      retryTimer = null
      if (loop) await loop
      if (queue.length > 0) {
        // Out of time for PostgreSQL: the disk is quicker, and the next start replays it.
        const records = queue
        queue = []
        try {
          const rows = records.map(toPgRow)
          const { written, refused } = await spool.append(rows)
          counts.spooled += written
          drop(refused, `close() dropped ${refused} call records: the spool is full`)
        } catch (error) {
          drop(records.length, `close() dropped ${records.length} call records that could not be spooled: ${messageOf(error)}`)
        }
        settle(records.length)
      }
      endDrainWait()
      await spool.close().catch(() => undefined)
      await pool.end().catch(() => undefined)
    })()
    return closing
  }

  const { query, get, aggregate } = createReads(pool, target, ensureSchema)

  async function ready(): Promise<void> {
    try {
      await ensureSchema()
    } catch (error) {
      throw new GatewayError('store.unreachable', `cannot prepare the call-log schema on PostgreSQL at ${target}: ${messageOf(error)}`, {
        remediation: 'Check that PostgreSQL is running, that the `store:` URL is right, and that its user may create tables.',
        cause: error,
      })
    }
  }

  function stats(): PostgresStoreStats {
    return {
      queued: counts.accepted - counts.settled,
      written: counts.written,
      dropped: counts.dropped,
      failures: counts.failures,
      spooled: counts.spooled,
      replayed: counts.replayed,
      spoolBytes: spool.bytes,
      pruned: counts.pruned,
    }
  }

  // Migrate now, so a wrong URL or a missing grant shows in the log at start rather than with
  // the first call; a failure is an outage like any other (rows spool, writes retry).
  ensureSchema().catch((error: unknown) => {
    if (!isClosed) markDown(error)
  })
  // A spool left by a crash (or a close during an outage) is replayed as soon as we can.
  if (!spool.isEmpty) setImmediate(kick)

  return { append, query, get, flush, close, stats, ready, spoolDir: spool.dir, aggregate }
}

/**
 * The SQL of a `CallQuery`, newest first. Exported for the plan test. ORDER BY names the table's
 * columns (`calls.time`) on purpose: a bare `time` would mean the float8 output column of the
 * same name, which no index covers, and every query would sort the whole table.
 */
export function buildCallQuery(q: CallQuery): { sql: string; params: (string | number)[] } {
  const where: string[] = []
  const params: (string | number)[] = []
  const bind = (value: string | number): string => {
    params.push(value)
    return `$${params.length}`
  }
  if (q.denied) where.push('status >= 400')
  for (const key of ['route', 'consumer', 'tenant', 'layer'] as const) {
    const value = q[key]
    if (value !== undefined) where.push(`${key} = ${bind(value)}`)
  }
  if (q.status !== undefined) where.push(`status = ${bind(Math.trunc(q.status))}`)
  if (q.since !== undefined) where.push(`time >= ${bind(Math.trunc(q.since))}`)
  if (q.until !== undefined) where.push(`time < ${bind(Math.trunc(q.until))}`)
  const sql = `SELECT ${selectColumns} FROM calls${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY calls.time DESC, calls.id DESC LIMIT ${bind(clampLimit(q.limit))}`
  return { sql, params }
}

/** `query` and `get` on a pool; `prepare` runs before each read (the writer's store migrates there). */
function createReads(pool: pg.Pool, target: string, prepare: () => Promise<void>): Pick<CallLogStore, 'query' | 'get'> & { aggregate(q: AggregateQuery): Promise<AggregateRow[]> } {
  async function read<T>(work: () => Promise<T>, empty: T): Promise<T> {
    try {
      await prepare()
      return await work()
    } catch (error) {
      // A reader on a database no gateway has written to yet: nothing logged, not an outage.
      if (codeOf(error) === '42P01') return empty
      throw new GatewayError('store.unreachable', `cannot read the call log from PostgreSQL at ${target}: ${messageOf(error)}`, {
        remediation: 'Check that PostgreSQL is running and reachable with the `store:` URL; rows written meanwhile wait in the spool.',
        cause: error,
      })
    }
  }

  async function query(q: CallQuery): Promise<CallRecord[]> {
    const { sql, params } = buildCallQuery(q)
    const rows = await read(async () => (await pool.query<CallRow>(sql, params)).rows, [])
    return rows.map(rowToRecord)
  }

  async function get(requestId: string): Promise<CallRecord | null> {
    const id = requestId.trim().replaceAll('\u0000', '')
    if (id.length === 0 || id.length > 4096) return null
    // ULIDs are upper case; people retype them in lower case.
    const candidates = id === id.toUpperCase() ? [id] : [id, id.toUpperCase()]
    for (const candidate of candidates) {
      const exact = await read(async () => (await pool.query<CallRow>(`SELECT ${selectColumns} FROM calls WHERE request_id = $1 ORDER BY calls.time DESC LIMIT 1`, [candidate])).rows, [])
      if (exact.length > 0) return rowToRecord(exact[0])
    }
    if (id.length < 8) return null
    for (const candidate of candidates) {
      // A byte range on the "C"-collated index instead of LIKE: no wildcard escaping, and it
      // uses the index. U+10FFFF sorts after every character that can follow the prefix.
      const rows = await read(async () => (await pool.query<CallRow>(
        `SELECT ${selectColumns} FROM calls WHERE request_id >= $1 AND request_id < $2 ORDER BY request_id LIMIT 2`,
        [candidate, `${candidate}\u{10FFFF}`],
      )).rows, [])
      if (rows.length === 1) return rowToRecord(rows[0])
      if (rows.length > 1) return null
    }
    return null
  }

  async function aggregate(q: AggregateQuery): Promise<AggregateRow[]> {
    const built = buildPostgresAggregate(q)
    if (!built) return []
    const rows = await read(async () => (await pool.query<RawAggregateRow>(built.sql, built.params)).rows, [])
    return toAggregateRows(rows, built.since, built.width, built.dimensions)
  }

  return { query, get, aggregate }
}


/**
 * The SQL of an `AggregateQuery`: one GROUP BY whose bucket is the integer division of the
 * offset from `since` (bigint / bigint truncates, the same arithmetic as SQLite, so both stores
 * bucket identically; date_trunc would only fit calendar units). Counts come back as float8 so
 * pg does not hand us bigint strings. Null for an empty span.
 */
export function buildPostgresAggregate(query: AggregateQuery): { sql: string; params: (string | number)[]; since: number; width: number; dimensions: number } | null {
  const q = checkAggregateQuery(query)
  if (q.until <= q.since) return null
  const params: (string | number)[] = [q.since, q.until, q.bucketMs]
  const bind = (value: string | number): string => {
    params.push(value)
    return `$${params.length}`
  }
  const where = ['time >= $1::bigint', 'time < $2::bigint']
  if (q.deniedOnly) where.push('status IN (401, 403, 429)')
  for (const key of ['route', 'consumer', 'tenant', 'layer'] as const) {
    const value = q[key]
    if (value !== undefined) where.push(`${key} = ${bind(value.replaceAll('\u0000', ''))}`)
  }
  const keys = [q.by[0] ?? 'NULL::text', q.by[1] ?? 'NULL::text']
  const sql = `SELECT ((time - $1::bigint) / $3::bigint)::float8 AS b, ${keys[0]} AS k0, ${keys[1]} AS k1, count(*)::float8 AS total,
    (count(*) FILTER (WHERE status IN (401, 403, 429)))::float8 AS denied,
    (count(*) FILTER (WHERE status = 401))::float8 AS s401, (count(*) FILTER (WHERE status = 403))::float8 AS s403,
    (count(*) FILTER (WHERE status = 429))::float8 AS s429, (count(*) FILTER (WHERE status >= 500 AND status < 600))::float8 AS s5xx
    FROM calls WHERE ${where.join(' AND ')} GROUP BY 1${q.by.map((_, i) => `, ${i + 2}`).join('')}`
  return { sql, params, since: q.since, width: q.bucketMs, dimensions: q.by.length }
}

/**
 * Opens a PostgreSQL call log for reading only (`gatehouse calls`, `why`): no migrations, no
 * spool, no writes; `append` drops and counts. A database no gateway has written to yet reads
 * as empty. Reads that cannot reach the server throw `GatewayError('store.unreachable')`.
 */
export function createPostgresReader(url: string, options: Pick<PostgresStoreOptions, 'connectTimeoutMs' | 'statementTimeoutMs'> = {}): CallLogStore & { stats(): CallLogStats } {
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    query_timeout: options.statementTimeoutMs ?? 30_000,
    allowExitOnIdle: true,
    application_name: 'gatehouse-cli',
  })
  pool.on('error', () => undefined)
  let dropped = 0
  const { query, get, aggregate } = createReads(pool, describePostgresTarget(url), () => Promise.resolve())
  let closing: Promise<void> | null = null
  return {
    append() {
      dropped++
    },
    query,
    get,
    aggregate,
    flush: () => Promise.resolve(),
    close() {
      closing ??= pool.end().catch(() => undefined)
      return closing
    },
    stats: () => ({ queued: 0, written: 0, dropped, failures: 0 }),
  }
}

/**
 * Runs work on a pooled connection of its own. While checked out, a client whose socket dies
 * emits 'error' with no listener of the pool's, which would crash the process; the failure
 * reaches us anyway through the rejected query. A failed client is discarded, not reused.
 */
async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  const ignore = (): void => undefined
  client.on('error', ignore)
  try {
    const result = await work(client)
    client.off('error', ignore)
    client.release()
    return result
  } catch (error) {
    client.off('error', ignore)
    client.release(error instanceof Error ? error : true)
    throw error
  }
}

/** `host:port/database` of a store URL, never its user or password, for messages. */
export function describePostgresTarget(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname || ''}`
  } catch {
    return '(unparsable URL)'
  }
}

/** Month index (year * 12 + month, UTC) of an epoch-ms time. */
function monthOf(time: number): number {
  const date = new Date(Number.isFinite(time) ? time : 0)
  return date.getUTCFullYear() * 12 + date.getUTCMonth()
}

/** How often retention is applied, and in what steps: small deletes never hold up new batches for long. */
const pruneEveryMs = 10 * 60_000
const pruneChunk = 2000
const pruneRounds = 10

/** Month index of a partition we created (`calls_pYYYYMM`), or null for any other table. */
function monthOfPartition(name: string): number | null {
  const match = /^calls_p(\d{4})(\d{2})$/.exec(name)
  if (!match) return null
  const month = Number(match[2])
  return month >= 1 && month <= 12 ? Number(match[1]) * 12 + month - 1 : null
}

/** Epoch ms of the first instant of a month index. */
function monthStart(month: number): number {
  return Date.UTC(Math.floor(month / 12), month % 12, 1)
}

const int4Max = 2 ** 31 - 1

function int4OrNull(value: PgValue): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null
  const whole = Math.trunc(value)
  return whole >= -int4Max - 1 && whole <= int4Max ? whole : null
}

function int8(value: PgValue): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 0
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.trunc(value)))
}

/**
 * A record as a PostgreSQL row: the SQLite store's conversion (redaction, clipping, safe
 * defaults), then what PostgreSQL is stricter about: no NUL in text or jsonb, integers in range,
 * no lone surrogates in jsonb.
 */
function toPgRow(record: CallRecord): PgRow {
  const row = recordToRow(record)
  return columns.map(({ name, type }) => {
    const value = row[name] as PgValue
    if (type === 'jsonb') return value === null ? null : cleanJson(String(value))
    if (type === 'text') return value === null ? null : stripNul(String(value))
    if (type === 'integer') return name === 'status' ? int4OrNull(value) ?? 0 : int4OrNull(value)
    if (type === 'bigint') return int8(value)
    return value
  })
}

function stripNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** JSON text that jsonb accepts: `\u0000` escapes and unpaired surrogates removed. */
function cleanJson(text: string): string {
  if (!/\\u(0000|d[89a-f])/i.test(text)) return text
  const cleaned = JSON.parse(text, (_key, value: unknown) => typeof value === 'string' ? value.replaceAll('\u0000', '').replace(loneSurrogate, '\uFFFD') : value) as unknown
  return JSON.stringify(cleaned)
}

/**
 * A row spooled before the `ai` column existed (one value short, always last) gains a null
 * there, so an upgrade during an outage loses no rows.
 */
function upgradeSpooledRow(value: unknown): unknown {
  return Array.isArray(value) && value.length === columns.length - 1 && columns[columns.length - 1].name === 'ai' ? [...value, null] : value
}

/** A spool line that has the shape of a row (anything else is counted as unreadable). */
function isPgRow(value: unknown): value is PgRow {
  return Array.isArray(value) && value.length === columns.length
    && value.every((item) => item === null || typeof item === 'string' || typeof item === 'number')
    && typeof value[0] === 'number' && typeof value[1] === 'string'
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * SQLSTATE classes about the data itself (22 data exception, 23 integrity, 54 too big): retrying
 * the same rows would fail forever, so they are skipped. Everything else (connection, timeouts,
 * missing table, permissions) is an outage: spool and retry.
 */
function isDataError(error: unknown): boolean {
  const code = codeOf(error)
  return code !== undefined && /^(22|23|54)[0-9A-Z]{3}$/.test(code)
}

/** The table or schema is gone (dropped by hand, a fresh database): migrate again on reconnect. */
function isSchemaMissing(error: unknown): boolean {
  const code = codeOf(error)
  return code === '42P01' || code === '3F000'
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 50
  return Math.min(1000, Math.max(1, Math.trunc(limit)))
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0])
  if (error instanceof Error) return error.message || codeOf(error) || error.name
  return String(error)
}
