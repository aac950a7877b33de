import type { JsonObject, JsonValue } from '../../core/json.js'
import type { ModelTarget, ResolvedProvider } from '../types.js'
import {
  asArray,
  asNumber,
  asObject,
  asString,
  causeOfStatus,
  explain,
  isObject,
  joinUrl,
  parseJson,
  ProviderStreamError,
  retryAfterSeconds,
  withHeaders,
  type ChatStreamTranslator,
  type ProviderAdapter,
  type ProviderCause,
  type ProviderFailure,
  type ProviderRequest,
  type ProviderTokens,
} from './adapter.js'

/** What differs between the OpenAI-shaped protocols (OpenAI, OpenAI-compatible, Azure, Mistral). */
export interface OpenAiStyleOptions {
  label: string
  chatUrl(target: ModelTarget): string
  embeddingsUrl(target: ModelTarget): string
  modelsUrl(provider: ResolvedProvider): string
  authHeaders(provider: ResolvedProvider): Record<string, string>
  /** The provider body from the client's; the default sets the model and asks for stream usage. */
  chatBody?(target: ModelTarget, body: JsonObject, stream: boolean): JsonObject
  /** The provider embeddings body; the default asks for floats (the engine encodes base64 itself). */
  embeddingsBody?(target: ModelTarget, body: JsonObject): JsonObject
  /** Cause from the provider's own error code/type/message, before falling back to the status. */
  classify?(status: number, code: string | undefined, message: string | undefined): ProviderCause | undefined
}

/** OpenAI's body with the provider's model and `stream_options.include_usage` so usage arrives in the stream. */
export function openAiChatBody(target: ModelTarget, body: JsonObject, stream: boolean): JsonObject {
  const out: JsonObject = { ...body, model: target.model }
  if (stream) {
    out.stream = true
    // Always ask for usage (the gateway accounts for it); the engine forwards the usage chunk only if the client asked.
    out.stream_options = { ...asObject(body.stream_options), include_usage: true }
  } else {
    delete out.stream
    delete out.stream_options
  }
  return out
}

/** Client body with the provider's model, asking for float vectors: the engine base64-encodes for clients that asked. */
export function floatEmbeddingsBody(target: ModelTarget, body: JsonObject): JsonObject {
  const out: JsonObject = { ...body, model: target.model }
  delete out.encoding_format
  return out
}

function usageOf(value: JsonValue | undefined): ProviderTokens | undefined {
  if (!isObject(value)) return undefined
  const prompt = asNumber(value.prompt_tokens)
  const completion = asNumber(value.completion_tokens) ?? 0
  if (prompt === undefined) return undefined
  return { promptTokens: prompt, completionTokens: completion }
}

/** `{ error: { message, type, code } }` (OpenAI, Azure) or Mistral's `{ message, type, code }` / `{ detail }`. */
function errorFields(body: string): { code?: string; type?: string; message?: string } {
  const json = parseJson(body)
  if (!isObject(json)) return body.trim() ? { message: body.trim().slice(0, 300) } : {}
  const error = isObject(json.error) ? json.error : json
  const code = error.code
  return {
    code: typeof code === 'number' ? String(code) : asString(code),
    type: asString(error.type),
    message: asString(error.message) ?? asString(json.detail) ?? (typeof json.error === 'string' ? json.error : undefined),
  }
}

/** OpenAI's error vocabulary (https://platform.openai.com/docs/guides/error-codes). */
export function classifyOpenAi(status: number, code: string | undefined, message: string | undefined): ProviderCause | undefined {
  const text = `${code ?? ''} ${message ?? ''}`.toLowerCase()
  if (text.includes('unsupported_country') || text.includes('country, region, or territory')) return 'region'
  if (text.includes('insufficient_quota') || text.includes('exceeded your current quota') || text.includes('billing')) return 'quota'
  if (status === 401 || text.includes('invalid_api_key') || text.includes('incorrect api key')) return 'bad-key'
  if (text.includes('model_not_found') || text.includes('does not exist')) return status === 403 ? 'model-access' : 'model-not-found'
  if (status === 403 && (text.includes('not allowed to sample') || text.includes('not have access') || text.includes('model'))) return 'model-access'
  if (text.includes('overloaded')) return 'overloaded'
  if (status === 429) return 'rate-limited'
  return undefined
}

/** Builds an adapter for a protocol that speaks OpenAI's chat/embeddings format. */
export function createOpenAiStyleAdapter(options: OpenAiStyleOptions): ProviderAdapter {
  const label = options.label
  const headersFor = (provider: ResolvedProvider, requestId: string): Record<string, string> =>
    withHeaders(provider, { 'content-type': 'application/json', 'x-client-request-id': requestId, ...options.authHeaders(provider) })
  return {
    label,
    chatRequest(target, body, stream, ctx): ProviderRequest {
      const payload = (options.chatBody ?? openAiChatBody)(target, body, stream)
      return { method: 'POST', url: options.chatUrl(target), headers: headersFor(target.provider, ctx.requestId), body: JSON.stringify(payload) }
    },
    chatResponse(json) {
      const response = asObject(json)
      return { response, usage: usageOf(response.usage) }
    },
    chatStream(target): ChatStreamTranslator {
      let done = false
      let usage: ProviderTokens | undefined
      return {
        get done() {
          return done
        },
        usage: () => usage,
        push(event) {
          if (event.data === '[DONE]') {
            done = true
            return []
          }
          const chunk = parseJson(event.data)
          if (!isObject(chunk)) return []
          if (chunk.error !== undefined) {
            const fields = errorFields(JSON.stringify(chunk))
            const cause = options.classify?.(500, fields.code ?? fields.type, fields.message) ?? 'server-error'
            throw new ProviderStreamError(explain({ cause, status: 200, label, target, providerCode: fields.code ?? fields.type, providerMessage: fields.message }))
          }
          usage = usageOf(chunk.usage) ?? usage
          const choices = asArray(chunk.choices)
          // Usage-only chunks (choices: []) and Azure's prompt_filter_results chunk carry nothing for the client here.
          if (choices.length === 0) return []
          for (const choice of choices) if (isObject(choice) && asString(choice.finish_reason)) done = true
          const out: JsonObject = { ...chunk }
          delete out.usage
          return [out]
        },
      }
    },
    embeddingsRequest(target, body, ctx) {
      return {
        method: 'POST',
        url: options.embeddingsUrl(target),
        headers: headersFor(target.provider, ctx.requestId),
        body: JSON.stringify((options.embeddingsBody ?? floatEmbeddingsBody)(target, body)),
      }
    },
    embeddingsResponse(json) {
      const response = asObject(json)
      const usage = asObject(response.usage)
      const prompt = asNumber(usage.prompt_tokens)
      return { response, usage: prompt === undefined ? undefined : { promptTokens: prompt, completionTokens: 0 } }
    },
    modelsRequest(provider) {
      return { method: 'GET', url: options.modelsUrl(provider), headers: withHeaders(provider, options.authHeaders(provider)) }
    },
    modelsResponse(json) {
      return asArray(asObject(json).data)
        .map((entry) => asString(asObject(entry).id))
        .filter((id): id is string => id !== undefined)
    },
    explainError(failure: ProviderFailure, target) {
      const fields = errorFields(failure.body)
      const providerCode = fields.code ?? fields.type
      const cause = options.classify?.(failure.status, providerCode, fields.message) ?? causeOfStatus(failure.status)
      return explain({
        cause,
        status: failure.status,
        label,
        target,
        providerCode,
        providerMessage: fields.message,
        retryAfterSeconds: retryAfterSeconds(failure.headers),
      })
    },
  }
}

function bearer(provider: ResolvedProvider): Record<string, string> {
  return provider.key ? { authorization: `Bearer ${provider.key}` } : {}
}

/** OpenAI, and any server that speaks its API under `<url>/v1` (vLLM, Ollama, LM Studio). */
export function createOpenAiAdapter(label = 'OpenAI'): ProviderAdapter {
  return createOpenAiStyleAdapter({
    label,
    chatUrl: (target) => joinUrl(target.provider.url, '/v1', '/chat/completions'),
    embeddingsUrl: (target) => joinUrl(target.provider.url, '/v1', '/embeddings'),
    modelsUrl: (provider) => joinUrl(provider.url, '/v1', '/models'),
    authHeaders: bearer,
    classify: classifyOpenAi,
  })
}

export const openAiAdapter = createOpenAiAdapter('OpenAI')
export const openAiCompatibleAdapter = createOpenAiAdapter('The OpenAI-compatible server')
