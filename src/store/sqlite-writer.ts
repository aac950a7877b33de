import Database from 'better-sqlite3'
import { parentPort, workerData } from 'node:worker_threads'
import { insertCallSql, recordToRow, type CallRow, type WriterData, type WriterRequest, type WriterResponse } from './sqlite-schema.js'

// The writer worker: owns the only write connection, so the gateway's event loop never waits
// on the disk. It answers every batch with `written` or `failed`; the store keeps the rows
// queued until it hears `written`. A failed open is retried on the next batch, not fatal.

const { file, busyTimeoutMs, retentionDays } = workerData as WriterData

/** How often old calls are looked for; pruning on every batch would only cost index reads. */
const pruneEveryMs = 10 * 60_000
/** Rows deleted per statement, and statements per pass: a backlog of old rows is removed in
 * short steps across passes instead of one long write that would hold up new batches. */
const pruneChunk = 2000
const pruneRounds = 10
let lastPruneAt = 0
const port = parentPort
if (!port) throw new Error('sqlite-writer must run in a worker thread')

let db: Database.Database | null = null
/** Inserts rows in one transaction; returns how many were skipped as unstorable. */
let insertBatch: ((rows: CallRow[]) => number) | null = null

/**
 * A row SQLite refuses by itself (a value of the wrong kind, too big). Such a row is skipped so
 * it cannot block the log; anything else (busy, disk full, I/O) fails the batch, which is retried.
 */
function isBadRowError(error: unknown): boolean {
  if (error instanceof Database.SqliteError) return /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(error.code)
  return error instanceof TypeError || error instanceof RangeError
}

function openWriter(): (rows: CallRow[]) => number {
  if (insertBatch) return insertBatch
  const connection = new Database(file, { timeout: busyTimeoutMs })
  try {
    connection.pragma('journal_mode = WAL')
    // NORMAL in WAL mode: a commit survives a process crash; only a power loss may drop the
    // last few batches, which is the right trade for a log written hundreds of times a second.
    connection.pragma('synchronous = NORMAL')
    const insert = connection.prepare<CallRow>(insertCallSql)
    insertBatch = connection.transaction((rows: CallRow[]) => {
      let skipped = 0
      for (const row of rows) {
        try {
          insert.run(row)
        } catch (error) {
          // A failed statement undoes only itself; the rest of the transaction stands.
          if (!isBadRowError(error)) throw error
          skipped++
        }
      }
      return skipped
    })
    db = connection
    return insertBatch
  } catch (error) {
    connection.close()
    throw error
  }
}

/** Deletes calls past the retention window, a bounded amount at a time. Returns rows deleted. */
function pruneOldCalls(connection: Database.Database, now: number): number {
  if (retentionDays === null || now - lastPruneAt < pruneEveryMs) return 0
  lastPruneAt = now
  const cutoff = now - retentionDays * 86_400_000
  const remove = connection.prepare('DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE time < ? ORDER BY time LIMIT ?)')
  let pruned = 0
  for (let round = 0; round < pruneRounds; round++) {
    const { changes } = remove.run(cutoff, pruneChunk)
    pruned += changes
    if (changes < pruneChunk) break
  }
  return pruned
}

function closeWriter(): void {
  insertBatch = null
  if (db?.open) db.close()
  db = null
}

function reply(message: WriterResponse): void {
  port!.postMessage(message)
}

port.on('message', (message: WriterRequest) => {
  if (message.type === 'close') {
    closeWriter()
    reply({ type: 'closed' })
    return
  }
  try {
    const rows = message.records.map(recordToRow)
    const skipped = openWriter()(rows)
    let pruned = 0
    try {
      if (db) pruned = pruneOldCalls(db, Date.now())
    } catch {
      // The batch is committed; a failed prune is retried on the next pass.
    }
    reply({ type: 'written', batch: message.batch, rows: rows.length - skipped, skipped, pruned })
  } catch (error) {
    // Drop the connection so the retry starts clean (a replaced or unlocked file, a fixed disk).
    try { closeWriter() } catch { /* already broken */ }
    reply({ type: 'failed', batch: message.batch, message: error instanceof Error ? error.message : String(error) })
  }
})
