import type { JsonObject, JsonValue } from '../../core/json.js'
import { textOfContent } from '../tokens.js'
import type { ModelTarget, ResolvedProvider } from '../types.js'
import {
  asArray,
  asNumber,
  asObject,
  asString,
  causeOfStatus,
  completionId,
  explain,
  joinUrl,
  makeChunk,
  openAiUsage,
  parseJson,
  ProviderStreamError,
  retryAfterSeconds,
  withHeaders,
  type ChatStreamTranslator,
  type ProviderAdapter,
  type ProviderCause,
  type ProviderRequest,
  type ProviderTokens,
} from './adapter.js'

function modelUrl(provider: ResolvedProvider, model: string, method: string): string {
  // Model names may come as `models/gemini-…` or bare; the path wants one `models/`.
  const bare = model.replace(/^models\//, '')
  return joinUrl(provider.url, '/v1beta', `/models/${encodeURIComponent(bare)}:${method}`)
}

function headersFor(provider: ResolvedProvider): Record<string, string> {
  const headers = withHeaders(provider, { 'content-type': 'application/json' })
  if (provider.key) headers['x-goog-api-key'] = provider.key
  return headers
}

function parts(content: JsonValue | undefined): JsonValue[] {
  if (typeof content === 'string') return [{ text: content }]
  const out: JsonValue[] = []
  for (const part of asArray(content)) {
    const p = asObject(part)
    if (p.type === 'text' && typeof p.text === 'string') out.push({ text: p.text })
    if (p.type === 'image_url') {
      const url = asString(asObject(p.image_url).url) ?? ''
      const inline = /^data:([a-z]+\/[a-z0-9.+-]{1,50});base64,/i.exec(url)
      if (inline) out.push({ inlineData: { mimeType: inline[1], data: url.slice(inline[0].length) } })
      else if (url) out.push({ fileData: { fileUri: url } })
    }
  }
  return out.length > 0 ? out : [{ text: '' }]
}

function geminiToolConfig(choice: JsonValue | undefined): JsonObject | undefined {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } }
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } }
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } }
  const name = asString(asObject(asObject(choice).function).name)
  return name ? { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } } : undefined
}

/** generateContent body: roles user/model, system messages → `systemInstruction`, sampling → `generationConfig`, tools → functionDeclarations. */
export function geminiBody(body: JsonObject): JsonObject {
  const system: string[] = []
  const contents: JsonValue[] = []
  // Gemini answers a function by name; OpenAI tool results carry only the call id.
  const nameOfCall = new Map<string, string>()
  for (const entry of asArray(body.messages)) {
    const message = asObject(entry)
    const role = asString(message.role)
    if (role === 'system' || role === 'developer') system.push(textOfContent(message.content))
    else if (role === 'assistant' && asArray(message.tool_calls).length > 0) {
      const modelParts: JsonValue[] = []
      const text = textOfContent(message.content)
      if (text) modelParts.push({ text })
      for (const call of asArray(message.tool_calls)) {
        const fn = asObject(asObject(call).function)
        const name = asString(fn.name) ?? ''
        nameOfCall.set(asString(asObject(call).id) ?? '', name)
        const args = parseJson(asString(fn.arguments) ?? '{}')
        modelParts.push({ functionCall: { name, args: asObject(args) } })
      }
      contents.push({ role: 'model', parts: modelParts })
    } else if (role === 'tool') {
      const name = nameOfCall.get(asString(message.tool_call_id) ?? '') ?? ''
      contents.push({ role: 'user', parts: [{ functionResponse: { name, response: { content: textOfContent(message.content) } } }] })
    } else contents.push({ role: role === 'assistant' ? 'model' : 'user', parts: parts(message.content) })
  }
  const config: JsonObject = {}
  if (typeof body.temperature === 'number') config.temperature = body.temperature
  if (typeof body.top_p === 'number') config.topP = body.top_p
  const maxTokens = asNumber(body.max_completion_tokens) ?? asNumber(body.max_tokens)
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens
  if (typeof body.stop === 'string') config.stopSequences = [body.stop]
  else if (Array.isArray(body.stop)) config.stopSequences = body.stop
  if (typeof body.n === 'number') config.candidateCount = body.n
  if (typeof body.seed === 'number') config.seed = body.seed
  if (asObject(body.response_format).type === 'json_object') config.responseMimeType = 'application/json'
  const out: JsonObject = { contents }
  const declarations: JsonValue[] = []
  for (const tool of asArray(body.tools)) {
    const fn = asObject(asObject(tool).function)
    if (typeof fn.name !== 'string') continue
    const declaration: JsonObject = { name: fn.name }
    if (typeof fn.description === 'string') declaration.description = fn.description
    if (fn.parameters !== undefined) declaration.parameters = fn.parameters
    declarations.push(declaration)
  }
  if (declarations.length > 0) {
    out.tools = [{ functionDeclarations: declarations }]
    const toolConfig = geminiToolConfig(body.tool_choice)
    if (toolConfig) out.toolConfig = toolConfig
  }
  if (system.length > 0) out.systemInstruction = { parts: [{ text: system.join('\n\n') }] }
  if (Object.keys(config).length > 0) out.generationConfig = config
  return out
}

/** Gemini finishReason → OpenAI finish_reason. */
export function finishReasonOf(reason: string | undefined): string | null {
  if (!reason || reason === 'FINISH_REASON_UNSPECIFIED') return null
  if (reason === 'MAX_TOKENS') return 'length'
  if (reason === 'STOP') return 'stop'
  if (['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'].includes(reason)) return 'content_filter'
  return 'stop'
}

function usageOf(value: JsonValue | undefined): ProviderTokens | undefined {
  const usage = asObject(value)
  const prompt = asNumber(usage.promptTokenCount)
  if (prompt === undefined) return undefined
  // Thinking tokens are billed as output.
  return { promptTokens: prompt, completionTokens: (asNumber(usage.candidatesTokenCount) ?? 0) + (asNumber(usage.thoughtsTokenCount) ?? 0) }
}

/** Gemini functionCall parts → OpenAI tool_calls (Gemini gives no call ids: the gateway makes them). */
function toolCallsOf(candidate: JsonObject, idPrefix: string, streamIndexFrom?: number): JsonValue[] {
  return asArray(asObject(candidate.content).parts)
    .map((part) => asObject(asObject(part).functionCall))
    .filter((call) => typeof call.name === 'string')
    .map((call, i) => {
      const n = (streamIndexFrom ?? 0) + i
      const entry: JsonObject = { id: `${idPrefix}_${n}`, type: 'function', function: { name: asString(call.name) ?? '', arguments: JSON.stringify(call.args ?? {}) } }
      // Stream deltas name each call by its index across the whole answer.
      return streamIndexFrom === undefined ? entry : { index: n, ...entry }
    })
}

function textOfCandidate(candidate: JsonObject): string {
  return asArray(asObject(candidate.content).parts)
    .map((part) => asObject(part))
    .filter((part) => part.thought !== true)
    .map((part) => asString(part.text) ?? '')
    .join('')
}

/** Google's `{ error: { code, message, status, details: [{ reason }] } }` → cause. */
function classifyGemini(status: number, googleStatus: string | undefined, reason: string | undefined, message: string | undefined): ProviderCause {
  const text = (message ?? '').toLowerCase()
  // Google answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID, not 401.
  if (reason === 'API_KEY_INVALID' || text.includes('api key not valid') || text.includes('api key not found') || text.includes('api key expired')) return 'bad-key'
  if (text.includes('location is not supported') || text.includes('not available in your country')) return 'region'
  if (status === 429 || googleStatus === 'RESOURCE_EXHAUSTED') {
    // Free-tier and project quotas are both RESOURCE_EXHAUSTED; a billing hint means waiting will not help.
    return text.includes('billing') || text.includes('check your plan') ? 'quota' : 'rate-limited'
  }
  if (googleStatus === 'PERMISSION_DENIED' || status === 403) return text.includes('api key') || text.includes('unregistered callers') ? 'bad-key' : 'model-access'
  if (googleStatus === 'UNAUTHENTICATED' || status === 401) return 'bad-key'
  if (googleStatus === 'NOT_FOUND' || status === 404) return 'model-not-found'
  if (googleStatus === 'UNAVAILABLE' || text.includes('overloaded')) return 'overloaded'
  if (googleStatus === 'DEADLINE_EXCEEDED') return 'timeout'
  return causeOfStatus(status)
}

function googleError(json: JsonValue | undefined): { status?: string; reason?: string; message?: string; retryDelaySeconds?: number } {
  const error = asObject(asObject(json).error)
  let reason: string | undefined
  let retryDelaySeconds: number | undefined
  for (const detail of asArray(error.details)) {
    reason ??= asString(asObject(detail).reason)
    // google.rpc.RetryInfo: retryDelay as a Duration string ("7s", "0.5s"); Google sends no Retry-After header.
    const delay = /^(\d{1,6}(?:\.\d{1,9})?)s$/.exec(asString(asObject(detail).retryDelay) ?? '')
    if (delay) retryDelaySeconds = Math.ceil(Number(delay[1]))
  }
  return { status: asString(error.status), reason, message: asString(error.message), retryDelaySeconds }
}

/** Google Gemini API (`generateContent`, `streamGenerateContent?alt=sse`, `batchEmbedContents`; key in `x-goog-api-key`). */
export const geminiAdapter: ProviderAdapter = {
  label: 'Google Gemini',
  chatRequest(target, body, stream): ProviderRequest {
    const url = stream ? `${modelUrl(target.provider, target.model, 'streamGenerateContent')}?alt=sse` : modelUrl(target.provider, target.model, 'generateContent')
    return { method: 'POST', url, headers: headersFor(target.provider), body: JSON.stringify(geminiBody(body)) }
  },
  chatResponse(json, target, ctx) {
    const answer = asObject(json)
    const usage = usageOf(answer.usageMetadata)
    const candidates = asArray(answer.candidates).map((c) => asObject(c))
    const choices: JsonValue[] = candidates.map((candidate, i) => {
      const toolCalls = toolCallsOf(candidate, `call_${ctx.requestId}_${i}`)
      const text = textOfCandidate(candidate)
      const message: JsonObject = { role: 'assistant', content: toolCalls.length > 0 && !text ? null : text, refusal: null }
      if (toolCalls.length > 0) message.tool_calls = toolCalls
      return {
        index: asNumber(candidate.index) ?? i,
        message,
        logprobs: null,
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : (finishReasonOf(asString(candidate.finishReason)) ?? 'stop'),
      }
    })
    // A prompt blocked by safety settings comes back with no candidates, only promptFeedback.
    if (choices.length === 0) choices.push({ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'content_filter' })
    const response: JsonObject = {
      id: completionId(ctx),
      object: 'chat.completion',
      created: ctx.created,
      model: asString(answer.modelVersion) ?? target.model,
      choices,
    }
    if (usage) response.usage = openAiUsage(usage)
    return { response, usage }
  },
  chatStream(target, ctx): ChatStreamTranslator {
    const id = completionId(ctx)
    let done = false
    let started = false
    let calls = 0
    let sawToolCall = false
    let usage: ProviderTokens | undefined
    return {
      get done() {
        return done
      },
      usage: () => usage,
      push(event) {
        const data = asObject(parseJson(event.data))
        if (data.error !== undefined) {
          const error = googleError(data)
          throw new ProviderStreamError(explain({ cause: classifyGemini(0, error.status, error.reason, error.message), status: 200, label: 'Google Gemini', target, providerCode: error.reason ?? error.status, providerMessage: error.message }))
        }
        // Each event repeats usageMetadata with running totals; the last one is final.
        usage = usageOf(data.usageMetadata) ?? usage
        const model = asString(data.modelVersion) ?? target.model
        const out: JsonObject[] = []
        const candidates = asArray(data.candidates).map((c) => asObject(c))
        if (candidates.length === 0 && asObject(data.promptFeedback).blockReason) {
          done = true
          return [makeChunk(id, ctx.created, model, started ? {} : { role: 'assistant', content: '' }, 'content_filter')]
        }
        for (const candidate of candidates) {
          const text = textOfCandidate(candidate)
          const toolCalls = toolCallsOf(candidate, `call_${ctx.requestId}`, calls)
          calls += toolCalls.length
          const reason = finishReasonOf(asString(candidate.finishReason))
          if (toolCalls.length > 0) sawToolCall = true
          const finish = reason === 'stop' && sawToolCall ? 'tool_calls' : reason
          const delta: JsonObject = started ? {} : { role: 'assistant' }
          started = true
          if (text || (!finish && toolCalls.length === 0)) delta.content = text
          if (toolCalls.length > 0) delta.tool_calls = toolCalls
          const chunk = makeChunk(id, ctx.created, model, delta, finish)
          if (finish) done = true
          out.push(chunk)
        }
        return out
      },
    }
  },
  embeddingsRequest(target, body) {
    const inputs = typeof body.input === 'string' ? [body.input] : asArray(body.input).filter((i): i is string => typeof i === 'string')
    const model = `models/${target.model.replace(/^models\//, '')}`
    const dims = asNumber(body.dimensions)
    const requests = inputs.map((text) => {
      const request: JsonObject = { model, content: { parts: [{ text }] } }
      if (dims !== undefined) request.outputDimensionality = dims
      return request
    })
    return { method: 'POST', url: modelUrl(target.provider, target.model, 'batchEmbedContents'), headers: headersFor(target.provider), body: JSON.stringify({ requests }) }
  },
  embeddingsResponse(json, target) {
    const data = asArray(asObject(json).embeddings).map((entry, index) => ({
      object: 'embedding',
      index,
      embedding: asArray(asObject(entry).values),
    }))
    // Gemini reports no token usage for embeddings: the engine counts.
    return { response: { object: 'list', data, model: target.model } }
  },
  modelsRequest(provider) {
    return { method: 'GET', url: joinUrl(provider.url, '/v1beta', '/models'), headers: headersFor(provider) }
  },
  modelsResponse(json) {
    return asArray(asObject(json).models)
      .map((entry) => asString(asObject(entry).name)?.replace(/^models\//, ''))
      .filter((id): id is string => id !== undefined)
  },
  explainError(failure, target) {
    const error = googleError(parseJson(failure.body))
    return explain({
      cause: classifyGemini(failure.status, error.status, error.reason, error.message),
      status: failure.status,
      label: 'Google Gemini',
      target,
      providerCode: error.reason ?? error.status,
      providerMessage: error.message ?? (failure.body.trim().slice(0, 300) || undefined),
      retryAfterSeconds: retryAfterSeconds(failure.headers) ?? error.retryDelaySeconds,
    })
  },
}
