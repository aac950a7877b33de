import type { JsonObject } from '../../core/json.js'
import type { RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { allowListFor, isModelAllowed } from './allow.js'
import { preloadTokenizer } from '../../ai/tokens.js'
import { isOverTokenLimit, promptText } from './prompt.js'
import { rules } from './rules.js'
import { ModelsConfig } from './schema.js'

/**
 * Model allow-lists and prompt limits for ai routes (`routes[].policies.models`). Reads the
 * `model` of a POST body (chat completions, embeddings); other methods (GET /v1/models) pass,
 * and the gateway lists only the models this policy would allow.
 *
 * The problem body of a refusal carries `allowedModels` (or the limit) at every explain level:
 * the caller is authenticated and the list is its own, so it is no policy internal.
 */
export const modelsPolicy = definePolicy({
  name: 'models',
  configKey: 'models',
  // After authz (700) and csrf (800), before rate-limit (900): identity is known, and a call for
  // a model the caller may not use is refused before it spends a rate-limit or budget unit.
  order: 850,
  schema: ModelsConfig,
  rules,
  needsBody: () => true,
  lint(_config, route) {
    if (route.policies.auth !== undefined) return []
    return [{ path: [], message: "allow-lists per consumer or tenant need an 'auth' policy on the route; without one every caller gets the route's 'allow' list" }]
  },
  compile(config) {
    const { maxPromptBytes, maxPromptTokens } = config
    // Start loading the token tables now, so requests do not wait for them.
    if (maxPromptTokens !== undefined) void preloadTokenizer().catch(() => undefined)
    return function evaluateModels(ctx: RequestContext): Verdict | Promise<Verdict> {
      if (ctx.method !== 'POST') return allow()
      const body = readJsonBody(ctx)
      if (body === undefined) {
        return deny(rules.badBody, {
          message: ctx.body.kind === 'too-large' ? `The request body is larger than ${ctx.body.limitBytes} bytes.` : 'The request body is not a JSON object.',
          detail: { body: ctx.body.kind },
          status: ctx.body.kind === 'too-large' ? 413 : undefined,
        })
      }
      const list = allowListFor(config, ctx.identity)
      const model = body.model
      if (typeof model !== 'string' || model.length === 0) {
        return deny(rules.modelMissing, {
          message: "The body names no 'model'.",
          detail: { problem: { allowedModels: [...list.entries] } },
        })
      }
      if (!isModelAllowed(list.entries, model)) {
        const who = ctx.identity ? `consumer '${ctx.identity.consumer}'` : 'anonymous callers'
        return deny(rules.modelNotAllowed, {
          message: `Model '${model}' is not allowed for ${who}; allowed: ${list.entries.join(', ') || 'none'}.`,
          remediation: `Add '${model}' to routes[].policies.models.${list.source === 'route' ? 'allow' : `${list.source}s.${list.source === 'consumer' ? ctx.identity?.consumer : ctx.identity?.tenant}`} of route '${ctx.routeName ?? ''}' if this caller should use it.`,
          detail: { model, listFrom: list.source, problem: { allowedModels: [...list.entries] } },
        })
      }
      const detail: JsonObject = { model, listFrom: list.source }
      if (maxPromptBytes !== undefined || maxPromptTokens !== undefined) {
        const text = promptText(body)
        const bytes = Buffer.byteLength(text)
        detail.promptBytes = bytes
        if (maxPromptBytes !== undefined && bytes > maxPromptBytes) {
          return deny(rules.promptTooLarge, {
            message: `The prompt is ${bytes} bytes; this route accepts at most ${maxPromptBytes}.`,
            detail: { model, promptBytes: bytes, problem: { limitBytes: maxPromptBytes, promptBytes: bytes } },
          })
        }
        if (maxPromptTokens !== undefined) {
          const over = isOverTokenLimit(text, maxPromptTokens)
          const decide = (isOver: boolean): Verdict => isOver
            ? deny(rules.tooManyPromptTokens, {
                message: `The prompt has more than ${maxPromptTokens} tokens, the most this route accepts.`,
                detail: { model, problem: { limitTokens: maxPromptTokens } },
              })
            : allowWith(ctx, detail, body)
          return typeof over === 'boolean' ? decide(over) : over.then(decide)
        }
      }
      return allowWith(ctx, detail, body)
    }
  },
})

/** Later layers and the gateway read the body parsed once, here. */
function allowWith(ctx: RequestContext, detail: JsonObject, body: Record<string, unknown>): Verdict {
  return ctx.json === undefined ? allow({ detail, json: body }) : allow({ detail })
}

/** The parsed JSON object body: what the body policy parsed, else parsed here. */
function readJsonBody(ctx: RequestContext): Record<string, unknown> | undefined {
  let value = ctx.json
  if (value === undefined) {
    if (ctx.body.kind !== 'buffered') return undefined
    try {
      value = JSON.parse(ctx.body.bytes.toString('utf8'))
    } catch {
      return undefined
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}
