import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { emptyAdminState, type AdminState } from '../admin/state.js'
import type { AuditEntry } from '../admin/types.js'
import { GatewayError } from '../core/errors.js'
import { isPostgresStoreUrl, resolveStoreLocation } from './open-store.js'

/** Where admin changes live: one JSON document beside the call log, in the same database. */
export interface AdminStateStore {
  load(): Promise<AdminState>
  save(state: AdminState): Promise<void>
  /** Appends to the audit log. */
  audit(entry: AuditEntry): Promise<void>
  /** The newest audit entries first. */
  auditLog(limit: number): Promise<AuditEntry[]>
  close(): Promise<void>
}

const table = 'CREATE TABLE IF NOT EXISTS admin_state (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL, updated_at BIGINT NOT NULL)'
const sqliteAuditTable = 'CREATE TABLE IF NOT EXISTS admin_audit (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, entry TEXT NOT NULL)'
const postgresAuditTable = 'CREATE TABLE IF NOT EXISTS admin_audit (id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, entry TEXT NOT NULL)'

function parseState(doc: string | undefined): AdminState {
  if (!doc) return emptyAdminState
  const parsed = JSON.parse(doc) as Partial<AdminState>
  const state: AdminState = { consumers: parsed.consumers ?? [], keys: parsed.keys ?? [], subscriptions: parsed.subscriptions ?? [] }
  // Later sections only when saved, so a state from before them reads back unchanged.
  if (parsed.routes) state.routes = parsed.routes
  if (parsed.upstreams) state.upstreams = parsed.upstreams
  if (parsed.tenants) state.tenants = parsed.tenants
  if (parsed.apis) state.apis = parsed.apis
  if (parsed.deleted) state.deleted = parsed.deleted
  return state
}

/**
 * Opens the admin state of a `store:` URL. Admin changes are rare, so plain statements suffice:
 * SQLite through its own connection (WAL lets it share the file with the call-log writer),
 * PostgreSQL through a two-connection pool. `store: off` keeps changes in memory only.
 */
export function openAdminStateStore(url: string, baseDir: string): AdminStateStore {
  if (url === 'off') {
    let state = emptyAdminState
    const log: AuditEntry[] = []
    return {
      load: async () => state,
      save: async (next) => { state = next },
      audit: async (entry) => { log.push(entry); if (log.length > 10_000) log.shift() },
      auditLog: async (limit) => log.slice(-limit).reverse(),
      close: async () => undefined,
    }
  }
  if (isPostgresStoreUrl(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    pool.on('error', () => undefined)
    let ready: Promise<unknown> | undefined
    const ensure = () => (ready ??= pool.query(table).then(() => pool.query(postgresAuditTable)))
    return {
      async load() {
        await ensure()
        const result = await pool.query<{ doc: string }>('SELECT doc FROM admin_state WHERE id = 1')
        return parseState(result.rows[0]?.doc)
      },
      async save(state) {
        await ensure()
        await pool.query('INSERT INTO admin_state (id, doc, updated_at) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = EXCLUDED.updated_at', [JSON.stringify(state), Date.now()])
      },
      async audit(entry) {
        await ensure()
        await pool.query('INSERT INTO admin_audit (time, entry) VALUES ($1, $2)', [entry.time, JSON.stringify(entry)])
      },
      async auditLog(limit) {
        await ensure()
        const result = await pool.query<{ entry: string }>('SELECT entry FROM admin_audit ORDER BY id DESC LIMIT $1', [limit])
        return result.rows.map((r) => JSON.parse(r.entry) as AuditEntry)
      },
      close: () => pool.end(),
    }
  }
  const { file } = resolveStoreLocation(url, baseDir)
  let db: Database.Database
  try {
    mkdirSync(dirname(file), { recursive: true })
    db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    db.exec(table)
    db.exec(sqliteAuditTable)
  } catch (error) {
    throw new GatewayError('store.unreachable', `cannot open the admin state in ${file}: ${(error as Error).message}`, { cause: error })
  }
  const read = db.prepare('SELECT doc FROM admin_state WHERE id = 1')
  const write = db.prepare('INSERT INTO admin_state (id, doc, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at')
  const appendAudit = db.prepare('INSERT INTO admin_audit (time, entry) VALUES (?, ?)')
  const readAudit = db.prepare('SELECT entry FROM admin_audit ORDER BY id DESC LIMIT ?')
  return {
    async load() {
      return parseState((read.get() as { doc: string } | undefined)?.doc)
    },
    async audit(entry) {
      appendAudit.run(entry.time, JSON.stringify(entry))
    },
    async auditLog(limit) {
      return (readAudit.all(limit) as { entry: string }[]).map((r) => JSON.parse(r.entry) as AuditEntry)
    },
    async save(state) {
      write.run(JSON.stringify(state), Date.now())
    },
    async close() {
      db.close()
    },
  }
}
