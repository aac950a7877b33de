import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { createSqliteReads } from './sqlite-reads.js'

/** Messages to the reader thread: one query each, answered by id. */
export type ReaderRequest =
  | { id: number; op: 'query'; arg: unknown }
  | { id: number; op: 'get'; arg: unknown }
  | { id: number; op: 'aggregate'; arg: unknown }
  | { id: number; op: 'close' }
export type ReaderResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

// The reader thread owns one read-only connection; WAL lets it read while the writer writes.
const db = new Database((workerData as { file: string }).file, { readonly: true, fileMustExist: true })
const statements = new Map<string, Database.Statement>()
const reads = createSqliteReads((sql) => {
  let statement = statements.get(sql)
  if (!statement) {
    statement = db.prepare(sql)
    statements.set(sql, statement)
  }
  return statement
})

parentPort!.on('message', (message: ReaderRequest) => {
  if (message.op === 'close') {
    db.close()
    parentPort!.postMessage({ id: message.id, ok: true, value: null } satisfies ReaderResponse)
    return
  }
  try {
    const value =
      message.op === 'query' ? reads.query(message.arg as Parameters<typeof reads.query>[0])
      : message.op === 'get' ? reads.get(message.arg as string)
      : reads.aggregate(message.arg as Parameters<typeof reads.aggregate>[0])
    parentPort!.postMessage({ id: message.id, ok: true, value } satisfies ReaderResponse)
  } catch (error) {
    parentPort!.postMessage({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies ReaderResponse)
  }
})
