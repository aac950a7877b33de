import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { GatewayError } from '../core/errors.js'
import { applyMigrations, rowToRecord, type CallRow, type WriterData, type WriterRequest, type WriterResponse } from './sqlite-schema.js'
import { createSqliteReads, type SqliteReads } from './sqlite-reads.js'
import type { ReaderRequest, ReaderResponse } from './sqlite-reader.js'
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
   * Run queries in a reader thread instead of on the caller's event loop. The gateway does, so a
   * long query (a day of analytics) never holds up requests; the CLI reads in process.
   */
  readerWorker?: boolean
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
      await reads.close()
    })()
    return closing
  }

  // Reads run here, or in a reader thread (readerWorker) so a long report never holds up requests.
  const reads = options.readerWorker ? createReaderClient(file) : inProcessReads(createSqliteReads((sql) => prepared(sql)))

  const query = (q: CallQuery) => reads.query(q)
  const get = (requestId: string) => reads.get(requestId)
  const aggregate = (q: AggregateQuery) => reads.aggregate(q)

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
  return createStoreWorker('sqlite-writer', workerData)
}

/** Starts `./<name>.js` (or, from sources, `.ts` through a tsx bootstrap) as a worker thread. */
function createStoreWorker(name: string, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData })
  }
  const tsxApi = resolveTsxEsmApi()
  const entry = new URL(`./${name}.ts`, import.meta.url).href
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`
  return new Worker(bootstrap, { eval: true, workerData })
}

/** The store's reads, whichever thread runs them. */
interface AsyncReads {
  query(q: CallQuery): Promise<CallRecord[]>
  get(requestId: string): Promise<CallRecord | null>
  aggregate(q: AggregateQuery): Promise<AggregateRow[]>
  close(): Promise<void>
}

function inProcessReads(reads: SqliteReads): AsyncReads {
  return {
    query: async (q) => reads.query(q),
    get: async (id) => reads.get(id),
    aggregate: async (q) => reads.aggregate(q),
    close: async () => undefined,
  }
}

/** Reads answered by a reader thread; the worker is started lazily and restarted if it dies. */
function createReaderClient(file: string): AsyncReads {
  let worker: Worker | undefined
  let nextId = 1
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  const failAll = (message: string) => {
    for (const waiter of pending.values()) waiter.reject(new GatewayError('store.read-failed', message))
    pending.clear()
  }
  const ensure = (): Worker => {
    if (worker) return worker
    const started = createStoreWorker('sqlite-reader', { file })
    started.on('message', (message: ReaderResponse) => {
      const waiter = pending.get(message.id)
      if (!waiter) return
      pending.delete(message.id)
      if (message.ok) waiter.resolve(message.value)
      else waiter.reject(new GatewayError('store.read-failed', `call-log query failed: ${message.error}`))
    })
    const gone = (why: string) => {
      if (worker === started) worker = undefined
      failAll(why)
    }
    started.on('error', (error: Error) => gone(`the call-log reader crashed: ${error.message}`))
    started.on('exit', () => gone('the call-log reader exited'))
    started.unref()
    worker = started
    return started
  }
  const ask = <T>(op: 'query' | 'get' | 'aggregate', arg: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      ensure().postMessage({ id, op, arg } satisfies ReaderRequest)
    })
  return {
    query: (q) => ask<CallRecord[]>('query', q),
    get: (id) => ask<CallRecord | null>('get', id),
    aggregate: (q) => ask<AggregateRow[]>('aggregate', q),
    async close() {
      const current = worker
      worker = undefined
      if (current) await current.terminate()
    },
  }
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
