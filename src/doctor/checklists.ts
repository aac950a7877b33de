import type { DoctorLayer } from './types.js'

/** A generic, product-independent troubleshooting list for one status code. */
export interface Checklist {
  /** The layer such a status most often comes from. */
  layer: DoctorLayer
  /** One sentence saying what the status means. */
  summary: string
  /** Steps in the order worth checking them. */
  steps: string[]
}

const checklists: Record<number, Checklist> = {
  400: {
    layer: 'unknown',
    summary: 'The server found the request malformed (syntax, body, headers, or a framework CSRF check that answers 400).',
    steps: [
      'Validate the body against the declared Content-Type (valid JSON, right field names).',
      'Check header sizes and cookies; remove stale cookies.',
      'If the body mentions a CSRF token, send the token and session cookie the framework expects.',
    ],
  },
  401: {
    layer: 'authn',
    summary: 'The server does not know who the caller is: credentials are missing, malformed, expired or invalid.',
    steps: [
      'Read the WWW-Authenticate response header: it names the scheme (Basic, Bearer, ApiKey) and often the error.',
      'Send the credential in the exact header the API documents (Authorization: Bearer vs X-API-Key) without extra spaces or quotes.',
      'Check the token has not expired (decode the JWT exp) and was issued for this audience and environment.',
      'Make sure no proxy between you and the server strips the Authorization header.',
    ],
  },
  403: {
    layer: 'unknown',
    summary: 'The server (or something in front of it) understood the request and refused it.',
    steps: [
      'Compare with a request that works: drop the body, then custom headers, then cookies, to find what triggers the denial (gatehouse doctor does this).',
      'Check response headers for the layer: cf-ray / x-amz-cf-id / x-azure-ref mean a CDN or WAF; server: nginx/Apache/IIS means the web server; JSON errors usually mean the app or gateway.',
      'Check the client IP is allowed (IP allow lists, geo rules, corporate proxy egress IP).',
      'If authenticated, check the identity has the role, scope or subscription for this resource.',
      'For browser POST/PUT/DELETE with cookies, check CSRF tokens and the Origin/Referer the server trusts.',
      'For static files, check file permissions and directory index settings on the server.',
    ],
  },
  404: {
    layer: 'gateway',
    summary: 'Nothing answers at this path for this host and method (some APIs also hide forbidden resources as 404).',
    steps: ['Check the URL, base path/stage prefix, trailing slash and Host.', 'For private resources (GitHub, S3), 404 can mean no permission: check the credentials.'],
  },
  405: {
    layer: 'server-config',
    summary: 'The endpoint exists but does not accept this method.',
    steps: [
      'Read the Allow response header for the accepted methods.',
      'If the URL serves static files (nginx/CDN), the request never reached the app: fix routing for the path.',
      'Check the route definition in the app accepts the method (trailing slash variants differ).',
      'On IIS, WebDAV often intercepts PUT/DELETE.',
    ],
  },
  407: {
    layer: 'authn',
    summary: 'A forward proxy between the client and the server requires proxy authentication.',
    steps: [
      'Configure proxy credentials (HTTPS_PROXY=http://user:pass@proxy:port or Proxy-Authorization).',
      'Add the host to NO_PROXY if it should be reached directly.',
    ],
  },
  413: {
    layer: 'server-config',
    summary: 'The request body is larger than a layer allows.',
    steps: ['Check body limits at each hop: CDN/WAF, reverse proxy (client_max_body_size), gateway, framework.', 'Send the file in chunks or via a pre-signed upload URL.'],
  },
  415: {
    layer: 'gateway',
    summary: 'The server does not accept the request Content-Type.',
    steps: ['Send the Content-Type the API documents (usually application/json) and a body that matches it.'],
  },
  419: {
    layer: 'csrf',
    summary: 'Laravel-style "Page Expired": the CSRF token is missing or the session expired.',
    steps: [
      'Send the CSRF token (form field or X-CSRF-TOKEN / X-XSRF-TOKEN header) from the current session.',
      'Make sure the session cookie is sent back (domain, Secure, SameSite settings).',
      'Exclude machine-to-machine endpoints (webhooks) from CSRF verification.',
    ],
  },
  422: {
    layer: 'unknown',
    summary: 'The server understood the body but refused its content (validation, or Rails CSRF failure).',
    steps: ['Read the error fields in the body; for Rails, check the authenticity token and session cookie.'],
  },
  429: {
    layer: 'rate-limit',
    summary: 'A rate limit or quota was exceeded.',
    steps: [
      'Honour Retry-After (seconds or a date) and back off exponentially with jitter.',
      'Read RateLimit / X-RateLimit-* headers to see the limit, remaining and reset time.',
      'Check whether the limit is per IP (shared egress/NAT makes clients share it), per key or per account.',
      'Batch, cache, or request a higher quota.',
    ],
  },
  451: {
    layer: 'geo',
    summary: 'The resource is unavailable for legal reasons, usually in the caller\'s jurisdiction.',
    steps: ['Check the Link header (rel="blocked-by") and the body for who blocks it.', 'Confirm which country your egress IP geolocates to.'],
  },
  502: {
    layer: 'upstream',
    summary: 'A proxy got an invalid or no response from the server behind it.',
    steps: ['Check the upstream process is running and listening where the proxy points.', 'Look in the proxy error log for connect/reset errors.'],
  },
  503: {
    layer: 'upstream',
    summary: 'The service is unavailable: no healthy backend, maintenance, overload, or (nginx/APISIX) a rate limit that answers 503.',
    steps: [
      'Check backend health and that at least one instance is in service.',
      'Check Retry-After and maintenance mode.',
      'If it only happens under load, look for limit_req/limit-count rules that reject with 503.',
    ],
  },
  504: {
    layer: 'upstream',
    summary: 'A proxy timed out waiting for the server behind it.',
    steps: ['Make the upstream answer faster or raise the proxy read timeout.'],
  },
}

const preflight: Checklist = {
  layer: 'cors',
  summary: 'A CORS preflight (OPTIONS with Access-Control-Request-Method) was refused.',
  steps: [
    'Allow the exact Origin (scheme, host and port) in the server CORS configuration.',
    'Allow the method in Access-Control-Request-Method and every header in Access-Control-Request-Headers.',
    'Make sure OPTIONS is not blocked by auth, WAF or the router: preflights carry no credentials.',
    'With credentials, Access-Control-Allow-Origin cannot be "*".',
  ],
}

const fallback: Checklist = {
  layer: 'unknown',
  summary: 'The response does not match a known denial.',
  steps: ['Read the response body and headers for the component that produced it.', 'Retry with fewer headers, no body and no cookies to find what changes the answer.'],
}

/**
 * The generic checklist for a status. A refused CORS preflight gets the CORS list
 * whatever its status, since the fix does not depend on which code the server picked.
 */
export function genericChecklist(status: number, options: { preflight?: boolean } = {}): Checklist {
  if (options.preflight && status >= 400) return preflight
  if (checklists[status] !== undefined) return checklists[status]
  if (status >= 500) return checklists[503]
  return fallback
}

/** Per-layer checklists, used when the body names the kind of denial but not the product. */
const layerChecklists: Partial<Record<DoctorLayer, Checklist>> = {
  csrf: {
    layer: 'csrf',
    summary: 'The body talks about a CSRF/XSRF check: a cookie-authenticated unsafe request lacked a valid anti-forgery token or trusted Origin.',
    steps: [
      'Send the CSRF token the app issues (form field or X-CSRF-Token / X-XSRF-TOKEN header) together with its session cookie.',
      'Check the Origin/Referer is among the origins the app trusts (reverse proxies must forward Host and X-Forwarded-Proto).',
      'API clients using tokens instead of cookies should use an endpoint exempt from CSRF checks.',
    ],
  },
  cors: preflight,
  geo: checklists[451],
  'ip-filter': {
    layer: 'ip-filter',
    summary: 'The body says the client address is not allowed.',
    steps: [
      'Find your egress IP (the one the server sees, after NAT/VPN/proxy) and ask the operator to allow it.',
      'Behind a load balancer, make sure the server reads the real client IP (X-Forwarded-For with trusted proxies), not the balancer address.',
    ],
  },
  'rate-limit': checklists[429],
  waf: {
    layer: 'waf',
    summary: 'The body says a security filter (WAF) blocked the request.',
    steps: [
      'Find the blocked request in the WAF logs by its time, path or reference id to get the rule id.',
      'Look for body or query content that resembles an attack (SQL, script tags, path traversal) and encode or move it.',
      'Ask for a narrow exception for that rule and parameter rather than turning the WAF off.',
    ],
  },
  authn: checklists[401],
  authz: {
    layer: 'authz',
    summary: 'The body says the caller is known but lacks permission (role, scope or ownership).',
    steps: [
      'Decode the token or check the account: does it carry the role/scope the endpoint needs?',
      'Check the resource belongs to the caller\'s tenant/organization.',
      'Ask for the permission named in the message, then request a fresh token so it includes it.',
    ],
  },
}

/** A layer suggested by generic wording in the response, with the words that suggested it. */
export interface LayerHint {
  layer: DoctorLayer
  evidence: string
}

// Checked in order: the more specific kinds of denial first, "permission" wording last.
const hintPhrases: ReadonlyArray<readonly [DoctorLayer, readonly string[]]> = [
  ['csrf', ['csrf', 'xsrf', 'anti-forgery', 'antiforgery', 'authenticity token', 'request forgery']],
  ['cors', ['cors request', 'cors policy', 'cors origin', 'cross-origin', 'access-control-allow-origin']],
  ['geo', ['not available in your country', 'not available in your region', 'your country', 'your region', 'unavailable for legal reasons', 'geo-restrict', 'geoblock']],
  ['ip-filter', ['your ip address', 'ip address is not allowed', 'ip not allowed', 'ip is not allowed', 'ip allowlist', 'ip whitelist', 'ip blocked', 'blacklisted ip', 'client ip']],
  ['rate-limit', ['rate limit', 'rate-limit', 'ratelimit', 'too many requests', 'too_many_requests', 'throttl', 'quota']],
  ['waf', ['web application firewall', 'firewall', 'security policy', 'blocked by security', 'request blocked', 'malicious request']],
  ['authn', ['unauthenticated', 'not authenticated', 'authentication required', 'authentication failed', 'invalid token', 'token expired', 'expired token', 'invalid api key', 'missing api key', 'invalid credentials', 'login required', 'invalid_token']],
  ['authz', ['insufficient scope', 'insufficient_scope', 'insufficient permission', 'permission denied', 'do not have permission to perform', 'missing permission', 'not authorized to', 'not allowed to']],
]

/**
 * Reads the kind of denial from generic wording (body text, already lowercased) and a few
 * standard headers, for responses no fingerprint recognises. Undefined when nothing hints.
 */
export function findLayerHint(body: string, headers: ReadonlyMap<string, string>, status: number): LayerHint | undefined {
  const challenge = (headers.get('www-authenticate') ?? '').toLowerCase()
  if (challenge.includes('insufficient_scope')) return { layer: 'authz', evidence: 'header www-authenticate: insufficient_scope' }
  if (challenge.includes('invalid_token')) return { layer: 'authn', evidence: 'header www-authenticate: invalid_token' }
  for (const [layer, phrases] of hintPhrases) {
    const phrase = phrases.find((candidate) => body.includes(candidate))
    if (phrase !== undefined) return { layer, evidence: `body mentions "${phrase}"` }
  }
  if (headers.get('x-ratelimit-remaining')?.trim() === '0' || (status === 403 && headers.has('retry-after'))) {
    return { layer: 'rate-limit', evidence: 'rate limit headers show nothing remaining' }
  }
  return undefined
}

/** The checklist for a hinted layer, or undefined when the layer has none of its own. */
export function layerChecklist(layer: DoctorLayer): Checklist | undefined {
  return layerChecklists[layer]
}
