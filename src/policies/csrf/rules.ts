import type { Rule } from '../../core/denial.js'

/** Rules of the `csrf` layer; the only place their ids are spelled. */
export const rules = {
  originNotTrusted: {
    id: 'csrf.origin-not-trusted',
    status: 403,
    title: 'Cross-site request refused',
    meaning:
      "A cookie-authenticated state-changing request came from a page whose origin (Origin header, or the Referer's origin when Origin is absent) is neither the gateway's own origin nor in routes[].policies.csrf.origins. This is what a cross-site request forgery looks like, and also what a front end on a new domain looks like before it is listed.",
    remedy: "Send the request from the application's own pages. If you operate the calling site, ask the API operator to trust its origin.",
  },
  noReferer: {
    id: 'csrf.no-referer',
    status: 403,
    title: 'Request origin unknown',
    meaning:
      "A cookie-authenticated state-changing request carried neither Origin nor Referer (nor Sec-Fetch-Site), so the gateway cannot tell which site sent it, and the route requires knowing (csrf.requireReferer, the default). Browsers send Origin on such requests; its absence usually means a non-browser client sending cookies, or a privacy setting stripping the headers.",
    remedy: 'Send the request from a browser page of the application, or authenticate non-browser calls with an API key or token instead of cookies.',
  },
  tokenMissing: {
    id: 'csrf.token-missing',
    status: 403,
    title: 'CSRF token missing',
    meaning:
      'The route uses double-submit CSRF tokens (csrf.token) and the request lacks the token cookie, the token header, or both. Usually the page did not read the cookie and copy it into the header, or the cookie was never set for this host or path.',
    remedy: 'Reload the page to get a fresh CSRF token and send it back in the request header the application expects.',
  },
  tokenMismatch: {
    id: 'csrf.token-mismatch',
    status: 403,
    title: 'CSRF token mismatch',
    meaning:
      'The route uses double-submit CSRF tokens (csrf.token): the token header does not equal the token cookie. Usually a stale page after the cookie was rotated (login, logout, another tab), or two cookies of the same name for different paths or domains.',
    remedy: 'Reload the page to get a fresh CSRF token and retry.',
  },
} as const satisfies Record<string, Rule>
