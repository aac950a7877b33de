import type { ProviderType } from '../types.js'
import type { ProviderAdapter } from './adapter.js'
import { anthropicAdapter } from './anthropic.js'
import { azureAdapter } from './azure.js'
import { geminiAdapter } from './gemini.js'
import { mistralAdapter } from './mistral.js'
import { openAiAdapter, openAiCompatibleAdapter } from './openai.js'

export type { ProviderAdapter } from './adapter.js'

const adapters: Record<ProviderType, ProviderAdapter> = {
  openai: openAiAdapter,
  'openai-compatible': openAiCompatibleAdapter,
  azure: azureAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  mistral: mistralAdapter,
}

/** The adapter that speaks a provider type's wire protocol. */
export function adapterFor(type: ProviderType): ProviderAdapter {
  return adapters[type]
}
