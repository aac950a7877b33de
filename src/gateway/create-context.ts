import type { IncomingHttpHeaders } from 'node:http'
import type { RequestContext } from './context.js'
import { resolveRequestId, resolveTraceparent } from './request-id.js'
import type { ClientIpResolver } from '../policies/ip/client-ip.js'

const streaming = Object.freeze({ kind: 'streaming' }) as RequestContext['body']

/** Host without port, lower-cased, for routing. */
function hostOf(raw: string | undefined): string {
  if (!raw) return ''
  if (raw.charCodeAt(0) === 91 /* [ */) {
    const end = raw.indexOf(']')
    return end === -1 ? raw.toLowerCase() : raw.slice(0, end + 1).toLowerCase()
  }
  const colon = raw.indexOf(':')
  return (colon === -1 ? raw : raw.slice(0, colon)).toLowerCase()
}

/** What createContext reads of a request: an IncomingMessage, or the parts `explain` builds. */
export interface RequestParts {
  method?: string
  url?: string
  headers: IncomingHttpHeaders
  socket: { remoteAddress?: string; encrypted?: boolean }
}

/** Builds the one context a request flows through. `path`/`query` are set by the caller after normalising. */
export function createContext(req: RequestParts, resolveClientIp: ClientIpResolver, receivedAt: number): RequestContext {
  const headers = req.headers
  const remoteAddress = req.socket.remoteAddress ?? ''
  const trace = resolveTraceparent(headers.traceparent)
  return {
    id: resolveRequestId(headers['x-request-id']),
    traceparent: trace.traceparent,
    traceId: trace.traceId,
    startedAt: performance.now(),
    receivedAt,
    clientIp: resolveClientIp(remoteAddress, headers['x-forwarded-for']),
    remoteAddress,
    secure: req.socket.encrypted === true,
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    path: '/',
    query: '',
    host: hostOf(headers.host),
    headers,
    routeName: undefined,
    params: {},
    body: streaming,
    identity: undefined,
    responseHeaders: {},
    upstreamHeaders: {},
    trail: [],
  }
}
