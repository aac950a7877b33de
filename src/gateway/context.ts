import type { IncomingHttpHeaders } from 'node:http'
import type { JsonObject } from '../core/json.js'

/** Who the caller is, once authn has run. Never holds the secret it was proven with. */
export interface Identity {
  /** Consumer name from config, or the JWT subject. */
  consumer: string
  tenant?: string
  /** How it was proven: `key`, `jwt`, ... */
  method: string
  scopes: string[]
  /** Non-secret facts for authz and the trace (key id, JWT claims). */
  claims?: JsonObject
}

/** One row of the decision trail: what a layer decided and how long it took. */
export interface TrailEntry {
  layer: string
  result: 'allow' | 'deny' | 'respond' | 'skip' | 'detect'
  rule?: string
  ms: number
  /** Facts the layer wants in the stored trace (never secrets). */
  detail?: JsonObject
}

/** State of the request body as the pipeline saw it. */
export type BodyState =
  | { kind: 'streaming' }
  | { kind: 'buffered'; bytes: Buffer }
  | { kind: 'too-large'; limitBytes: number; receivedBytes: number }
  | { kind: 'aborted' }

/**
 * The one object a request flows through. Built by `createContext`, read by policies,
 * written only by the pipeline.
 */
export interface RequestContext {
  id: string
  /** W3C traceparent as received, or the one we minted. */
  traceparent: string
  traceId: string
  /** performance.now() at arrival. */
  startedAt: number
  /** Epoch ms at arrival. */
  receivedAt: number
  /** Client ip after trusted-proxy resolution. */
  clientIp: string
  /** The TCP peer. */
  remoteAddress: string
  method: string
  /** Raw request target as received (path + query). */
  url: string
  /** Normalised path the router and policies check, and the upstream receives. */
  path: string
  /** Query string without `?`, or ''. */
  query: string
  host: string
  headers: IncomingHttpHeaders
  routeName?: string
  params: Record<string, string>
  body: BodyState
  /** Parsed JSON body when the body policy parsed it. */
  json?: unknown
  identity?: Identity
  /** Headers added to the eventual response (CORS, rate limit). */
  responseHeaders: Record<string, string>
  /** Headers added to the upstream request by policies (transform, identity). */
  upstreamHeaders: Record<string, string>
  trail: TrailEntry[]
}
