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

/** What the gateway learned from a client certificate. Never the private key, obviously. */
export interface ClientCertificate {
  /** Subject as `CN=app,O=Acme`. */
  subject: string
  issuer: string
  /** SHA-256 fingerprint, colon-separated hex, as Node reports it. */
  fingerprint256: string
  serialNumber: string
  /** Subject alternative names as Node reports them (`DNS:a, URI:spiffe://...`). */
  subjectAltName?: string
  validTo: string
  /** The chain verified against the configured CA. */
  authorized: boolean
  /** Why verification failed, when it did (e.g. `CERT_HAS_EXPIRED`). */
  authorizationError?: string
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
  /** True when the client connected over TLS. */
  secure: boolean
  /** The client certificate of a TLS connection, when one was presented (mTLS). */
  clientCert?: ClientCertificate
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
  /** Request headers policies asked not to forward (lower-case). */
  dropUpstreamHeaders?: string[]
  /** Path to send upstream instead of `path` (transform). */
  upstreamPath?: string
  /** Edits to the upstream response's headers (transform). */
  responseHeaderEdits?: { set?: Record<string, string>; remove?: string[] }
  trail: TrailEntry[]
}
