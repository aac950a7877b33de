import { GatewayError } from '../core/errors.js'
import type { GatehouseConfig, ProviderConfigValue, RouteConfig } from '../config/schema.js'
import type { ModelTarget, ResolvedProvider, Usage } from './types.js'

/** `env:NAME` as a provider key is written. */
const envRef = /^env:([A-Za-z_][A-Za-z0-9_]*)$/

/** Why a provider key cannot be read, or undefined when it can (or none is configured). */
export function providerKeyProblem(key: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (key === undefined) return undefined
  const named = envRef.exec(key)
  if (!named) return "a provider key is written 'env:NAME'; a plain key never goes in the file"
  const value = env[named[1]]
  if (value === undefined || value === '') return `environment variable ${named[1]} is not set (or is empty); set it to the provider's API key`
  return undefined
}

/**
 * `providers:` with their keys read from the environment. Throws GatewayError('config.compile')
 * when a key cannot be read (the loader reports it first, located, so this is a backstop).
 */
export function resolveProviders(config: Readonly<GatehouseConfig>, env: Record<string, string | undefined>): Map<string, ResolvedProvider> {
  const out = new Map<string, ResolvedProvider>()
  for (const [name, provider] of Object.entries(config.providers)) out.set(name, resolveProvider(name, provider, env))
  return out
}

function resolveProvider(name: string, provider: ProviderConfigValue, env: Record<string, string | undefined>): ResolvedProvider {
  const problem = providerKeyProblem(provider.key, env)
  if (problem) throw new GatewayError('config.compile', `provider '${name}': ${problem}`)
  const resolved: ResolvedProvider = {
    name,
    type: provider.type,
    url: provider.url.replace(/\/+$/, ''),
    timeoutMs: provider.timeoutMs,
  }
  if (provider.key !== undefined) resolved.key = env[provider.key.slice('env:'.length)]
  if (provider.apiVersion !== undefined) resolved.apiVersion = provider.apiVersion
  if (provider.deployments !== undefined) resolved.deployments = { ...provider.deployments }
  if (provider.headers !== undefined) resolved.headers = { ...provider.headers }
  return resolved
}

/** Price of one model in USD per 1 million tokens. */
export interface ModelPrice {
  input: number
  output: number
}

/** What an ai route knows, compiled once per config load. */
export interface CompiledAiRoute {
  /** Alias → its targets, in fallback order. */
  aliases: Map<string, ModelTarget[]>
  providers: ReadonlyMap<string, ResolvedProvider>
  /** Targets for a model name as a client wrote it (an alias or `provider/model`), or undefined. */
  resolve(requested: string): ModelTarget[] | undefined
  /** Price of `model` at `provider`, when the config has one. */
  priceOf(provider: string, model: string): ModelPrice | undefined
  /** Cost in USD of a call's usage, or null when the model has no price. */
  costOf(provider: string, model: string, usage: Usage): number | null
  /** Every name a client could ask for on this route: aliases, then each target's provider/model. */
  names(): string[]
}

/** Compiles the `models:` of an ai route against the resolved providers. */
export function compileAiRoute(route: RouteConfig, providers: ReadonlyMap<string, ResolvedProvider>, providerConfigs: Readonly<Record<string, ProviderConfigValue>>): CompiledAiRoute {
  const targetOf = (ref: string, requested: string): ModelTarget | undefined => {
    const slash = ref.indexOf('/')
    if (slash <= 0) return undefined
    const provider = providers.get(ref.slice(0, slash))
    const model = ref.slice(slash + 1)
    if (!provider || model.length === 0) return undefined
    return { provider, model, requested }
  }
  const aliases = new Map<string, ModelTarget[]>()
  for (const [alias, refs] of Object.entries(route.models ?? {})) {
    const targets: ModelTarget[] = []
    for (const ref of refs) {
      const target = targetOf(ref, alias)
      if (!target) throw new GatewayError('config.compile', `route '${route.name}': alias '${alias}' names '${ref}', whose provider is not under providers:`)
      targets.push(target)
    }
    aliases.set(alias, targets)
  }
  const names = [...aliases.keys()]
  for (const targets of aliases.values()) for (const t of targets) names.push(`${t.provider.name}/${t.model}`)
  const uniqueNames = [...new Set(names)]

  const priceOf = (provider: string, model: string): ModelPrice | undefined => {
    const table = providerConfigs[provider]?.prices
    return table && Object.hasOwn(table, model) ? table[model] : undefined
  }
  return {
    aliases,
    providers,
    resolve(requested) {
      const alias = aliases.get(requested)
      if (alias) return alias
      const target = targetOf(requested, requested)
      return target ? [target] : undefined
    },
    priceOf,
    costOf(provider, model, usage) {
      const price = priceOf(provider, model)
      if (!price) return null
      return roundUsd((usage.promptTokens * price.input + usage.completionTokens * price.output) / 1_000_000)
    },
    names: () => uniqueNames,
  }
}

/** Costs are kept to a millionth of a cent: enough for per-call sums, no float noise in the log. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e8) / 1e8
}
