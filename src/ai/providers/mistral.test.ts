import { describe, expect, it } from 'vitest'
import { describeAdapterContract, testKey, useContractWorld } from './contract.js'

const world = useContractWorld('mistral', 'mistral-small-latest')

describeAdapterContract({
  type: 'mistral',
  model: 'mistral-small-latest',
  label: 'Mistral',
  hasEmbeddings: true,
  causes: { 'rate-limited': 'rate-limited', quota: 'quota', overloaded: 'overloaded', 'server-error': 'server-error', region: 'region', 'model-access': 'model-access' },
}, world)

describe('mistral: what goes on the wire', () => {
  it('drops fields Mistral refuses (stream_options, user) and renames seed to random_seed', async () => {
    const text = await (await world.post('/v1/chat/completions', {
      model: 'x', stream: true, stream_options: { include_usage: true }, user: 'u1', seed: 42, max_completion_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    })).text()
    expect(text).toContain('[DONE]')
    const seen = world.fake.requests.at(-1)!
    expect(seen.url).toBe('/v1/chat/completions')
    expect(seen.headers.authorization).toBe(`Bearer ${testKey}`)
    expect(seen.body).toEqual({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }], stream: true, random_seed: 42, max_tokens: 50 })
  })

  it('sends embeddings with only the fields Mistral knows, even when the client asks for base64', async () => {
    const response = await world.post('/v1/embeddings', { model: 'x', input: 'hi', encoding_format: 'base64', user: 'u1' })
    expect(response.status).toBe(200)
    expect(world.fake.requests.at(-1)!.body).toEqual({ model: 'mistral-small-latest', input: 'hi' })
    const answer = (await response.json()) as { data: { embedding: unknown }[] }
    expect(typeof answer.data[0].embedding).toBe('string')
  })
})
