import { createDenial, type Denial } from '../core/denial.js'
import type { CompiledRoute, Runtime } from './compile.js'
import type { RequestContext } from './context.js'
import { normalizeTarget } from './normalize-path.js'
import { gatewayRules } from './rules.js'

function isPreflight(ctx: RequestContext): boolean {
  return ctx.headers.origin !== undefined && ctx.headers['access-control-request-method'] !== undefined
}

/**
 * Normalises the path and finds the route, filling `ctx.path`, `ctx.query`, `ctx.routeName`
 * and `ctx.params`. Returns the route, or the denial for a bad path (400), a wrong method
 * (405 with Allow) or no route (404). Shared by the server and `gatehouse explain`.
 */
export function routeRequest(runtime: Runtime, ctx: RequestContext): { route: CompiledRoute } | { denial: Denial } {
  const target = normalizeTarget(ctx.url)
  if (!target.ok) {
    return { denial: createDenial(gatewayRules.badPath, { message: `The request path is malformed: ${target.reason}.`, detail: { reason: target.reason } }) }
  }
  ctx.path = target.path
  ctx.query = target.query
  const match = runtime.match(ctx.method, ctx.path, ctx.host)
  if (match.route && match.route.optionsForPreflightOnly && ctx.method === 'OPTIONS' && !isPreflight(ctx)) {
    const allowed = (match.route.config.match.methods ?? []).join(', ')
    return {
      denial: createDenial(gatewayRules.methodNotAllowed, {
        message: `OPTIONS is answered on ${ctx.path} only as a CORS preflight; allowed: ${allowed}.`,
        detail: { method: ctx.method, allowed },
        headers: { allow: allowed },
      }),
    }
  }
  if (match.route) {
    ctx.routeName = match.route.name
    ctx.params = match.params
    return { route: match.route }
  }
  if (match.allowed.length > 0) {
    const allowed = match.allowed.join(', ')
    return {
      denial: createDenial(gatewayRules.methodNotAllowed, {
        message: `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allowed}.`,
        remediation: `Use one of ${allowed}, or add ${ctx.method} to a route's match.methods.`,
        detail: { method: ctx.method, allowed: match.allowed },
        headers: { allow: allowed },
      }),
    }
  }
  return {
    denial: createDenial(gatewayRules.noRoute, {
      message: `No route matches ${ctx.method} ${ctx.path}.`,
      remediation: `Add a route whose match covers ${ctx.method} ${ctx.host ? `${ctx.host} ` : ''}${ctx.path}, or fix the client's URL.`,
      detail: { method: ctx.method, path: ctx.path, host: ctx.host },
    }),
  }
}
