import { describe, expect, it } from 'vitest'
import { describeAdapterContract, useContractWorld } from './contract.js'
import { targetOf } from '../fakes/harness.js'

const world = useContractWorld('openai-compatible', 'llama3')

describeAdapterContract({
  type: 'openai-compatible',
  model: 'llama3',
  label: 'OpenAI-compatible server',
  hasEmbeddings: true,
  causes: { 'rate-limited': 'rate-limited', quota: 'quota', overloaded: 'overloaded', 'server-error': 'server-error', region: 'region', 'model-access': 'model-access' },
}, world)

describe('openai-compatible: local servers (vLLM, Ollama, LM Studio)', () => {
  it('sends no Authorization header when the provider has no key', async () => {
    world.targets = [targetOf({ ...world.provider, key: undefined }, 'llama3')]
    const response = await world.post('/v1/chat/completions', { model: 'x', messages: [{ role: 'user', content: 'hi' }] })
    // The fake wants a key, so it refuses; what matters is what was sent.
    expect(response.status).toBe(502)
    expect(world.fake.requests.at(-1)!.headers.authorization).toBeUndefined()
  })

  it('counts the tokens itself when the server reports no usage, and says so', async () => {
    world.fake.setBehaviour({ omitUsage: true })
    const { text, result } = await world.call('/v1/chat/completions', { model: 'x', messages: [{ role: 'user', content: 'hello world' }] })
    expect(result.usage).toMatchObject({ estimated: true })
    expect(result.usage!.promptTokens).toBeGreaterThan(2)
    expect(result.usage!.completionTokens).toBeGreaterThanOrEqual(3)
    expect((JSON.parse(text) as { usage: { total_tokens: number } }).usage.total_tokens).toBe(result.usage!.totalTokens)
  })

  it('counts a stream without usage from the text it relayed', async () => {
    world.fake.setBehaviour({ omitUsage: true })
    const before = world.harness.results.length
    const text = await (await world.post('/v1/chat/completions', { model: 'x', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hello world' }] })).text()
    const result = await world.harness.result(before + 1)
    expect(result.usage).toMatchObject({ estimated: true })
    expect(result.usage!.completionTokens).toBeGreaterThanOrEqual(3)
    expect(text).toContain(`"total_tokens":${result.usage!.totalTokens}`)
  })
})
