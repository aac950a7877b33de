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
  /** Model, tokens and cost of a call on an ai route that reached a provider (absent otherwise). */
  ai?: AiCallFacts
}

/** What the call log keeps of an AI call. Never a prompt, a completion or a key. */
export interface AiCallFacts {
  /** Provider name from `providers:` that answered (or the last one tried, on failure). */
  provider: string
  /** The provider's model name. */
  model: string
  /** What the client asked for: an alias such as `fast`, or `provider/model`. */
  requested: string
  promptTokens: number
  completionTokens: number
  totalTokens: number
  /** True when the provider reported no usage and the gateway counted the tokens. */
  estimated: boolean
  /** USD from the provider's price table; null when the model has no price. */
  costUsd: number | null
  /** Milliseconds from the call to the provider until the first byte went to the client. */
  firstByteMs: number | null
  stream: boolean
  /** `chat` or `embeddings`. */
  operation?: string
  /** Targets tried before the one that answered (fallbacks after 429/5xx). */
  fallbacks?: number
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
  /** Counts calls per time bucket and dimension values, for denial analytics. One query. */
  aggregate?(query: AggregateQuery): Promise<AggregateRow[]>
}

/** A column calls can be grouped by in analytics. */
export type AggregateDimension = 'route' | 'consumer' | 'tenant' | 'layer' | 'rule'

/** Calls in `[since, until)`, cut into buckets of `bucketMs` starting at `since`, grouped by `by`. */
export interface AggregateQuery {
  /** Epoch ms lower bound (inclusive); bucket 0 starts here. */
  since: number
  /** Epoch ms upper bound (exclusive). */
  until: number
  /** Bucket width in ms; a bucket as wide as the span gives one row per group. */
  bucketMs: number
  /** Up to two dimensions; none counts per bucket only. */
  by?: AggregateDimension[]
  /** Only calls answered 401, 403 or 429. */
  deniedOnly?: boolean
  route?: string
  consumer?: string
  tenant?: string
  layer?: string
}

/** One group of one bucket. Buckets without calls are absent. */
export interface AggregateRow {
  /** Epoch ms at which the bucket starts (`since + n * bucketMs`). */
  bucket: number
  /** Values of the `by` dimensions, in order (null where the call had none). */
  keys: (string | null)[]
  total: number
  /** Calls answered 401, 403 or 429. */
  denied: number
  status401: number
  status403: number
  status429: number
  status5xx: number
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
