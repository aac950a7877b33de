import type { IncomingHttpHeaders } from 'node:http'
import type { RequestContext } from '../gateway/context.js'

/** A request context for policy tests: sensible defaults, override what the test is about. */
export function makeContext(overrides: Omit<Partial<RequestContext>, 'body'> & { body?: RequestContext['body'] | Buffer | string } = {}): RequestContext {
  const { body, headers, ...rest } = overrides
  const url = rest.url ?? rest.path ?? '/'
  const q = url.indexOf('?')
  const normalizedHeaders: IncomingHttpHeaders = { host: 'gateway.test', ...lowerKeys(headers ?? {}) }
  return {
    id: '01TESTREQUEST0000000000000',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    startedAt: 0,
    receivedAt: Date.UTC(2026, 0, 1),
    clientIp: '127.0.0.1',
    remoteAddress: '127.0.0.1',
    secure: false,
    method: 'GET',
    url,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    host: String(normalizedHeaders.host),
    params: {},
    responseHeaders: {},
    upstreamHeaders: {},
    trail: [],
    ...rest,
    headers: normalizedHeaders,
    body: body === undefined ? { kind: 'streaming' } : typeof body === 'string' || Buffer.isBuffer(body) ? { kind: 'buffered', bytes: Buffer.from(body) } : body,
  }
}

function lowerKeys(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v
  return out
}
