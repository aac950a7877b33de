import type { JsonObject, JsonValue } from '../../core/json.js'
import type { EventSourceMessage } from '../sse.js'
import type { ModelTarget, ProviderErrorExplanation, ResolvedProvider } from '../types.js'

/** An HTTP request to a provider, built by an adapter and sent by the engine. */
export interface ProviderRequest {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  body?: string
}

/** Facts shared by every piece of one client call. */
export interface CallContext {
  /** Gateway request id: the completion id is `chatcmpl-<requestId>` where the adapter makes one up. */
  requestId: string
  /** Unix seconds, the `created` of the answer. */
  created: number
}

/** Token counts a provider reported. */
export interface ProviderTokens {
  promptTokens: number
  completionTokens: number
}

/** A provider answer translated to OpenAI's format. */
export interface Translated {
  response: JsonObject
  usage?: ProviderTokens
}

/** Translates one provider stream, event by event, into OpenAI `chat.completion.chunk` objects. */
export interface ChatStreamTranslator {
  /** Chunks for one provider event (often none). Throws a `ProviderStreamError` for an in-stream error. */
  push(event: EventSourceMessage): JsonObject[]
  /** True once the provider marked the answer complete (finish reason or end event). */
  readonly done: boolean
  /** Usage the provider reported so far (final once `done`). */
  usage(): ProviderTokens | undefined
}

/** A provider error inside a 200 stream (Anthropic `event: error`, OpenAI `data: {"error":...}`). */
export class ProviderStreamError extends Error {
  constructor(readonly explanation: ProviderErrorExplanation) {
    super(explanation.message)
    this.name = 'ProviderStreamError'
  }
}

/** A provider's non-2xx answer, as the adapter sees it. */
export interface ProviderFailure {
  status: number
  /** The response body as text (bounded by the engine). */
  body: string
  headers: Record<string, string | string[] | undefined>
}

/** One wire protocol. Adapters are pure: they build requests and translate answers, the engine does I/O. */
export interface ProviderAdapter {
  /** Product name in messages: "OpenAI", "Anthropic", ... */
  label: string
  chatRequest(target: ModelTarget, body: JsonObject, stream: boolean, ctx: CallContext): ProviderRequest
  chatResponse(json: JsonValue, target: ModelTarget, ctx: CallContext): Translated
  chatStream(target: ModelTarget, ctx: CallContext): ChatStreamTranslator
  /** Absent when the provider has no embeddings API (Anthropic). */
  embeddingsRequest?(target: ModelTarget, body: JsonObject, ctx: CallContext): ProviderRequest
  embeddingsResponse?(json: JsonValue, target: ModelTarget, ctx: CallContext): Translated
  modelsRequest(provider: ResolvedProvider): ProviderRequest
  /** Model names (as a route would spell them after `provider/`). */
  modelsResponse(json: JsonValue): string[]
  explainError(failure: ProviderFailure, target: ModelTarget): ProviderErrorExplanation
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function asObject(value: JsonValue | undefined): JsonObject {
  return isObject(value) ? value : {}
}

export function asArray(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : []
}

export function asString(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function asNumber(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** Parses a JSON event payload; undefined when it is not JSON (a provider bug, skipped). */
export function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return undefined
  }
}

/** Joins a base URL and a path, without doubling a version segment the operator already put in `url`. */
export function joinUrl(base: string, versionPrefix: string, path: string): string {
  const trimmed = base.replace(/\/+$/, '')
  return trimmed.endsWith(versionPrefix) ? `${trimmed}${path}` : `${trimmed}${versionPrefix}${path}`
}

/** `{ ...provider.headers, ...own }`: the adapter's auth headers win over configured extras. */
export function withHeaders(provider: ResolvedProvider, own: Record<string, string>): Record<string, string> {
  return { ...(provider.headers ?? {}), ...own }
}

/** The OpenAI chunk envelope around one choice delta. */
export function makeChunk(
  id: string,
  created: number,
  model: string,
  delta: JsonObject,
  finishReason: string | null,
): JsonObject {
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  }
}

export function completionId(ctx: CallContext): string {
  return `chatcmpl-${ctx.requestId}`
}

export function openAiUsage(tokens: ProviderTokens): JsonObject {
  return {
    prompt_tokens: tokens.promptTokens,
    completion_tokens: tokens.completionTokens,
    total_tokens: tokens.promptTokens + tokens.completionTokens,
  }
}

/** Header value as one string (undici gives arrays for repeated headers). */
export function headerOf(headers: ProviderFailure['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Seconds from `retry-after` (seconds or an HTTP date) or Azure's `retry-after-ms`. */
export function retryAfterSeconds(headers: ProviderFailure['headers']): number | undefined {
  const ms = Number(headerOf(headers, 'retry-after-ms'))
  if (Number.isFinite(ms) && ms > 0) return Math.ceil(ms / 1000)
  const raw = headerOf(headers, 'retry-after')
  if (!raw) return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds)
  const date = Date.parse(raw)
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - Date.now()) / 1000)) : undefined
}

// Key-shaped tokens providers echo back in errors (OpenAI "Incorrect API key provided: sk-…",
// Google "AIza…"): removed even when they are not exactly the configured key. Bounded.
const keyLike = /\b(?:sk-|sk_|AIza)[A-Za-z0-9_*.-]{4,300}/g

/** Removes the provider key, and anything shaped like a key, from a provider's message. */
export function redactSecrets(text: string, key?: string): string {
  let out = key && key.length >= 4 ? text.split(key).join('[redacted]') : text
  out = out.replace(keyLike, '[redacted]')
  return out.length > 300 ? `${out.slice(0, 297)}...` : out
}

export type ProviderCause =
  | 'bad-key'
  | 'model-access'
  | 'region'
  | 'quota'
  | 'rate-limited'
  | 'model-not-found'
  | 'overloaded'
  | 'bad-request'
  | 'forbidden'
  | 'unsupported'
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'stream-broken'

const retryableCauses = new Set<ProviderCause>(['quota', 'rate-limited', 'overloaded', 'server-error', 'unreachable', 'timeout', 'unsupported'])

/** The cause a bare HTTP status suggests, when the body says nothing more specific. */
export function causeOfStatus(status: number): ProviderCause {
  if (status === 401) return 'bad-key'
  if (status === 403) return 'forbidden'
  if (status === 404) return 'model-not-found'
  if (status === 408) return 'timeout'
  if (status === 429) return 'rate-limited'
  if (status === 503 || status === 529) return 'overloaded'
  if (status >= 500) return 'server-error'
  return 'bad-request'
}

export interface ExplainFacts {
  cause: ProviderCause
  status: number
  label: string
  target: ModelTarget
  providerCode?: string
  /** The provider's own message; redacted and quoted. */
  providerMessage?: string
  retryAfterSeconds?: number
  /** For unreachable/timeout: the transport error code. */
  transportCode?: string
}

/** Builds the operator-facing explanation of a provider error: one sentence and one remedy per cause. */
export function explain(facts: ExplainFacts): ProviderErrorExplanation {
  const { cause, label, target } = facts
  const name = target.provider.name
  const model = target.model
  const retry = facts.retryAfterSeconds !== undefined ? ` and asks to retry after ${facts.retryAfterSeconds} s` : ''
  let message: string
  let remedy: string
  switch (cause) {
    case 'bad-key':
      message = `${label} rejected the gateway's API key for provider '${name}'`
      remedy = `Set providers.${name}.key to a valid, active ${label} API key for this endpoint (the key is read from the environment variable it names) and reload.`
      break
    case 'model-access':
      message = `${label} refused provider '${name}' access to model '${model}'`
      remedy = `Enable '${model}' for this key's account, organisation or project in the ${label} console, or route the alias to a model the key may use.`
      break
    case 'region':
      message = `${label} does not serve provider '${name}' from the gateway's location (country or region not supported)`
      remedy = `Send the gateway's traffic to ${label} from a supported region (egress proxy or another deployment), or route the alias to another provider.`
      break
    case 'quota':
      message = `${label} says the account behind provider '${name}' is out of quota or credit`
      remedy = `Add credit or raise the spending limit in the ${label} billing settings; retrying does not help until then. Fallback targets on other accounts are tried.`
      break
    case 'rate-limited':
      message = `${label} rate-limited provider '${name}' for model '${model}'${retry}`
      remedy = `Lower the request rate (a gateway rate-limit or quota), add a fallback model to the alias, or ask ${label} for a higher limit.`
      break
    case 'model-not-found':
      message = target.provider.type === 'azure'
        ? `Azure OpenAI has no deployment for model '${model}' (provider '${name}')`
        : `${label} has no model '${model}' available to provider '${name}'`
      remedy = target.provider.type === 'azure'
        ? `Create the deployment in Azure AI Foundry or map the model to an existing one in providers.${name}.deployments, and check providers.${name}.apiVersion.`
        : `Correct the model name in the route's models (list the provider's models to see valid names), or check that the key's account may use it.`
      break
    case 'overloaded':
      message = `${label} is overloaded and did not answer for provider '${name}'${retry}`
      remedy = `Usually brief: retry later, or add a fallback model from another provider to the alias.`
      break
    case 'server-error':
      message = `${label} failed with HTTP ${facts.status} for provider '${name}'`
      remedy = `Usually transient: retry later, check the provider's status page, or add a fallback model to the alias.`
      break
    case 'forbidden':
      message = `${label} refused the request (HTTP 403) for provider '${name}', model '${model}'`
      remedy = `Check the key's permissions and any network or firewall rules on the ${label} resource.`
      break
    case 'stream-broken':
      message = `The ${label} stream for provider '${name}' broke after the answer had started${facts.transportCode ? ` (${facts.transportCode})` : ''}; the client got a partial answer and an error event`
      remedy = `Usually transient: the client may retry. If it keeps happening, check the provider's status and any proxy between the gateway and the provider that cuts long responses.`
      break
    case 'unsupported':
      message = `Provider '${name}' (${label}) has no embeddings API`
      remedy = `Route embeddings to a provider that has one: OpenAI, Azure OpenAI, Gemini, Mistral or an OpenAI-compatible server.`
      break
    case 'unreachable':
      message = `Provider '${name}' could not be reached at ${originOf(target.provider.url)}${facts.transportCode ? ` (${facts.transportCode})` : ''}`
      remedy = `Check providers.${name}.url, DNS and the network path from the gateway to the provider.`
      break
    case 'timeout':
      message = `Provider '${name}' did not answer within ${target.provider.timeoutMs} ms`
      remedy = `Raise providers.${name}.timeoutMs, use a faster model, or add a fallback model to the alias.`
      break
    default:
      message = `${label} rejected the request as invalid (HTTP ${facts.status}) for provider '${name}', model '${model}'`
      remedy = `Check the fields the client sent; the provider's message names the one it refused.`
  }
  if (facts.providerMessage) message += `; ${label} said: "${redactSecrets(facts.providerMessage, target.provider.key)}"`
  const explanation: ProviderErrorExplanation = {
    status: facts.status,
    cause,
    message,
    remedy,
    retryable: retryableCauses.has(cause),
  }
  if (facts.providerCode) explanation.providerCode = redactSecrets(facts.providerCode, target.provider.key)
  if (facts.retryAfterSeconds !== undefined) explanation.retryAfterSeconds = facts.retryAfterSeconds
  return explanation
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return 'its configured url'
  }
}
