import { describe, expect, it } from 'vitest'
import { describeAdapterContract, testKey, useContractWorld } from './contract.js'
import type { JsonObject } from '../../core/json.js'

const world = useContractWorld('openai', 'gpt-fake')

describeAdapterContract({
  type: 'openai',
  model: 'gpt-fake',
  label: 'OpenAI',
  hasEmbeddings: true,
  causes: { 'rate-limited': 'rate-limited', quota: 'quota', overloaded: 'overloaded', 'server-error': 'server-error', region: 'region', 'model-access': 'model-access' },
}, world)

describe('openai: what goes on the wire', () => {
  it('sends the Bearer key to /v1/chat/completions and always asks for stream usage', async () => {
    const events = await (await world.post('/v1/chat/completions', { model: 'alias', stream: true, messages: [{ role: 'user', content: 'hi' }] })).text()
    expect(events).toContain('[DONE]')
    const seen = world.fake.requests.at(-1)!
    expect(seen.url).toBe('/v1/chat/completions')
    expect(seen.headers.authorization).toBe(`Bearer ${testKey}`)
    expect(seen.body).toMatchObject({ model: 'gpt-fake', stream: true, stream_options: { include_usage: true } })
  })

  it('does not double /v1 when the provider url already ends with it', async () => {
    world.targets = [{ provider: { ...world.provider, url: `${world.fake.url}/v1` }, model: 'gpt-fake', requested: 'x' }]
    const response = await world.post('/v1/chat/completions', { model: 'x', messages: [{ role: 'user', content: 'hi' }] })
    expect(response.status).toBe(200)
    expect(world.fake.requests.at(-1)!.url).toBe('/v1/chat/completions')
  })

  it('keeps the client fields it does not translate (temperature, tools) on their way to OpenAI', async () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }]
    await (await world.post('/v1/chat/completions', { model: 'x', temperature: 0.2, tools, messages: [{ role: 'user', content: 'hi' }] })).text()
    expect(world.fake.requests.at(-1)!.body as JsonObject).toMatchObject({ temperature: 0.2, tools })
  })
})
