import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { GatewayError } from '../core/errors.js'
import { applyMigrations, rowToRecord, type CallRow, type WriterData, type WriterRequest, type WriterResponse } from './sqlite-schema.js'
import { checkAggregateQuery, sortAggregateRows } from './aggregate.js'
import type { AggregateQuery, AggregateRow, CallLogStats, CallLogStore, CallQuery, CallRecord } from './types.js'

/** Something went wrong on the write side. Reported, never thrown at the caller. */
export interface StoreProblem {
  /** `store.write-failed` (retried), `store.writer-exited` (restarted), `store.rows-dropped`. */
  code: 'store.write-failed' | 'store.writer-exited' | 'store.rows-dropped'
  message: string
  /** Rows waiting to be written when it happened. */
  queued: number
  /** Rows dropped since the store opened. */
  dropped: number
}

export interface SqliteStoreOptions {
  /** Longest a row waits before its batch is written, in ms. Default 50. */
  batchMs?: number
  /** Rows per transaction; reaching it writes at once. Default 500. */
  batchSize?: number
  /** Rows kept while the disk or writer is failing; beyond it new rows are dropped. Default 100,000. */
  maxQueued?: number
  /** How long the writer waits for another process's write lock, in ms. Default 5000. */
  busyTimeoutMs?: number
  /** Longest pause between retries of a failing write, in ms. Default 5000. */
  maxRetryMs?: number
  /** Calls older than this many days are deleted by the writer, checked every 10 minutes. Default: kept forever. */
  retentionDays?: number
  /** How long close() waits for queued rows before dropping them, in ms. Default 10,000. */
  closeTimeoutMs?: number
  /**
   * Told about failed writes, writer restarts and dropped rows. Must not throw. Without one,
   * problems go to `process.emitWarning`, because a call log that silently stops is worse.
   */
  onProblem?: (problem: StoreProblem) => void
  /** Called with each writer worker started; for diagnostics and for tests that stop one. */
  onWriterStart?: (worker: Worker) => void
  /**
   * Start the writer thread now rather than with the first batch. The gateway does, so the first
   * rows are not held back by the thread's start-up (hundreds of ms) and a crash early on loses
   * no more than a batch window.
   */
  eagerWriter?: boolean
}

interface Batch {
  id: number
  records: CallRecord[]
}

interface FlushWaiter {
  /** Resolves once this many accepted rows are settled (committed or given up). */
  target: number
  resolve: () => void
}

/**
 * The call log on one SQLite file. `append` only pushes onto an in-memory queue; a worker
 * thread that owns the write connection commits a batch every `batchMs` or `batchSize` rows,
 * in one transaction, so the gateway's event loop never waits on the disk. A failed write or
 * a dead worker keeps the rows queued (up to `maxQueued`) and is retried with backoff.
 * Reads use a separate read-only connection, which WAL lets run beside the writer.
 *
 * Opening runs the migrations synchronously: that happens once at startup, never per request.
 * Throws `GatewayError('store.unreachable')` if the file cannot be opened.
 */
export function createSqliteStore(file: string, options: SqliteStoreOptions = {}): CallLogStore & { stats(): CallLogStats } {
  const batchMs = Math.max(1, options.batchMs ?? 50)
  const batchSize = Math.max(1, options.batchSize ?? 500)
  const maxQueued = Math.max(batchSize, options.maxQueued ?? 100_000)
  const busyTimeoutMs = Math.max(0, options.busyTimeoutMs ?? 5000)
  const maxRetryMs = Math.max(batchMs, options.maxRetryMs ?? 5000)
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000
  const retentionDays = options.retentionDays !== undefined && options.retentionDays > 0 ? options.retentionDays : null

  prepareFile(file)
  const reader = openReader(file)
  const statements = new Map<string, Database.Statement>()

  let queue: CallRecord[] = []
  let inFlight: Batch | null = null
  let nextBatchId = 1
  let worker: Worker | null = null
  let timer: NodeJS.Timeout | null = null
  let failureStreak = 0
  let isDropping = false
  let closing: Promise<void> | null = null
  let isClosed = false
  const waiters: FlushWaiter[] = []
  const counts = { accepted: 0, settled: 0, written: 0, dropped: 0, failures: 0, pruned: 0 }

  function report(code: StoreProblem['code'], message: string): void {
    const problem: StoreProblem = { code, message, queued: queue.length + (inFlight?.records.length ?? 0), dropped: counts.dropped }
    try {
      if (options.onProblem) options.onProblem(problem)
      else process.emitWarning(message, { code })
    } catch {
      // A broken reporter must not break logging.
    }
  }

  function prepared(sql: string): Database.Statement {
    let statement = statements.get(sql)
    if (!statement) {
      statement = reader.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }

  function settle(rows: number): void {
    counts.settled += rows
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].target <= counts.settled) waiters.splice(i, 1)[0].resolve()
    }
  }

  function schedule(delayMs: number): void {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      sendBatch()
    }, delayMs)
    // An idle log must not keep a process alive; someone waiting on flush() must.
    if (waiters.length === 0 && !closing) timer.unref()
  }

  function startWorker(): Worker {
    const data: WriterData = { file, busyTimeoutMs, retentionDays }
    const started = createWriterWorker(data)
    started.on('message', (message: WriterResponse) => onWriterMessage(started, message))
    started.on('error', (error: Error) => onWriterGone(started, `the call-log writer crashed: ${error.message}`))
    started.on('exit', (code) => onWriterGone(started, `the call-log writer exited with code ${code}`))
    started.unref()
    options.onWriterStart?.(started)
    return started
  }

  function sendBatch(): void {
    if (timer) {
      clearTimeout(timer)
      timer = null
    }
    if (inFlight || queue.length === 0 || isClosed) return
    const records = queue.length <= batchSize ? queue : queue.slice(0, batchSize)
    queue = queue.length <= batchSize ? [] : queue.slice(batchSize)
    const batch: Batch = { id: nextBatchId++, records }
    try {
      worker ??= startWorker()
    } catch (error) {
      // Cannot even start a thread (out of memory, too many threads): keep the rows, retry later.
      failureStreak++
      counts.failures++
      requeue(batch)
      report('store.writer-exited', `could not start the call-log writer: ${messageOf(error)}; will retry`)
      afterBatch()
      return
    }
    try {
      worker.postMessage({ type: 'write', batch: batch.id, records } satisfies WriterRequest)
    } catch {
      // A record that cannot be cloned (a function or symbol somewhere in a detail): send its
      // JSON form instead, and drop only records that have none (a cycle, a BigInt).
      const { kept, lost } = toPlainRecords(records)
      if (lost > 0) {
        counts.dropped += lost
        report('store.rows-dropped', `dropped ${lost} call records that could not be serialised`)
      }
      batch.records = kept
      try {
        worker.postMessage({ type: 'write', batch: batch.id, records: kept } satisfies WriterRequest)
      } catch (error) {
        counts.dropped += kept.length
        report('store.rows-dropped', `dropped ${kept.length} call records that could not be sent to the writer: ${messageOf(error)}`)
        batch.records = []
      }
      // Dropped rows will never be written; settle them now so flush() does not wait on them.
      settle(records.length - batch.records.length)
      if (batch.records.length === 0) {
        afterBatch()
        return
      }
    }
    inFlight = batch
    worker.ref()
  }

  /** Decides when the next batch goes: now if a flush waits or a batch is full, else later. */
  function afterBatch(): void {
    if (queue.length === 0) return
    if (failureStreak > 0) schedule(Math.min(maxRetryMs, batchMs * 2 ** Math.min(failureStreak, 16)))
    else if (queue.length >= batchSize || waiters.length > 0 || closing) sendBatch()
    else schedule(batchMs)
  }

  function requeue(batch: Batch): void {
    queue = queue.length === 0 ? batch.records : batch.records.concat(queue)
  }

  function onWriterMessage(from: Worker, message: WriterResponse): void {
    if (from !== worker || message.type === 'closed') return
    const batch = inFlight
    if (!batch || batch.id !== message.batch) return
    inFlight = null
    from.unref()
    if (message.type === 'written') {
      failureStreak = 0
      isDropping = false
      counts.written += message.rows
      counts.pruned += message.pruned
      if (message.skipped > 0) {
        counts.dropped += message.skipped
        report('store.rows-dropped', `SQLite refused ${message.skipped} malformed call records; the rest of the batch was written`)
      }
      settle(batch.records.length)
    } else {
      failureStreak++
      counts.failures++
      requeue(batch)
      report('store.write-failed', `could not write ${batch.records.length} call records to ${file} (will retry): ${message.message}`)
    }
    afterBatch()
  }

  function onWriterGone(from: Worker, message: string): void {
    if (from !== worker) return
    worker = null
    if (isClosed) return
    failureStreak++
    counts.failures++
    if (inFlight) {
      requeue(inFlight)
      inFlight = null
    }
    report('store.writer-exited', `${message}; restarting it`)
    afterBatch()
  }

  function append(record: CallRecord): void {
    if (isClosed || closing || queue.length + (inFlight?.records.length ?? 0) >= maxQueued) {
      counts.dropped++
      // Once per outage, not once per row: a full queue under load would flood the reporter.
      if (!isDropping) {
        isDropping = true
        report('store.rows-dropped', isClosed || closing
          ? `call records appended after close() are dropped`
          : `the call-log queue is full (${maxQueued} rows); new call records are dropped until writes succeed`)
      }
      return
    }
    queue.push(record)
    counts.accepted++
    if (inFlight || failureStreak > 0) return
    if (queue.length === batchSize) {
      // Not inline: the caller is answering a request; the copy to the worker can wait a tick.
      schedule(0)
    } else if (!timer) {
      schedule(batchMs)
    }
  }

  function flush(): Promise<void> {
    if (counts.settled >= counts.accepted) return Promise.resolve()
    return new Promise<void>((resolve) => {
      waiters.push({ target: counts.accepted, resolve })
      if (timer) timer.ref()
      if (!inFlight) sendBatch()
    })
  }

  async function close(): Promise<void> {
    closing ??= (async () => {
      let timeout: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((resolve) => { timeout = setTimeout(() => resolve('timeout'), closeTimeoutMs) })
      const outcome = await Promise.race([flush().then(() => 'flushed' as const), timedOut])
      clearTimeout(timeout)
      if (outcome === 'timeout') {
        const lost = queue.length + (inFlight?.records.length ?? 0)
        counts.dropped += lost
        report('store.rows-dropped', `close() gave up on ${lost} call records that could not be written to ${file}`)
        queue = []
        inFlight = null
        settle(counts.accepted - counts.settled)
      }
      isClosed = true
      if (timer) clearTimeout(timer)
      timer = null
      const closingWorker = worker
      worker = null
      if (closingWorker) await stopWorker(closingWorker)
      reader.close()
    })()
    return closing
  }

  async function query(q: CallQuery): Promise<CallRecord[]> {
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

  async function get(requestId: string): Promise<CallRecord | null> {
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

  async function aggregate(q: AggregateQuery): Promise<AggregateRow[]> {
    const { sql, params, width } = buildSqliteAggregate(q)
    if (width === 0) return []
    const rows = prepared(sql).all(params) as SqliteAggregateRow[]
    return sortAggregateRows(rows.map((row) => ({
      bucket: params.since as number + row.b * width,
      keys: [row.k0, row.k1].slice(0, (q.by ?? []).length),
      total: row.total,
      denied: row.denied,
      status401: row.s401,
      status403: row.s403,
      status429: row.s429,
      status5xx: row.s5xx,
    })))
  }

  function stats(): CallLogStats {
    return {
      queued: counts.accepted - counts.settled,
      written: counts.written,
      dropped: counts.dropped,
      failures: counts.failures,
      pruned: counts.pruned,
    }
  }

  if (options.eagerWriter) {
    try {
      worker = startWorker()
    } catch {
      // sendBatch retries starting it with the first batch.
    }
  }

  return { append, query, get, flush, close, stats, aggregate }
}

interface SqliteAggregateRow {
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

/** JSON round trip of each record; records without a JSON form are counted, not kept. */
function toPlainRecords(records: CallRecord[]): { kept: CallRecord[]; lost: number } {
  const kept: CallRecord[] = []
  for (const record of records) {
    try {
      kept.push(JSON.parse(JSON.stringify(record)) as CallRecord)
    } catch {
      // Counted by the caller as dropped.
    }
  }
  return { kept, lost: records.length - kept.length }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return 50
  return Math.min(1000, Math.max(1, Math.trunc(limit)))
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Creates the file if needed, switches it to WAL and brings the schema up to date. */
function prepareFile(file: string): void {
  let db: Database.Database | undefined
  try {
    db = new Database(file)
    // WAL is a property of the file; set it once rather than write on every open.
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL')
    applyMigrations(db)
  } catch (error) {
    throw new GatewayError('store.unreachable', `cannot open the call log ${file}: ${messageOf(error)}`, {
      remediation: 'Check that the directory exists and is writable, and that the file is a Gatehouse SQLite database.',
      cause: error,
    })
  } finally {
    db?.close()
  }
}

function openReader(file: string): Database.Database {
  try {
    return new Database(file, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw new GatewayError('store.unreachable', `cannot open the call log ${file} for reading: ${messageOf(error)}`, { cause: error })
  }
}

/**
 * Starts the writer. After build this module is .js and so is the worker. Under vitest and tsx
 * the sources are .ts, which a worker cannot load by itself (Node 20 workers ignore
 * `--import tsx`), so a tiny bootstrap registers tsx and imports the .ts writer.
 */
function createWriterWorker(workerData: WriterData): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./sqlite-writer.js', import.meta.url), { workerData })
  }
  const tsxApi = resolveTsxEsmApi()
  const writer = new URL('./sqlite-writer.ts', import.meta.url).href
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.tsImport(${JSON.stringify(writer)}, ${JSON.stringify(import.meta.url)}))`
  return new Worker(bootstrap, { eval: true, workerData })
}

/**
 * The ESM entry of tsx's API. require.resolve finds the CommonJS twin, which cannot be
 * imported from a worker bootstrap, so its .mjs sibling is preferred.
 */
function resolveTsxEsmApi(): string {
  try {
    const cjs = createRequire(import.meta.url).resolve('tsx/esm/api')
    const mjs = cjs.replace(/\.cjs$/, '.mjs')
    return pathToFileURL(existsSync(mjs) ? mjs : cjs).href
  } catch {
    return 'tsx/esm/api'
  }
}

/** Asks the writer to close its connection cleanly; terminates it if it does not answer. */
async function stopWorker(worker: Worker): Promise<void> {
  worker.ref()
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => { void worker.terminate().then(() => resolve()) }, 5000)
    worker.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    worker.on('message', (message: WriterResponse) => {
      if (message.type === 'closed') void worker.terminate()
    })
    try {
      worker.postMessage({ type: 'close' } satisfies WriterRequest)
    } catch {
      void worker.terminate()
    }
  })
}
