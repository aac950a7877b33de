import type { ServerResponse } from 'node:http'
import type { Denial } from '../core/denial.js'
import type { JsonObject } from '../core/json.js'
import type { RequestContext } from '../gateway/context.js'
import { renderProblem, sendProblemBody, type ExplainLevel } from '../gateway/respond.js'

/** Extension members a denial shows at every explain level (`detail.problem`), if any. */
export function problemMembers(denial: Denial): JsonObject | undefined {
  const members = denial.detail?.problem
  return members !== null && typeof members === 'object' && !Array.isArray(members) ? members : undefined
}

/**
 * Sends a denial as problem+json like `sendDenial`, plus the RFC 9457 extension members the
 * denial put under `detail.problem` (the caller's own allowed models, its quota, a provider
 * error's cause). Those are facts about the caller's own request, safe at `explain: public`.
 */
export function sendProblemWithMembers(res: ServerResponse, ctx: RequestContext, denial: Denial, level: ExplainLevel, closeConnection: boolean, openAiError = false): number {
  const body = renderProblem(denial, ctx, level)
  const members = problemMembers(denial)
  if (members) for (const [key, value] of Object.entries(members)) if (!(key in body)) body[key] = value
  if (openAiError) body.error = openAiErrorOf(body, members)
  return sendProblemBody(res, ctx, denial, body, closeConnection)
}

/**
 * The `error` member OpenAI SDKs read from a failed call (`err.message`, `err.code`, `err.type`):
 * without it they show only "403 status code (no body)". It repeats what the problem says, at
 * the same explain level, plus the extension members (allowed models, quota).
 */
function openAiErrorOf(problem: JsonObject, members: JsonObject | undefined): JsonObject {
  // At `explain: public` the detail is generic, so the allowed models are spelled out here.
  const listed = String(problem.detail).includes('allowed:')
  const allowed = Array.isArray(members?.allowedModels) && !listed ? ` Models you may use: ${members.allowedModels.join(', ') || 'none'}.` : ''
  const remedy = typeof problem.remedy === 'string' && problem.remedy ? ` ${problem.remedy}` : ''
  return {
    message: `${String(problem.detail)}${allowed}${remedy} (Gatehouse ${String(problem.layer)};rule=${String(problem.rule)}, request ${String(problem.requestId)})`,
    type: `gatehouse.${String(problem.layer)}`,
    code: String(problem.rule),
    param: null,
    ...(members ?? {}),
  }
}
