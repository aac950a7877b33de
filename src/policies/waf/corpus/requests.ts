import type { IncomingHttpHeaders } from 'node:http'

/** Where a value is placed in a request. */
export const placements = ['query', 'query-raw', 'path', 'cookie', 'user-agent', 'referer', 'form', 'json', 'xml', 'multipart'] as const
export type Placement = (typeof placements)[number]

/** A request as the corpus describes it: enough to build a context or raw HTTP/1.1 bytes. */
export interface CorpusRequest {
  method: string
  /** Request target exactly as sent. */
  url: string
  headers: IncomingHttpHeaders
  body?: string
}

const alreadyEncoded = /%[0-9a-fA-F]{2}/

/** Encodes only what would break the request line or split the parameter, leaving the rest as an attacker types it. */
function encodeLoosely(value: string): string {
  let out = ''
  for (const ch of value) {
    if (ch === ' ') out += '%20'
    else if (ch === '#' || ch === '&' || ch === '+' || ch === '"' || ch === '<' || ch === '>' || ch === '\\' || ch === '^' || ch === '`' || ch === '{' || ch === '|' || ch === '}') out += encodeURIComponent(ch)
    else if (ch === '\n') out += '%0a'
    else if (ch === '\r') out += '%0d'
    else if (ch === '\t') out += '%09'
    else if (ch.charCodeAt(0) > 126 || ch.charCodeAt(0) < 32) out += encodeURIComponent(ch)
    else out += ch
  }
  return out
}

/** Percent-encodes for a query or form value, keeping attacker-made escapes (`..%2f`) as they are. */
export function encodeValue(value: string): string {
  return alreadyEncoded.test(value) ? encodeLoosely(value) : encodeURIComponent(value)
}

function escapeXml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

/** Builds the request that carries `value` (in parameter `param`) at `placement`. */
export function buildRequest(placement: Placement, param: string, value: string): CorpusRequest {
  const base: IncomingHttpHeaders = { host: 'api.example.com', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', accept: 'application/json' }
  switch (placement) {
    case 'query':
      return { method: 'GET', url: `/api/search?lang=en&${param}=${encodeValue(value)}`, headers: base }
    case 'query-raw':
      return { method: 'GET', url: `/api/search?${param}=${encodeLoosely(value)}&page=1`, headers: base }
    case 'path':
      return { method: 'GET', url: `/api/items/${encodeLoosely(value).replaceAll('?', '%3F')}`, headers: base }
    case 'cookie':
      return { method: 'GET', url: '/api/account', headers: { ...base, cookie: `session=8f14e45fceea167a; ${param}=${encodeValue(value)}; theme=dark` } }
    case 'user-agent':
      return { method: 'GET', url: '/api/status', headers: { ...base, 'user-agent': value.replace(/[\r\n]/g, ' ') } }
    case 'referer':
      return { method: 'GET', url: '/api/status', headers: { ...base, referer: `https://www.example.com/search?${param}=${encodeValue(value)}` } }
    case 'form':
      return { method: 'POST', url: '/api/submit', headers: { ...base, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=abc123&${param}=${encodeValue(value)}&submit=Send` }
    case 'json':
      return { method: 'POST', url: '/api/submit', headers: { ...base, 'content-type': 'application/json' }, body: JSON.stringify({ order: { id: 42, [param]: value, items: [{ sku: 'A-1', qty: 2 }] } }) }
    case 'xml':
      return { method: 'POST', url: '/api/submit', headers: { ...base, 'content-type': 'application/xml' }, body: `<?xml version="1.0"?><order id="42"><${param}>${escapeXml(value)}</${param}><qty>2</qty></order>` }
    case 'multipart': {
      const boundary = '----gatehouseBoundary7MA4YWxk'
      const body = `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nHello\r\n--${boundary}\r\nContent-Disposition: form-data; name="${param}"\r\n\r\n${value}\r\n--${boundary}--\r\n`
      return { method: 'POST', url: '/api/upload', headers: { ...base, 'content-type': `multipart/form-data; boundary=${boundary}` }, body }
    }
  }
}

/** Serialises a corpus request as raw HTTP/1.1 bytes (what the end-to-end tests write to a socket). */
export function toRawHttp(request: CorpusRequest, host: string): string {
  const lines = [`${request.method} ${request.url} HTTP/1.1`]
  for (const [name, value] of Object.entries({ ...request.headers, host })) if (value !== undefined) lines.push(`${name}: ${String(value)}`)
  if (request.body !== undefined) lines.push(`content-length: ${Buffer.byteLength(request.body)}`)
  lines.push('connection: close')
  return `${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`
}
