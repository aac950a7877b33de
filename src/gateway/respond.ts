import type { ServerResponse } from 'node:http'
import { shortRuleName, type Denial } from '../core/denial.js'
import type { JsonObject } from '../core/json.js'
import type { RequestContext } from './context.js'

export type ExplainLevel = 'public' | 'consumer' | 'full'

/** Value of the `Gatehouse-Decision` header for a denial. */
export function decisionHeader(denial: Denial): string {
  return `${denial.layer};rule=${shortRuleName(denial.rule)}`
}

/**
 * The RFC 9457 problem body a caller sees. `public` tells the layer, rule, request id and a
 * generic remedy only; `consumer` adds the specific message once the caller has proven who it
 * is; `full` (development) adds the operator's remediation and the stored facts.
 */
export function renderProblem(denial: Denial, ctx: RequestContext, level: ExplainLevel): JsonObject {
  const rule = shortRuleName(denial.rule)
  const specific = level === 'full' || (level === 'consumer' && ctx.identity !== undefined)
  const body: JsonObject = {
    type: `/problems/${denial.layer}/${rule}`,
    title: denial.title,
    status: denial.status,
    detail: specific ? denial.message : genericDetail(denial),
    layer: denial.layer,
    rule,
  }
  if (ctx.routeName !== undefined) body.route = ctx.routeName
  body.requestId = ctx.id
  body.remedy = level === 'full' ? denial.remediation : denial.publicRemedy
  if (level === 'full' && denial.detail) body.trace = denial.detail
  return body
}

function genericDetail(denial: Denial): string {
  return `The ${denial.layer} layer refused the request (${shortRuleName(denial.rule)}).`
}

/** Sends a denial as `application/problem+json` with the decision headers. */
export function sendDenial(res: ServerResponse, ctx: RequestContext, denial: Denial, level: ExplainLevel, closeConnection: boolean): number {
  return sendProblemBody(res, ctx, denial, renderProblem(denial, ctx, level), closeConnection)
}

/** Sends an already rendered problem body for a denial, with the decision headers. */
export function sendProblemBody(res: ServerResponse, ctx: RequestContext, denial: Denial, body: JsonObject, closeConnection: boolean): number {
  const payload = JSON.stringify(body)
  const headers: Record<string, string | number> = {
    ...ctx.responseHeaders,
    ...denial.headers,
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    'gatehouse-decision': decisionHeader(denial),
    'x-request-id': ctx.id,
  }
  // An unread request body would otherwise be parsed as the next request on this socket.
  if (closeConnection) headers.connection = 'close'
  res.writeHead(denial.status, headers)
  res.end(ctx.method === 'HEAD' ? undefined : payload)
  return Buffer.byteLength(payload)
}
