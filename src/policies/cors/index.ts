import type { RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, respond, type Allow, type Verdict } from '../define.js'
import { rules } from './rules.js'
import { isAlwaysAllowedHeader, isSafelistedMethod, isToken, parseRequestedHeaders } from './safelist.js'
import { CorsConfig } from './schema.js'

// Always exposed so browser apps can read why the gateway refused them.
const gatewayExposedHeaders = ['Gatehouse-Decision', 'X-Request-Id']
// Values from the request end up in the trace; keep a hostile header from bloating it.
const maxEchoLength = 200

/**
 * `cors`: the CORS protocol of the Fetch standard (https://fetch.spec.whatwg.org/#http-cors-protocol).
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here: 204
 * with the Access-Control-Allow-* headers, or 403 naming the part that failed (origin, method,
 * header). Actual cross-origin requests are never refused: browsers enforce CORS on the
 * response, and a server-side 403 would only hide the real answer. An allowed origin gets
 * Access-Control-Allow-Origin and Expose-Headers; any other origin passes without them, noted
 * in the trace.
 */
export const corsPolicy = definePolicy({
  name: 'cors',
  configKey: 'cors',
  order: 200,
  schema: CorsConfig,
  rules,
  compile(config, deps) {
    const where = `routes[${deps.routeName}].policies.cors`
    const anyOrigin = config.origins.includes('*')
    const origins = new Set(config.origins)
    const anyMethod = config.methods.includes('*')
    const listedMethods = config.methods.filter((m) => m !== '*')
    const methodsUpper = new Set(listedMethods.map((m) => m.toUpperCase()))
    const anyHeader = config.headers.includes('*')
    const listedHeaders = config.headers.filter((h) => h !== '*')
    const headersLower = new Set(listedHeaders.map((h) => h.toLowerCase()))
    const exposeHeaders = dedupeCaseInsensitive([...config.exposeHeaders, ...gatewayExposedHeaders]).join(', ')
    const maxAge = String(config.maxAgeSeconds)

    function buildActualAllow(origin: string): Allow {
      // Lowercase like the gateway's own headers, so an upstream's CORS headers are replaced
      // rather than doubled (two Access-Control-Allow-Origin values fail in every browser).
      const headers: Record<string, string> = {
        'access-control-allow-origin': anyOrigin && !config.credentials ? '*' : origin,
        'access-control-expose-headers': exposeHeaders,
        vary: 'Origin',
      }
      if (config.credentials) headers['access-control-allow-credentials'] = 'true'
      // Shared by every request from this origin: frozen so nobody can change it for the next one.
      return Object.freeze(
        allow({ responseHeaders: Object.freeze(headers), detail: Object.freeze({ origin, allowed: true }) }),
      )
    }
    const actualAllows = new Map<string, Allow>()
    for (const origin of origins) if (origin !== '*') actualAllows.set(origin, buildActualAllow(origin))
    const wildcardAllow = anyOrigin ? buildActualAllow('*') : undefined

    function isOriginAllowed(origin: string): boolean {
      return anyOrigin || origins.has(origin)
    }

    function evaluateActual(origin: string): Verdict {
      const known = actualAllows.get(origin) ?? wildcardAllow
      if (known !== undefined) return known
      return allow({ detail: { origin: clip(origin), allowed: false } })
    }

    function evaluatePreflight(ctx: RequestContext, origin: string, requestMethod: string): Verdict {
      if (!isOriginAllowed(origin)) {
        const nearMiss = findNearMiss(origin, config.origins)
        return deny(rules.originNotAllowed, {
          message: `Cross-origin requests from '${clip(origin)}' are not allowed on this route.`,
          remediation:
            `Add '${clip(origin)}' to ${where}.origins if pages on that origin should call this route.` +
            (nearMiss === undefined ? '' : ` The list has '${nearMiss}'; scheme, host and port must all match exactly.`),
          detail: { origin: clip(origin), allowedOrigins: config.origins },
          headers: { vary: 'Origin' },
        })
      }

      const methodOk =
        isSafelistedMethod(requestMethod) || (isToken(requestMethod) && (anyMethod || methodsUpper.has(requestMethod.toUpperCase())))
      if (!methodOk) {
        return deny(rules.methodNotAllowed, {
          message: `Cross-origin ${clip(requestMethod)} requests are not allowed on this route.`,
          remediation: `Add '${clip(requestMethod)}' to ${where}.methods (GET, HEAD and POST never need listing).`,
          detail: { origin: clip(origin), method: clip(requestMethod), allowedMethods: listedMethods },
          headers: { vary: 'Origin' },
        })
      }

      const requested = parseRequestedHeaders(ctx.headers['access-control-request-headers'])
      const offending: string[] = []
      const echoed: string[] = []
      for (const name of requested.names) {
        if (headersLower.has(name)) continue
        if (isToken(name) && (anyHeader || isAlwaysAllowedHeader(name))) echoed.push(name)
        else offending.push(clip(name))
      }
      if (offending.length > 0 || requested.truncated) {
        const first = offending[0] ?? 'too many headers'
        return deny(rules.headerNotAllowed, {
          message:
            offending.length > 0
              ? `Cross-origin requests may not send the header${offending.length > 1 ? 's' : ''} ${offending.map((h) => `'${h}'`).join(', ')} on this route.`
              : 'The preflight asked for more request headers than the gateway accepts.',
          remediation:
            offending.length > 0
              ? `Add ${offending.map((h) => `'${h}'`).join(', ')} to ${where}.headers.` +
                (offending.includes('content-type')
                  ? " Browsers ask for 'content-type' when the body is not a form or plain text, e.g. application/json."
                  : '')
              : `The browser asked for more than ${requested.names.length} headers; check the client code.`,
          detail: { origin: clip(origin), header: first, headers: offending, allowedHeaders: listedHeaders },
          headers: { vary: 'Origin' },
        })
      }

      return respond(204, preflightHeaders(origin, requestMethod, echoed), { origin: clip(origin), method: requestMethod })
    }

    function preflightHeaders(origin: string, requestMethod: string, echoedHeaders: string[]): Record<string, string> {
      // The browser compares the method case-sensitively (except the six it normalises), so a
      // method allowed case-insensitively is echoed as it was asked for.
      const methods = listedMethods.includes(requestMethod) ? listedMethods : [...listedMethods, requestMethod]
      const allowHeaders = echoedHeaders.length === 0 ? listedHeaders : [...listedHeaders, ...echoedHeaders]
      const echoed = methods !== listedMethods || echoedHeaders.length > 0
      const headers: Record<string, string> = {
        'access-control-allow-origin': anyOrigin && !config.credentials ? '*' : origin,
        'access-control-allow-methods': methods.join(', '),
        'access-control-max-age': maxAge,
        vary: echoed ? 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' : 'Origin',
      }
      if (allowHeaders.length > 0) headers['access-control-allow-headers'] = allowHeaders.join(', ')
      if (config.credentials) headers['access-control-allow-credentials'] = 'true'
      return headers
    }

    return function evaluateCors(ctx): Verdict {
      const origin = ctx.headers.origin
      // Same-origin and non-browser callers: CORS does not apply.
      if (origin === undefined) return allow()
      const requestMethod = ctx.method === 'OPTIONS' ? ctx.headers['access-control-request-method'] : undefined
      if (requestMethod === undefined) return evaluateActual(origin)
      return evaluatePreflight(ctx, origin, String(requestMethod).trim())
    }
  },
})

function clip(text: string): string {
  return text.length <= maxEchoLength ? text : `${text.slice(0, maxEchoLength)}…`
}

function dedupeCaseInsensitive(names: string[]): string[] {
  const seen = new Set<string>()
  return names.filter((name) => {
    const key = name.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** A configured origin on the same host as `origin` (scheme or port differ), to point at the typo. */
function findNearMiss(origin: string, configured: readonly string[]): string | undefined {
  const host = hostOf(origin)
  if (host === undefined) return undefined
  return configured.find((candidate) => candidate !== '*' && hostOf(candidate) === host)
}

function hostOf(origin: string): string | undefined {
  const start = origin.indexOf('://')
  if (start === -1) return undefined
  const rest = origin.slice(start + 3).toLowerCase()
  const colon = rest.lastIndexOf(':')
  return colon === -1 || rest.endsWith(']') ? rest : rest.slice(0, colon)
}
