import type { JsonObject } from '../../core/json.js'
import type { ModelTarget, ResolvedProvider } from '../types.js'
import { createOpenAiStyleAdapter, openAiChatBody, classifyOpenAi } from './openai.js'
import type { ProviderCause } from './adapter.js'

/** GA version that accepts `stream_options` (usage in streams). */
export const defaultAzureApiVersion = '2024-10-21'

function deploymentUrl(target: ModelTarget, operation: string): string {
  const provider = target.provider
  const deployment = provider.deployments?.[target.model] ?? target.model
  const version = encodeURIComponent(provider.apiVersion ?? defaultAzureApiVersion)
  return `${provider.url.replace(/\/+$/, '')}/openai/deployments/${encodeURIComponent(deployment)}/${operation}?api-version=${version}`
}

/** First api-version that accepts `stream_options`; older ones answer 400 "Unrecognized request argument". */
const streamOptionsSince = '2024-09-01'

function azureChatBody(target: ModelTarget, body: JsonObject, stream: boolean): JsonObject {
  const out = openAiChatBody(target, body, stream)
  const version = target.provider.apiVersion ?? defaultAzureApiVersion
  // api-versions are dates (2024-10-21, 2025-01-01-preview): the first ten characters compare as strings.
  if (version.slice(0, 10) < streamOptionsSince) delete out.stream_options
  return out
}

/** Azure's codes: `DeploymentNotFound`, `401`, `429`, firewall 403s; the rest as OpenAI's. */
function classifyAzure(status: number, code: string | undefined, message: string | undefined): ProviderCause | undefined {
  const text = `${code ?? ''} ${message ?? ''}`.toLowerCase()
  if (text.includes('deploymentnotfound') || text.includes('deployment for this resource does not exist')) return 'model-not-found'
  if (status === 401 || text.includes('invalid subscription key')) return 'bad-key'
  if (text.includes('insufficientquota') || text.includes('exceeded its quota') || text.includes('out of call volume quota')) return 'quota'
  if (status === 403 && (text.includes('virtual network') || text.includes('firewall') || text.includes('private endpoint'))) return 'forbidden'
  // RBAC: the identity may not call this deployment.
  if (status === 403 && (text.includes('permissiondenied') || text.includes('lacks the required data action'))) return 'model-access'
  if (status === 404) return 'model-not-found'
  return classifyOpenAi(status, code, message)
}

/** Azure OpenAI: per-deployment URLs, `api-version` query, `api-key` header. */
export const azureAdapter = createOpenAiStyleAdapter({
  label: 'Azure OpenAI',
  chatUrl: (target) => deploymentUrl(target, 'chat/completions'),
  embeddingsUrl: (target) => deploymentUrl(target, 'embeddings'),
  modelsUrl: (provider: ResolvedProvider) =>
    `${provider.url.replace(/\/+$/, '')}/openai/models?api-version=${encodeURIComponent(provider.apiVersion ?? defaultAzureApiVersion)}`,
  authHeaders: (provider) => (provider.key ? { 'api-key': provider.key } : ({} as Record<string, string>)),
  chatBody: azureChatBody,
  classify: classifyAzure,
})
