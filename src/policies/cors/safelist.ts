/**
 * What the Fetch standard lets browsers send cross-origin without asking first
 * (https://fetch.spec.whatwg.org/#cors-safelisted-method and #cors-safelisted-request-header).
 */

/** Browsers never preflight for these, and uppercase them before sending. */
export function isSafelistedMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'POST'
}

/**
 * Request headers that never need listing in `cors.headers`. A browser only names them in
 * Access-Control-Request-Headers when their value is unusual (too long, odd bytes), and it
 * would be pedantic to refuse those. Content-Type is deliberately absent: a browser names it
 * exactly when the value is not one of the three form types (e.g. application/json), and
 * allowing that is a real decision for the operator.
 */
const alwaysAllowedHeaders = new Set(['accept', 'accept-language', 'content-language', 'range'])

/** `name` must already be lowercase. */
export function isAlwaysAllowedHeader(name: string): boolean {
  return alwaysAllowedHeaders.has(name)
}

const tokenPattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** True for an RFC 9110 token (a valid method or header name). */
export function isToken(text: string): boolean {
  return tokenPattern.test(text)
}

// A real preflight names a few headers; more than this is abuse, not an app.
const maxRequestedHeaders = 64

/**
 * Splits Access-Control-Request-Headers into lowercase names. Empty items are dropped; the
 * list is cut at a sane length (whatever is cut is reported as not allowed by the caller
 * through `truncated`).
 */
export function parseRequestedHeaders(value: string | string[] | undefined): { names: string[]; truncated: boolean } {
  if (value === undefined) return { names: [], truncated: false }
  const text = typeof value === 'string' ? value : value.join(',')
  const names: string[] = []
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf(',', start)
    if (end === -1) end = text.length
    const name = text.slice(start, end).trim().toLowerCase()
    if (name.length > 0) {
      if (names.length === maxRequestedHeaders) return { names, truncated: true }
      names.push(name)
    }
    start = end + 1
  }
  return { names, truncated: false }
}
