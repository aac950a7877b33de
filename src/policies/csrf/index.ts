import { timingSafeEqual } from 'node:crypto'
import type { RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { rules } from './rules.js'
import { CsrfConfig } from './schema.js'

/**
 * Authn methods whose credential a client attaches on purpose: X-API-Key, Authorization
 * (Bearer, ApiKey, signatures) or, for mtls, a client certificate. A forged cross-site form or
 * fetch cannot add a header, so requests they authenticate are not CSRF-able; only ambient
 * credentials (cookies, sessions) are. Basic and mtls are exempt too, as in Django REST
 * framework, although a browser can replay a cached Basic login or certificate by itself:
 * routes that serve browsers should use sessions, which this layer checks.
 */
const headerCredentialMethods = new Set(['key', 'jwt', 'introspection', 'basic', 'hmac', 'mtls'])

/** Longest Referer parsed; anything longer is treated as unparseable. */
const maxRefererLength = 4096

const skipSafeMethod = allow({ result: 'skip', detail: { reason: 'method not checked' } })
const skipHeaderCredentials = allow({ result: 'skip', detail: { reason: 'credentials in a header, not a cookie' } })
const skipNoCookie = allow({ result: 'skip', detail: { reason: 'no cookie, no session' } })

/**
 * CSRF protection (`routes[].policies.csrf`) for cookie-authenticated routes, in the order
 * the Fetch standard and OWASP recommend: Sec-Fetch-Site, then Origin, then the Referer's
 * origin; then, when configured, a double-submit token. Each failure has its own rule so the
 * 403 says which check failed.
 */
export const csrfPolicy = definePolicy({
  name: 'csrf',
  configKey: 'csrf',
  order: 800,
  schema: CsrfConfig,
  rules,
  compile(config, deps) {
    const route = deps.routeName
    const methods = new Set(config.methods)
    const trusted = new Set(config.origins)
    const token = config.token
    const passed = allow({ detail: { checks: token ? ['origin', 'token'] : ['origin'] } })

    function isTrusted(origin: string, ctx: RequestContext): boolean {
      return trusted.has(origin) || origin === ownOrigin(ctx)
    }

    function untrusted(check: 'origin' | 'referer', seen: string, ctx: RequestContext): Verdict {
      const via = check === 'origin' ? 'Origin' : 'Referer'
      return deny(rules.originNotTrusted, {
        message: `This ${ctx.method} to route '${route}' came from '${seen}' (${via} header), which is not a trusted origin for cookie-authenticated requests.`,
        remediation: `If '${seen}' is your own front end, add it to routes[].policies.csrf.origins of route '${route}'; otherwise the request was a cross-site forgery and the refusal is correct.`,
        detail: { check, origin: seen, secFetchSite: headerOf(ctx, 'sec-fetch-site') ?? null, trusted: [...trusted] },
      })
    }

    function checkOrigin(ctx: RequestContext): Verdict | undefined {
      const site = headerOf(ctx, 'sec-fetch-site')
      // Fetch metadata is set by the browser and cannot be forged by page script. same-site
      // covers sibling subdomains, which browsers already treat as one site for cookies.
      if (site === 'same-origin' || site === 'same-site' || site === 'none') return undefined
      const origin = headerOf(ctx, 'origin')
      if (origin) return isTrusted(origin.toLowerCase(), ctx) ? undefined : untrusted('origin', origin, ctx)
      const referer = headerOf(ctx, 'referer')
      if (referer) {
        const refererOrigin = originOfUrl(referer)
        // An unparseable Referer proves nothing about where the request came from.
        if (refererOrigin === undefined) return untrusted('referer', '(unparseable)', ctx)
        return isTrusted(refererOrigin, ctx) ? undefined : untrusted('referer', refererOrigin, ctx)
      }
      if (!config.requireReferer) return undefined
      return deny(rules.noReferer, {
        message: `This ${ctx.method} to route '${route}' sends cookies but neither an Origin nor a Referer header, so its origin cannot be checked.`,
        remediation: `Browsers send Origin on ${ctx.method}; a client without it is not a browser page. Have it authenticate with an API key or token instead of cookies, or set routes[].policies.csrf.requireReferer: false for route '${route}'.`,
        detail: { check: 'referer', origin: null, referer: null, secFetchSite: site ?? null },
      })
    }

    function checkToken(ctx: RequestContext, cookieName: string, headerName: string): Verdict | undefined {
      const cookieValue = readCookie(headerOf(ctx, 'cookie'), cookieName)
      const headerValue = headerOf(ctx, headerName)
      if (!cookieValue || !headerValue) {
        const missing = [!cookieValue && `cookie '${cookieName}'`, !headerValue && `header '${headerName}'`].filter(Boolean).join(' and ')
        return deny(rules.tokenMissing, {
          message: `This ${ctx.method} to route '${route}' needs a CSRF token: ${missing} ${!cookieValue && !headerValue ? 'are' : 'is'} missing.`,
          remediation: `The page must copy the '${cookieName}' cookie into the '${headerName}' header (routes[].policies.csrf.token of route '${route}'); check that the app sets the cookie for this host and path.`,
          detail: { check: 'token', cookie: cookieName, cookiePresent: Boolean(cookieValue), header: headerName, headerPresent: Boolean(headerValue) },
        })
      }
      if (!isSameSecret(cookieValue, headerValue)) {
        return deny(rules.tokenMismatch, {
          message: `The CSRF token in header '${headerName}' does not match the '${cookieName}' cookie.`,
          remediation: `The page sent a stale token: make it read the '${cookieName}' cookie right before each request, and check no second '${cookieName}' cookie exists for another path or parent domain.`,
          // Never the values: they are the secret.
          detail: { check: 'token', cookie: cookieName, header: headerName },
        })
      }
      return undefined
    }

    return function evaluateCsrf(ctx: RequestContext): Verdict {
      if (!methods.has(ctx.method)) return skipSafeMethod
      const identity = ctx.identity
      if (identity?.method !== 'session') {
        if (identity && headerCredentialMethods.has(identity.method)) return skipHeaderCredentials
        if (!ctx.headers.cookie) return skipNoCookie
      }
      const originVerdict = checkOrigin(ctx)
      if (originVerdict) return originVerdict
      if (token) {
        const tokenVerdict = checkToken(ctx, token.cookie, token.header)
        if (tokenVerdict) return tokenVerdict
      }
      return passed
    }
  },
})

function headerOf(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The gateway's own origin as the browser sees it (default ports omitted, as in Origin). */
function ownOrigin(ctx: RequestContext): string {
  const scheme = ctx.secure ? 'https' : 'http'
  let host = (headerOf(ctx, 'host') ?? '').toLowerCase()
  const defaultPort = ctx.secure ? ':443' : ':80'
  if (host.endsWith(defaultPort)) host = host.slice(0, -defaultPort.length)
  return `${scheme}://${host}`
}

function originOfUrl(text: string): string | undefined {
  if (text.length > maxRefererLength) return undefined
  try {
    const origin = new URL(text).origin
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

/** The value of cookie `name`, or undefined. Scans without building a map of every cookie. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  let at = 0
  while (at < header.length) {
    let end = header.indexOf(';', at)
    if (end === -1) end = header.length
    const eq = header.indexOf('=', at)
    if (eq !== -1 && eq < end && header.slice(at, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim()
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
      return value
    }
    at = end + 1
  }
  return undefined
}

/** Constant-time comparison (the length alone is not secret: tokens have a fixed size). */
function isSameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
