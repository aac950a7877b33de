import { describe, expect, it } from 'vitest'
import type { Identity } from '../../gateway/context.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import { allowOf, denialOf } from '../../testing/verdicts.js'
import { allowedNames, isModelAllowed } from './allow.js'
import { modelsPolicy } from './index.js'
import { ModelsConfig } from './schema.js'

const acme: Identity = { consumer: 'acme-app', tenant: 'acme', method: 'key', scopes: [] }
const other: Identity = { consumer: 'other-app', tenant: 'globex', method: 'key', scopes: [] }

function evaluate(raw: Record<string, unknown>, body: unknown, identity: Identity | null = acme, method = 'POST') {
  const run = modelsPolicy.compile(ModelsConfig.parse(raw), makeDeps({ routeName: 'ai' }))
  return run(makeContext({ method, path: '/v1/chat/completions', identity: identity ?? undefined, body: typeof body === 'string' ? body : JSON.stringify(body) }))
}

const chat = (model: unknown, content = 'hello') => ({ model, messages: [{ role: 'user', content }] })

describe('models policy', () => {
  it('allows a model on the route list and passes the parsed body on', () => {
    const verdict = allowOf(evaluate({ allow: ['fast'] }, chat('fast')))
    expect(verdict.detail).toEqual({ model: 'fast', listFrom: 'route' })
    expect((verdict.json as { model: string }).model).toBe('fast')
  })

  it('denies a model outside the list with 403 model-not-allowed naming the allowed models', () => {
    const denial = denialOf(evaluate({ allow: ['fast', 'openai/*'] }, chat('smart')))
    expect(denial.rule).toBe('models.model-not-allowed')
    expect(denial.status).toBe(403)
    expect(denial.detail?.problem).toEqual({ allowedModels: ['fast', 'openai/*'] })
    expect(denial.message).toBe("Model 'smart' is not allowed for consumer 'acme-app'; allowed: fast, openai/*.")
  })

  it('uses the most specific list: consumer, then tenant, then the route', () => {
    const raw = { allow: ['fast'], consumers: { 'acme-app': ['smart'] }, tenants: { globex: ['cheap'] } }
    expect(allowOf(evaluate(raw, chat('smart'))).detail?.listFrom).toBe('consumer')
    expect(denialOf(evaluate(raw, chat('fast'))).rule).toBe('models.model-not-allowed')
    expect(allowOf(evaluate(raw, chat('cheap'), other)).detail?.listFrom).toBe('tenant')
    expect(allowOf(evaluate(raw, chat('fast'), null)).detail?.listFrom).toBe('route')
  })

  it('answers 400 for a body without a model, or one that is not a JSON object', () => {
    const missing = denialOf(evaluate({}, { messages: [] }))
    expect([missing.rule, missing.status]).toEqual(['models.model-missing', 400])
    const bad = denialOf(evaluate({}, '[1,2'))
    expect([bad.rule, bad.status]).toEqual(['models.bad-body', 400])
  })

  it('lets GET /v1/models through without a body', () => {
    expect(allowOf(evaluate({ allow: ['fast'] }, '', acme, 'GET')).kind).toBe('allow')
  })

  it('refuses a prompt over maxPromptBytes with 413', () => {
    const denial = denialOf(evaluate({ maxPromptBytes: 10 }, chat('fast', 'x'.repeat(11))))
    expect([denial.rule, denial.status]).toEqual(['models.prompt-too-large', 413])
    expect(denial.detail?.problem).toEqual({ limitBytes: 10, promptBytes: 11 })
  })

  it('counts tokens of messages and content parts against maxPromptTokens', async () => {
    const long = 'one two three four five six seven eight nine ten eleven twelve'
    // The first verdict may wait for the token tables to load; later ones are synchronous.
    expect(denialOf(await evaluate({ maxPromptTokens: 5 }, chat('fast', long))).rule).toBe('models.too-many-prompt-tokens')
    const parts = { model: 'fast', messages: [{ role: 'user', content: [{ type: 'text', text: long }] }] }
    const refused = evaluate({ maxPromptTokens: 5 }, parts)
    expect(refused).not.toBeInstanceOf(Promise)
    expect(denialOf(refused).status).toBe(400)
    expect(allowOf(evaluate({ maxPromptTokens: 50 }, parts)).kind).toBe('allow')
    // Embeddings input counts too.
    expect(denialOf(evaluate({ maxPromptTokens: 5 }, { model: 'e', input: [long] })).rule).toBe('models.too-many-prompt-tokens')
  })
})

describe('allow-list matching', () => {
  it.each([
    [['*'], 'anything/at-all', true],
    [['fast'], 'fast', true],
    [['fast'], 'fastest', false],
    [['openai/*'], 'openai/gpt-4o', true],
    [['openai/*'], 'openai/', false],
    [['openai/*'], 'openaix/gpt-4o', false],
  ])('%j allows %s: %s', (entries, model, expected) => {
    expect(isModelAllowed(entries, model)).toBe(expected)
  })

  it('names the route models a list allows, plus explicit provider/model entries', () => {
    expect(allowedNames(['fast', 'local/llama3'], ['fast', 'smart', 'openai/gpt-4o'])).toEqual(['fast', 'local/llama3'])
  })
})

describe('models schema', () => {
  it.each([
    [{ allow: ['has space'] }, ['allow', 0]],
    [{ maxPromptBytes: 0 }, ['maxPromptBytes']],
    [{ deny: ['x'] }, []],
  ])('refuses %j', (raw, path) => {
    const result = ModelsConfig.safeParse(raw)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
  })
})
