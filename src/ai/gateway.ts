import type { IncomingMessage, ServerResponse } from 'node:http'
import { createDenial, type Denial } from '../core/denial.js'
import type { JsonObject } from '../core/json.js'
import type { CompiledRoute } from '../gateway/compile.js'
import type { BodyState, RequestContext } from '../gateway/context.js'
import { gatewayRules } from '../gateway/rules.js'
import { chargeBudget } from '../policies/budget/index.js'
import { rules as bodyRules } from '../policies/body/rules.js'
import { allowedNames, allowListFor, isModelAllowed } from '../policies/models/allow.js'
import { rules as modelRules } from '../policies/models/rules.js'
import type { ModelsConfig } from '../policies/models/schema.js'
import type { AiCallFacts } from '../store/types.js'
import { runAiCall } from './engine.js'
import { ruleForCause } from './rules.js'
import type { AiCallResult, AiOperation, ModelListEntry, ModelTarget } from './types.js'

/** What the server lends the AI handler: answering a denial, and logging the call. */
export interface AiHandlerDeps {
  /** State shared across reloads (budget counters). */
  shared: Map<string, unknown>
  readBody(limitBytes: number): Promise<BodyState>
  /** Renders the denial (problem+json) and logs the call, with what the provider call cost. */
  deny(denial: Denial, facts?: AiLogFacts): void
  /** Tells the operator something went wrong outside the request (a budget charge that failed). */
  warn(fields: Record<string, unknown>, message: string): void
  /** Logs an answered call. */
  record(status: number, decision: string, layer: string, rule: string | null, facts: AiLogFacts): void
}

/** What the call log gets from an ai answer besides the request. */
export interface AiLogFacts {
  upstreamStatus: number | null
  upstreamMs: number | null
  target: string | null
  responseBytes: number
  ai?: AiCallFacts
}

type Endpoint = { kind: AiOperation } | { kind: 'list' } | { kind: 'retrieve'; id: string } | { kind: 'unknown' }

/**
 * Which endpoint of the OpenAI-compatible API a path asks for. The route's path prefix is
 * removed, then an optional `/v1`, so `/v1/*` serves /v1/chat/completions and `/ai/*` serves
 * /ai/v1/chat/completions (and /ai/chat/completions).
 */
export function aiEndpointOf(route: CompiledRoute, path: string): Endpoint {
  const pattern = route.config.match.path
  const star = pattern.indexOf('*')
  let rest = path
  if (star !== -1) {
    const prefix = pattern.slice(0, star).replace(/\/+$/, '')
    if (prefix.length > 0 && (path === prefix || path.startsWith(`${prefix}/`))) rest = path.slice(prefix.length)
  }
  if (rest.startsWith('/v1/')) rest = rest.slice(3)
  rest = rest.replace(/\/+$/, '')
  if (rest === '/chat/completions') return { kind: 'chat' }
  if (rest === '/embeddings') return { kind: 'embeddings' }
  if (rest === '/models') return { kind: 'list' }
  if (rest.startsWith('/models/') && rest.length > '/models/'.length) {
    try {
      return { kind: 'retrieve', id: decodeURIComponent(rest.slice('/models/'.length)) }
    } catch {
      return { kind: 'unknown' }
    }
  }
  return { kind: 'unknown' }
}

/** The models policy of the route, or an allow-all stand-in when it has none. */
function modelsConfigOf(route: CompiledRoute): Pick<ModelsConfig, 'allow' | 'consumers' | 'tenants'> {
  const config = (route.config.policies as Record<string, unknown>).models as ModelsConfig | undefined
  return config ?? { allow: ['*'], consumers: {}, tenants: {} }
}

/** Names the caller may ask for on this route, aliases first. */
export function modelsForCaller(route: CompiledRoute, ctx: RequestContext): string[] {
  if (!route.ai) return []
  const list = allowListFor(modelsConfigOf(route), ctx.identity)
  return allowedNames(list.entries, route.ai.names())
}

function modelEntry(id: string, ownedBy: string, created: number): ModelListEntry {
  return { id, object: 'model', created, owned_by: ownedBy }
}

/**
 * Answers a request on an ai route once the pipeline allowed it: GET /v1/models lists what the
 * caller may use; POST /v1/chat/completions and /v1/embeddings resolve the model to targets and
 * run the engine, which writes the answer (JSON or SSE) itself. A provider failure is answered
 * as problem+json of layer `upstream` with the engine's explanation.
 */
export async function answerAiRequest(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, route: CompiledRoute, deps: AiHandlerDeps): Promise<void> {
  const ai = route.ai
  if (!ai) throw new Error(`route '${route.name}' is not an ai route`)
  const endpoint = aiEndpointOf(route, ctx.path)
  if (endpoint.kind === 'unknown') {
    return deps.deny(createDenial(gatewayRules.noRoute, {
      message: `Route '${route.name}' serves the OpenAI-compatible API: POST …/v1/chat/completions, POST …/v1/embeddings and GET …/v1/models; ${ctx.path} is none of them.`,
      detail: { method: ctx.method, path: ctx.path },
    }))
  }
  const wanted = endpoint.kind === 'chat' || endpoint.kind === 'embeddings' ? 'POST' : 'GET'
  if (ctx.method !== wanted && !(wanted === 'GET' && ctx.method === 'HEAD')) {
    return deps.deny(createDenial(gatewayRules.methodNotAllowed, {
      message: `${ctx.method} is not allowed on ${ctx.path}; allowed: ${wanted}.`,
      detail: { method: ctx.method, allowed: [wanted] },
      headers: { allow: wanted },
    }))
  }

  const created = Math.floor(ctx.receivedAt / 1000)
  if (endpoint.kind === 'list' || endpoint.kind === 'retrieve') {
    const names = modelsForCaller(route, ctx)
    const owner = (name: string) => (ai.aliases.has(name) ? 'gatehouse' : name.slice(0, name.indexOf('/')))
    let payload: JsonObject
    if (endpoint.kind === 'list') {
      payload = { object: 'list', data: names.map((name) => ({ ...modelEntry(name, owner(name), created) })) }
    } else {
      const list = allowListFor(modelsConfigOf(route), ctx.identity)
      if (!ai.resolve(endpoint.id) || !isModelAllowed(list.entries, endpoint.id)) {
        return deps.deny(createDenial(modelRules.unknownModel, {
          message: `Model '${endpoint.id}' is not available to you on route '${route.name}'.`,
          detail: { model: endpoint.id, problem: { allowedModels: names } },
        }))
      }
      payload = { ...modelEntry(endpoint.id, owner(endpoint.id), created) }
    }
    const text = JSON.stringify(payload)
    ctx.trail.push({ layer: 'upstream', result: 'allow', ms: 0, detail: { answeredBy: 'gateway', models: endpoint.kind === 'list' ? names.length : 1 } })
    res.writeHead(200, { ...ctx.responseHeaders, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'gatehouse-decision': 'allow', 'x-request-id': ctx.id })
    res.end(ctx.method === 'HEAD' ? undefined : text)
    deps.record(200, 'allow', 'upstream', null, { upstreamStatus: null, upstreamMs: null, target: null, responseBytes: Buffer.byteLength(text) })
    return
  }

  // The body: parsed by a policy already (models, body), else read here, bounded.
  let json = ctx.json
  if (json === undefined) {
    if (ctx.body.kind === 'streaming') ctx.body = await deps.readBody(route.bodyLimitBytes)
    const body = ctx.body
    if (body.kind === 'too-large') {
      return deps.deny(createDenial(bodyRules.tooLarge, {
        message: `The request body is larger than ${body.limitBytes} bytes.`,
        detail: { limitBytes: body.limitBytes, receivedBytes: body.receivedBytes },
      }))
    }
    if (body.kind !== 'buffered') return deps.deny(createDenial(modelRules.badBody, { message: 'The request body could not be read.', detail: { body: body.kind } }))
    try {
      json = JSON.parse(body.bytes.toString('utf8'))
    } catch {
      json = undefined
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return deps.deny(createDenial(modelRules.badBody, { message: 'The request body is not a JSON object.' }))
  }
  const body = json as JsonObject
  const requested = body.model
  if (typeof requested !== 'string' || requested.length === 0) {
    return deps.deny(createDenial(modelRules.modelMissing, { message: "The body names no 'model'.", detail: { problem: { allowedModels: modelsForCaller(route, ctx) } } }))
  }
  const targets: ModelTarget[] | undefined = ai.resolve(requested)
  if (!targets) {
    return deps.deny(createDenial(modelRules.unknownModel, {
      message: `Model '${requested}' is neither an alias of route '${route.name}' nor '<provider>/<model>' with a known provider.`,
      remediation: `Add an alias '${requested}' under routes[].models of route '${route.name}', or have the client use one of its aliases.`,
      detail: { model: requested, problem: { allowedModels: modelsForCaller(route, ctx) } },
    }))
  }

  const stream = body.stream === true
  const controller = new AbortController()
  // The client went away before the answer was complete: stop paying for the provider's work.
  const onClose = () => {
    if (!res.writableFinished) controller.abort()
  }
  res.once('close', onClose)
  const started = performance.now()
  let result: AiCallResult
  try {
    result = await runAiCall({
      operation: endpoint.kind,
      body,
      targets,
      res,
      responseHeaders: { ...ctx.responseHeaders, 'gatehouse-decision': 'allow', 'x-request-id': ctx.id },
      requestId: ctx.id,
      signal: controller.signal,
    })
  } finally {
    res.off('close', onClose)
  }
  const ms = performance.now() - started
  const attempts: JsonObject[] = result.attempts.map((a) => {
    const entry: JsonObject = { provider: a.provider, model: a.model, status: a.status, ms: Math.round(a.ms * 100) / 100 }
    if (a.error) entry.cause = a.error.cause
    return entry
  })
  const answered = result.provider ?? result.attempts.at(-1)?.provider ?? targets[0].provider.name
  const model = result.model ?? result.attempts.at(-1)?.model ?? targets[0].model
  const usage = result.usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0, estimated: true }
  const costUsd = result.usage ? ai.costOf(answered, model, usage) : null
  const facts: AiCallFacts = {
    provider: answered,
    model,
    requested,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.totalTokens,
    estimated: usage.estimated,
    costUsd,
    firstByteMs: result.firstByteMs === undefined ? null : Math.round(result.firstByteMs * 100) / 100,
    stream,
    operation: endpoint.kind,
    fallbacks: Math.max(0, result.attempts.length - 1),
  }
  const target = `${answered}/${model}`
  // Charged with the real usage, also for a stream the client left: the provider billed it.
  if (result.usage) {
    void chargeBudget(deps.shared, route.name, ctx, { totalTokens: usage.totalTokens, costUsd }).then((charged) => {
      if (!charged) deps.warn({ route: route.name, requestId: ctx.id, consumer: ctx.identity?.consumer }, 'budget: could not charge an AI call to its counters (store unavailable); that usage is not counted')
    })
  }

  if (result.ok || result.clientClosed) {
    const detail: JsonObject = { provider: answered, model, requested, attempts, totalTokens: usage.totalTokens, costUsd }
    // A stream that broke after it started: the client got an error event, the trace says why.
    if (result.error) detail.streamError = { cause: result.error.cause, message: result.error.message }
    if (result.clientClosed) {
      ctx.trail.push({ layer: 'upstream', result: 'skip', ms, detail: { ...detail, clientClosed: true } })
      deps.record(499, 'client-closed', 'upstream', null, { upstreamStatus: result.ok ? 200 : null, upstreamMs: ms, target, responseBytes: result.responseBytes, ai: facts })
      return
    }
    ctx.trail.push({ layer: 'upstream', result: 'allow', ms, detail })
    deps.record(result.status, 'allow', 'upstream', null, { upstreamStatus: result.status, upstreamMs: ms, target, responseBytes: result.responseBytes, ai: facts })
    return
  }

  const error = result.error
  const rule = ruleForCause(error?.cause ?? 'server-error')
  // The provider refused the gateway's account, not the caller: never answer its 401/403 as such.
  const status = result.status === 401 || result.status === 403 || result.status < 400 ? rule.status : result.status
  const headers: Record<string, string> = {}
  // The provider's own Retry-After when it sent one, so clients back off as long as it asked.
  if (status === 429 || status === 503) headers['retry-after'] = String(error?.retryAfterSeconds !== undefined ? Math.max(1, Math.ceil(error.retryAfterSeconds)) : 1)
  const denial = createDenial(rule, {
    status,
    message: error ? `${error.message} (provider status ${error.status}, tried ${attempts.length} target${attempts.length === 1 ? '' : 's'}).` : `No provider of '${requested}' answered.`,
    remediation: error?.remedy ?? rule.remedy,
    detail: {
      provider: answered,
      model,
      requested,
      attempts,
      ...(error?.providerCode ? { providerCode: error.providerCode } : {}),
      problem: { cause: error?.cause ?? 'server-error', providerStatus: error?.status ?? 0, attempts: attempts.length },
    },
    headers,
  })
  ctx.trail.push({ layer: 'upstream', result: 'deny', rule: denial.rule, ms, detail: denial.detail })
  deps.deny(denial, { upstreamStatus: error?.status ?? null, upstreamMs: ms, target, responseBytes: 0, ai: { ...facts, firstByteMs: null } })
}
