import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import type { Runtime } from '../gateway/compile.js'
import type { DenialAlert } from '../analytics/alerts.js'
import type { CallLogStore, CallRecord } from '../store/types.js'
import type { GatehouseConfig } from '../config/schema.js'
import type { AdminPrincipal } from './auth.js'
import type { AdminState } from './state.js'

/** What admin handlers may reach. */
export interface AdminDeps {
  runtime(): Runtime
  store: CallLogStore | undefined
  /** Prometheus exposition, when observability is wired. */
  metrics?(): Promise<{ contentType: string; body: string }>
  /** Admin changes laid over the config file. */
  adminState?(): AdminState
  /** Applies, saves and compiles an admin change; refused (nothing saved) when it cannot run. */
  changeAdminState?(mutate: (state: AdminState) => AdminState): Promise<{ ok: true } | { ok: false; message: string }>
  /** Receives every admin action (the audit log). */
  onAudit?(entry: AuditEntry): void
  /** The stored audit log, newest first. */
  auditLog?(limit: number): Promise<AuditEntry[]>
  /** Recent denial-spike alerts, newest first, when `alerts:` is configured. */
  alerts?(): DenialAlert[]
  /** Subscribes to every call as it is logged (live tail); returns the unsubscribe function. */
  onCall?(listener: (record: CallRecord) => void): () => void
  /** The config file as loaded (before admin changes are laid over it). */
  fileConfig?(): Readonly<GatehouseConfig>
  /** Path of the config file the gateway runs. */
  configFile?: string
}

export interface AuditEntry {
  time: number
  actor: string
  role: string
  action: string
  target: string
  detail: Record<string, unknown>
}

export interface AdminRequest<Query = Record<string, unknown>, Body = unknown> {
  principal: AdminPrincipal
  params: Record<string, string>
  query: Query
  body: Body
  /** Records an admin action in the audit log. */
  audit(action: string, target: string, detail?: Record<string, unknown>): void
}

export interface AdminResult {
  status: number
  /** JSON (or problem fields `title`, `detail`, `errors` when status >= 400), or text with `contentType`. */
  body: unknown
  /** Sends `body` as text of this type instead of JSON. */
  contentType?: string
  /** Takes over the response (server-sent events); the server sends nothing else. */
  stream?(req: IncomingMessage, res: ServerResponse): void
}

/** One admin endpoint: its route, who may call it, its query schema (validated), its handler. */
export interface AdminEndpoint<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  summary: string
  action: 'read' | 'write'
  query?: Q
  /** JSON body schema; the server answers 400 naming the field when it does not match. */
  body?: B
  /** Only `admin` tokens (not tenant-admin, not viewer) may call it. */
  adminOnly?: boolean
  /** The body is text of one of these content types (e.g. YAML), passed to the handler as a string. */
  textBody?: { types: readonly string[]; maxBytes: number }
  /** Also accepts the token as `?access_token=` (EventSource cannot send headers). */
  tokenInQuery?: boolean
  handle(request: AdminRequest<z.output<Q>, z.output<B>>, deps: AdminDeps): Promise<AdminResult>
}

export function defineEndpoint<Q extends z.ZodType, B extends z.ZodType = z.ZodType>(endpoint: AdminEndpoint<Q, B>): AdminEndpoint<Q, B> {
  return endpoint
}
