import type { JsonObject } from '../../core/json.js'
import type { ModelTarget } from '../types.js'
import { joinUrl, type ProviderCause } from './adapter.js'
import { createOpenAiStyleAdapter } from './openai.js'

// Fields Mistral's chat API accepts; it answers 422 to ones it does not know (stream_options, user, store...).
const chatFields = [
  'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed', 'response_format', 'tools',
  'tool_choice', 'presence_penalty', 'frequency_penalty', 'n', 'safe_prompt', 'parallel_tool_calls', 'prediction',
]

/** Mistral's body: no `stream_options` (it sends usage in the last chunk anyway), `seed` → `random_seed`. */
export function mistralChatBody(target: ModelTarget, body: JsonObject, stream: boolean): JsonObject {
  const out: JsonObject = { model: target.model }
  for (const field of chatFields) if (body[field] !== undefined) out[field] = body[field]
  if (body.max_completion_tokens !== undefined && out.max_tokens === undefined) out.max_tokens = body.max_completion_tokens
  if (body.seed !== undefined && out.random_seed === undefined) out.random_seed = body.seed
  if (stream) out.stream = true
  else delete out.stream
  return out
}

/** Mistral: `{"message":"Unauthorized"}`, `{"detail":...}`, `{"object":"error","type":"invalid_model"}`. */
function classifyMistral(status: number, code: string | undefined, message: string | undefined): ProviderCause | undefined {
  const text = `${code ?? ''} ${message ?? ''}`.toLowerCase()
  if (status === 401 || text.includes('unauthorized')) return 'bad-key'
  if (text.includes('invalid_model') || text.includes('invalid model')) return 'model-not-found'
  if (status === 403 && (text.includes('region') || text.includes('country'))) return 'region'
  if (status === 403) return 'model-access'
  if (status === 429 && (text.includes('capacity') || text.includes('overloaded'))) return 'overloaded'
  if (status === 429 && (text.includes('quota') || text.includes('billing') || text.includes('payment'))) return 'quota'
  if (status === 429) return 'rate-limited'
  return undefined
}

/** Mistral La Plateforme (`https://api.mistral.ai`): OpenAI-like chat and embeddings under /v1. */
export const mistralAdapter = createOpenAiStyleAdapter({
  label: 'Mistral',
  chatUrl: (target) => joinUrl(target.provider.url, '/v1', '/chat/completions'),
  embeddingsUrl: (target) => joinUrl(target.provider.url, '/v1', '/embeddings'),
  modelsUrl: (provider) => joinUrl(provider.url, '/v1', '/models'),
  authHeaders: (provider) => (provider.key ? { authorization: `Bearer ${provider.key}` } : ({} as Record<string, string>)),
  chatBody: mistralChatBody,
  embeddingsBody: (target, body) => {
    const out: JsonObject = { model: target.model, input: body.input ?? [] }
    if (body.dimensions !== undefined) out.output_dimension = body.dimensions
    return out
  },
  classify: classifyMistral,
})
