import type { JsonObject } from '../core/json.js'
import type { TrailEntry } from '../gateway/context.js'

/**
 * One logged call, allowed or denied. Never holds a secret: no keys, tokens, cookies,
 * authorization headers or bodies.
 */
export interface CallRecord {
  /** Epoch milliseconds at arrival. */
  time: number
  requestId: string
  traceId: string
  route: string | null
  consumer: string | null
  tenant: string | null
  method: string
  /** Path as checked by the gateway, without the query string. */
  path: string
  /** Status sent to the client. */
  status: number
  /** `allow` for an allowed call, `upstream` when the upstream answered 4xx/5xx itself, else the denying layer. */
  decision: string
  /** Layer that decided (pipeline layer, `upstream`, or `gateway` for no-route / internal errors). */
  layer: string
  /** Short rule id (`missing-scope`) or null. */
  rule: string | null
  upstreamStatus: number | null
  upstreamMs: number | null
  totalMs: number
  requestBytes: number
  responseBytes: number
  clientIp: string
  /** Which upstream target served the call, if any. */
  upstreamTarget: string | null
  /** Every layer's verdict in order. */
  trail: TrailEntry[]
  /** The full denial for the trace (message, remediation, detail), never shown to callers. */
  denial: JsonObject | null
}

export interface CallQuery {
  /** Only calls the gateway or upstream refused (status >= 400). */
  denied?: boolean
  route?: string
  consumer?: string
  tenant?: string
  layer?: string
  status?: number
  /** Epoch ms lower bound (inclusive). */
  since?: number
  /** Epoch ms upper bound (exclusive). */
  until?: number
  /** Default 50, max 1000. */
  limit?: number
}

/** The call log. Writes are buffered and batched; nothing here blocks a request. */
export interface CallLogStore {
  /** Queues a record; returns immediately. */
  append(record: CallRecord): void
  /** Newest first. */
  query(query: CallQuery): Promise<CallRecord[]>
  /** By full request id (or a unique prefix of at least 8 chars). */
  get(requestId: string): Promise<CallRecord | null>
  /** Writes what is queued now; resolves when it is on disk. */
  flush(): Promise<void>
  /** Flushes and closes. */
  close(): Promise<void>
  /** Counters for metrics and health: rows waiting, written, dropped, failed writes. */
  stats?(): CallLogStats
}

/** Write-side counters of a call log since it was opened. */
export interface CallLogStats {
  /** Rows appended and not yet committed (queued or being written). */
  queued: number
  /** Rows committed. */
  written: number
  /** Rows given up on: the queue was full, or close() could not write them. */
  dropped: number
  /** Failed batch writes (each is retried). */
  failures: number
  /** Rows deleted because they were older than the retention window. */
  pruned?: number
}
