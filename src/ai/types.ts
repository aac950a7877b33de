import type { ServerResponse } from 'node:http'
import type { JsonObject } from '../core/json.js'

/**
 * The contract between the AI engine (provider adapters, src/ai/providers, src/ai/engine.ts)
 * and the gateway (config, policies, usage accounting). The gateway speaks OpenAI's wire format
 * to clients; adapters translate to and from each provider's.
 */

export const providerTypes = ['openai', 'azure', 'anthropic', 'gemini', 'mistral', 'openai-compatible'] as const
export type ProviderType = (typeof providerTypes)[number]

/** A provider from `providers:` with its secret resolved. The key never leaves the gateway. */
export interface ResolvedProvider {
  name: string
  type: ProviderType
  /** Base URL, without a trailing slash (e.g. http://127.0.0.1:11434 or https://api.anthropic.com). */
  url: string
  /** The provider's API key, resolved from `env:NAME` (absent for keyless local servers). */
  key?: string
  /** Azure OpenAI `api-version` query value. */
  apiVersion?: string
  /** Azure OpenAI: model name → deployment name (default: the model name). */
  deployments?: Record<string, string>
  /** Extra headers sent to the provider (e.g. anthropic-version, OpenAI-Organization). */
  headers?: Record<string, string>
  timeoutMs: number
}

/** One concrete place a request can go: a provider and the model name it knows. */
export interface ModelTarget {
  provider: ResolvedProvider
  /** The provider's own model name (after `provider/`). */
  model: string
  /** What the client asked for (an alias such as `fast`, or `provider/model`). */
  requested: string
}

/** Tokens used by one call. `estimated` when the provider reported none and the gateway counted. */
export interface Usage {
  promptTokens: number
  completionTokens: number
  totalTokens: number
  estimated: boolean
}

/** A provider's refusal or failure, recognised and explained (shown in the trace and the denial). */
export interface ProviderErrorExplanation {
  /** Provider HTTP status (0 when the provider could not be reached). */
  status: number
  /** Short cause id: `bad-key`, `model-access`, `region`, `quota`, `rate-limited`, `model-not-found`, `overloaded`, `bad-request`, `unreachable`, `timeout`, `server-error`; also `forbidden` (another 403), `unsupported` (no embeddings API), `stream-broken` (the provider failed mid-stream). */
  cause: string
  /** One sentence an operator understands, e.g. "Anthropic rejected the gateway's API key for provider 'claude'". */
  message: string
  /** What to do about it. */
  remedy: string
  /** The provider's own error type/code, if it sent one (never the key). */
  providerCode?: string
  /** True when another target may succeed (429, 5xx, unreachable, timeout): the engine falls back. */
  retryable: boolean
  /** The provider's `retry-after`, in seconds, when it sent one (for the gateway's own Retry-After). */
  retryAfterSeconds?: number
}

export type AiOperation = 'chat' | 'embeddings'

/** What the gateway hands the engine for one client request. */
export interface AiCallOptions {
  operation: AiOperation
  /** The client's parsed OpenAI-style JSON body (model, messages|input, stream, ...). */
  body: JsonObject
  /** Targets in fallback order (alias resolved, allow-list already checked by policies). */
  targets: ModelTarget[]
  /** The client response: the engine writes the success (JSON or SSE) itself, with these extra headers. */
  res: ServerResponse
  responseHeaders: Record<string, string>
  /** Request id, sent to providers that accept one and used as the completion id prefix. */
  requestId: string
  /** Aborted when the client goes away: the engine stops the provider call. */
  signal: AbortSignal
}

/** Per-target attempt, for the decision trace. */
export interface AiAttempt {
  provider: string
  model: string
  status: number
  ms: number
  error?: ProviderErrorExplanation
}

export interface AiCallResult {
  /** True when a success was written to `res` (status 200). */
  ok: boolean
  /** Status written to the client on success (200), or that the gateway should answer on failure. */
  status: number
  /** The target that answered, when one did. */
  provider?: string
  model?: string
  usage?: Usage
  attempts: AiAttempt[]
  /** On failure (nothing written to `res`): the last provider error, explained. The gateway renders it as problem+json (layer `upstream`). */
  error?: ProviderErrorExplanation
  /** Milliseconds from the engine's start to the first byte written to the client (first SSE chunk when streaming). */
  firstByteMs?: number
  /** The client went away mid-answer. */
  clientClosed?: boolean
  responseBytes: number
}

/** `GET /v1/models` entries the gateway lists (aliases and provider/model names a consumer may use). */
export interface ModelListEntry {
  id: string
  object: 'model'
  created: number
  owned_by: string
}
