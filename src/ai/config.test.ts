import { describe, expect, it } from 'vitest'
import { formatProblem, loadConfigText } from '../config/load.js'
import { compileAiRoute, resolveProviders } from './config.js'

const base = (route: string, providers = `
providers:
  local: { type: openai-compatible, url: "http://127.0.0.1:11434" }
  claude: { type: anthropic, url: "https://api.anthropic.com", key: "env:ANTHROPIC_KEY", prices: { claude-sonnet: { input: 3, output: 15 } } }`) => `${providers}
routes:
${route}`

const specRoute = `
  - name: ai
    kind: ai
    match: { path: /v1/* }
    models: { fast: [ local/llama3 ], smart: [ claude/claude-sonnet, local/llama3 ] }
    policies: { auth: { methods: [ key ] }, models: { allow: [ fast ] } }`

function problemsOf(text: string, env: Record<string, string> = { ANTHROPIC_KEY: 'sk-ant-test' }): string[] {
  const result = loadConfigText(text, 'g.yaml', env)
  return result.ok ? result.warnings.map(formatProblem) : result.problems.map(formatProblem)
}

describe('ai config', () => {
  it('accepts the SPEC §6 example and resolves aliases, keys and prices', () => {
    const result = loadConfigText(base(specRoute), 'g.yaml', { ANTHROPIC_KEY: 'sk-ant-test' })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const route = result.config.routes[0]
    expect(route.kind).toBe('ai')
    const providers = resolveProviders(result.config, { ANTHROPIC_KEY: 'sk-ant-test' })
    expect(providers.get('claude')).toMatchObject({ type: 'anthropic', key: 'sk-ant-test', timeoutMs: 120000 })
    const ai = compileAiRoute(route, providers, result.config.providers)
    expect(ai.resolve('smart')?.map((t) => `${t.provider.name}/${t.model}`)).toEqual(['claude/claude-sonnet', 'local/llama3'])
    expect(ai.resolve('local/mistral')?.[0]).toMatchObject({ model: 'mistral', requested: 'local/mistral' })
    expect(ai.resolve('nobody/x')).toBeUndefined()
    expect(ai.names()).toEqual(['fast', 'smart', 'local/llama3', 'claude/claude-sonnet'])
    expect(ai.costOf('claude', 'claude-sonnet', { promptTokens: 1000, completionTokens: 2000, totalTokens: 3000, estimated: false })).toBeCloseTo(0.033, 10)
    expect(ai.costOf('local', 'llama3', { promptTokens: 1, completionTokens: 1, totalTokens: 2, estimated: false })).toBeNull()
  })

  it.each([
    ['an unknown provider in an alias', base(specRoute.replace('claude/claude-sonnet', 'openai/gpt-4o')), "g.yaml:10:48 routes[0].models.smart[0]: unknown provider 'openai'; defined providers: local, claude"],
    ['an unknown alias in an allow-list', base(specRoute.replace('allow: [ fast ]', 'allow: [ fast, cheap ]')), "routes[0].policies.models.allow[1]: unknown alias 'cheap'; this route's aliases (routes[0].models): fast, smart"],
    ['an unknown alias in a consumer list', base(specRoute.replace('allow: [ fast ]', 'consumers: { acme-app: [ huge ] }')), "routes[0].policies.models.consumers.acme-app[0]: unknown alias 'huge'"],
    ['an ai route with an upstream', base(specRoute.replace('kind: ai', 'kind: ai\n    upstream: orders')), "routes[0].upstream: an ai route calls the models of its 'models:' at the providers, not an upstream"],
    ['a proxy route without an upstream', base('  - { name: p, match: { path: /p } }'), "routes[0].upstream: a proxy route needs 'upstream'"],
    ['a plain provider key', base(specRoute, '\nproviders:\n  local: { type: openai, url: "http://127.0.0.1:1", key: "sk-live-123" }'), "providers.local.key: a provider key is written 'env:NAME'"],
    ['a credential in provider headers', base(specRoute, '\nproviders:\n  local: { type: openai, url: "http://127.0.0.1:1", headers: { Authorization: "Bearer x" } }'), "providers.local.headers.Authorization: 'Authorization' carries a credential"],
    ['an unknown provider type', base(specRoute, '\nproviders:\n  local: { type: cohere, url: "http://127.0.0.1:1" }'), 'providers.local.type'],
  ])('refuses %s with a located message', (_name, text, expected) => {
    expect(problemsOf(text).join('\n')).toContain(expected)
  })

  it('reports a provider key whose environment variable is not set', () => {
    expect(problemsOf(base(specRoute), {}).join('\n')).toContain('providers.claude.key: environment variable ANTHROPIC_KEY is not set')
  })

  it('warns when ai policies sit on a proxy route', () => {
    const text = `
upstreams: { orders: { targets: [ "http://127.0.0.1:3001" ] } }
routes:
  - { name: p, match: { path: /p }, upstream: orders, policies: { models: { allow: [ "*" ] } } }`
    expect(problemsOf(text).join('\n')).toContain('routes[0].policies.models: warning: applies to routes with kind: ai')
  })
})
