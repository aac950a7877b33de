import type Database from 'better-sqlite3'
import type { JsonObject, JsonValue } from '../core/json.js'
import type { TrailEntry } from '../gateway/context.js'
import { migrations } from './migrations/index.js'
import type { AiCallFacts, CallRecord } from './types.js'

/** A `calls` row as SQLite stores it. */
export interface CallRow {
  time: number
  request_id: string
  trace_id: string
  route: string | null
  consumer: string | null
  tenant: string | null
  method: string
  path: string
  status: number
  decision: string
  layer: string
  rule: string | null
  upstream_status: number | null
  upstream_ms: number | null
  total_ms: number
  request_bytes: number
  response_bytes: number
  client_ip: string
  upstream_target: string | null
  trail: string
  denial: string | null
  /** JSON of `CallRecord.ai`, for calls on ai routes. */
  ai: string | null
}

/** Messages the store sends its writer worker. */
export type WriterRequest =
  | { type: 'write'; batch: number; records: CallRecord[] }
  | { type: 'close' }

/** What the writer worker answers. */
export type WriterResponse =
  | { type: 'written'; batch: number; rows: number; skipped: number; pruned: number }
  | { type: 'failed'; batch: number; message: string }
  | { type: 'closed' }

/** What the worker is started with. */
export interface WriterData {
  file: string
  busyTimeoutMs: number
  /** Delete calls older than this many days; null keeps them forever. */
  retentionDays: number | null
}

/**
 * Applies the migrations this database has not seen, in order, each in its own immediate
 * transaction so two processes opening the same file cannot both apply one.
 */
export function applyMigrations(db: Database.Database): number[] {
  // Look before taking the write lock: an up-to-date file (the usual case, and the only one a
  // read-only CLI user can open) needs no write at all.
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined
  if (hasTable) {
    const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version))
    if (migrations.every((m) => done.has(m.version))) return []
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  const applied: number[] = []
  const isApplied = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?')
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const apply = db.transaction(() => {
      // Re-checked inside the write lock: another process may have applied it meanwhile.
      if (isApplied.get(migration.version)) return false
      db.exec(migration.sql)
      record.run(migration.version, migration.name, Date.now())
      return true
    })
    if (apply.immediate()) applied.push(migration.version)
  }
  return applied
}

/** Column list of the insert, in `CallRow` key order. */
const columns: (keyof CallRow)[] = [
  'time', 'request_id', 'trace_id', 'route', 'consumer', 'tenant', 'method', 'path', 'status',
  'decision', 'layer', 'rule', 'upstream_status', 'upstream_ms', 'total_ms', 'request_bytes',
  'response_bytes', 'client_ip', 'upstream_target', 'trail', 'denial', 'ai',
]

/**
 * The insert the writer runs. `OR IGNORE` because a batch may be sent twice when a worker dies
 * after committing but before it could say so; the unique request id makes the resend a no-op.
 */
export const insertCallSql = `INSERT OR IGNORE INTO calls (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`

/**
 * Key names whose values are never stored, whatever a policy put in a trail or denial detail.
 * Policies promise not to put secrets there; this is the second lock on that door.
 * Compared after lowercasing and dropping `-` and `_`.
 */
const secretKeys = new Set([
  'authorization', 'proxyauthorization', 'cookie', 'setcookie', 'password', 'passwd', 'secret',
  'clientsecret', 'token', 'accesstoken', 'refreshtoken', 'idtoken', 'apikey', 'xapikey', 'key',
  'privatekey',
])

/** True for key names whose values are secrets (`Authorization`, `x-api-key`, `client_secret`). */
export function isSecretKey(name: string): boolean {
  return secretKeys.has(name.toLowerCase().replace(/[-_]/g, ''))
}

/** Copies a JSON value with secret-named members replaced by `[redacted]`; depth-bounded. */
export function redactSecrets(value: unknown, depth = 0): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (depth > 32) return '[too deep]'
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1))
  if (typeof value === 'object') {
    const out: JsonObject = {}
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue
      // Flags and counts under a secret-sounding name (`token: false`) carry no secret.
      const isScalar = item === null || typeof item === 'boolean' || typeof item === 'number'
      out[key] = isSecretKey(key) && !isScalar ? '[redacted]' : redactSecrets(item, depth + 1)
    }
    return out
  }
  return null
}

/** Longest text stored for a path, route or similar field; anything longer is cut. */
const maxTextLength = 4096

function clip(text: string): string {
  return text.length > maxTextLength ? text.slice(0, maxTextLength) : text
}

function clipOrNull(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : clip(String(text))
}

function numberOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/** Largest trail or denial JSON kept whole; beyond it the `detail` members are left out. */
const maxJsonLength = 64 * 1024

function integerOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? Math.trunc(value) : fallback
}

/** Trail JSON, without per-layer details if it would be too big. */
function trailJson(trail: unknown): string {
  const full = JSON.stringify(redactSecrets(Array.isArray(trail) ? trail : []))
  if (full.length <= maxJsonLength || !Array.isArray(trail)) return full
  const slim = trail.map((entry: unknown) => {
    if (entry === null || typeof entry !== 'object') return entry
    const { detail: _dropped, ...rest } = entry as Record<string, unknown>
    return { ...rest, detailOmitted: true }
  })
  return JSON.stringify(redactSecrets(slim))
}

/** Denial JSON, without its `detail` if it would be too big. */
function denialJson(denial: unknown): string | null {
  if (denial === null || denial === undefined) return null
  const full = JSON.stringify(redactSecrets(denial))
  if (full.length <= maxJsonLength || typeof denial !== 'object') return full
  const { detail: _dropped, ...rest } = denial as Record<string, unknown>
  return JSON.stringify(redactSecrets({ ...rest, detailOmitted: true }))
}

/**
 * Turns a record into a row: JSON for trail and denial, secrets redacted, long text clipped,
 * and a safe value in every NOT NULL column, so one malformed record cannot fail a batch.
 */
export function recordToRow(record: CallRecord): CallRow {
  return {
    time: integerOr(record.time, Date.now()),
    request_id: clip(String(record.requestId ?? '')),
    trace_id: clip(String(record.traceId ?? '')),
    route: clipOrNull(record.route),
    consumer: clipOrNull(record.consumer),
    tenant: clipOrNull(record.tenant),
    method: clip(String(record.method ?? '')),
    path: clip(String(record.path ?? '')),
    status: integerOr(record.status, 0),
    decision: clip(String(record.decision ?? '')),
    layer: clip(String(record.layer ?? '')),
    rule: clipOrNull(record.rule),
    upstream_status: numberOrNull(record.upstreamStatus),
    upstream_ms: numberOrNull(record.upstreamMs),
    total_ms: numberOrNull(record.totalMs) ?? 0,
    request_bytes: Math.trunc(numberOrNull(record.requestBytes) ?? 0),
    response_bytes: Math.trunc(numberOrNull(record.responseBytes) ?? 0),
    client_ip: clip(String(record.clientIp ?? '')),
    upstream_target: clipOrNull(record.upstreamTarget),
    trail: trailJson(record.trail),
    denial: denialJson(record.denial),
    ai: aiJson(record.ai),
  }
}

/** The AI facts as JSON: only the known fields, each of its kind, so nothing else slips in. */
function aiJson(ai: CallRecord['ai']): string | null {
  if (ai === null || ai === undefined || typeof ai !== 'object') return null
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.trunc(value)) : 0)
  const facts: AiCallFacts = {
    provider: clip(String(ai.provider ?? '')),
    model: clip(String(ai.model ?? '')),
    requested: clip(String(ai.requested ?? '')),
    promptTokens: count(ai.promptTokens),
    completionTokens: count(ai.completionTokens),
    totalTokens: count(ai.totalTokens),
    estimated: ai.estimated === true,
    costUsd: numberOrNull(ai.costUsd),
    firstByteMs: numberOrNull(ai.firstByteMs),
    stream: ai.stream === true,
  }
  if (typeof ai.operation === 'string') facts.operation = clip(ai.operation)
  if (typeof ai.fallbacks === 'number') facts.fallbacks = count(ai.fallbacks)
  return JSON.stringify(facts)
}

function parseJson(text: string | null): unknown {
  if (text === null) return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

/** Turns a stored row back into a record; a damaged JSON column reads as empty, not as an error. */
export function rowToRecord(row: CallRow): CallRecord {
  const trail = parseJson(row.trail)
  const denial = parseJson(row.denial)
  const ai = parseJson(row.ai ?? null)
  const record: CallRecord = {
    time: row.time,
    requestId: row.request_id,
    traceId: row.trace_id,
    route: row.route,
    consumer: row.consumer,
    tenant: row.tenant,
    method: row.method,
    path: row.path,
    status: row.status,
    decision: row.decision,
    layer: row.layer,
    rule: row.rule,
    upstreamStatus: row.upstream_status,
    upstreamMs: row.upstream_ms,
    totalMs: row.total_ms,
    requestBytes: row.request_bytes,
    responseBytes: row.response_bytes,
    clientIp: row.client_ip,
    upstreamTarget: row.upstream_target,
    trail: Array.isArray(trail) ? (trail as TrailEntry[]) : [],
    denial: denial !== null && typeof denial === 'object' && !Array.isArray(denial) ? (denial as JsonObject) : null,
  }
  // Only AI calls carry the member, so other records read back exactly as they were written.
  if (ai !== null && typeof ai === 'object' && !Array.isArray(ai)) record.ai = ai as AiCallFacts
  return record
}
