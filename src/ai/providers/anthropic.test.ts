import { describe, expect, it } from 'vitest'
import { describeAdapterContract, testKey, useContractWorld } from './contract.js'
import { anthropicVersion, defaultAnthropicMaxTokens } from './anthropic.js'
import { readSseData } from '../fakes/harness.js'

const world = useContractWorld('anthropic', 'claude-fake')

describeAdapterContract({
  type: 'anthropic',
  model: 'claude-fake',
  label: 'Anthropic',
  hasEmbeddings: false,
  causes: { 'rate-limited': 'rate-limited', quota: 'quota', overloaded: 'overloaded', 'server-error': 'server-error', region: 'region', 'model-access': 'model-access' },
}, world)

describe('anthropic: what goes on the wire', () => {
  it('moves the system prompt out of messages, sets max_tokens and the Anthropic headers', async () => {
    await (await world.post('/v1/chat/completions', {
      model: 'x', stop: 'END', temperature: 0.5,
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'yes?' }, { role: 'user', content: 'again' }],
    })).text()
    const seen = world.fake.requests.at(-1)!
    expect(seen.url).toBe('/v1/messages')
    expect(seen.headers['x-api-key']).toBe(testKey)
    expect(seen.headers['anthropic-version']).toBe(anthropicVersion)
    expect(seen.headers.authorization).toBeUndefined()
    expect(seen.body).toEqual({
      model: 'claude-fake',
      max_tokens: defaultAnthropicMaxTokens,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yes?' }, { role: 'user', content: 'again' }],
      temperature: 0.5,
      stop_sequences: ['END'],
    })
  })

  it('maps stop_reason max_tokens to finish_reason length', async () => {
    const answer = (await (await world.post('/v1/chat/completions', { model: 'x', max_tokens: 2, messages: [{ role: 'user', content: 'one two three' }] })).json()) as { choices: { finish_reason: string; message: { content: string } }[] }
    expect(answer.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Echo: one' } })
    expect((world.fake.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBe(2)
  })

  it('sends an image part as an Anthropic base64 image block', async () => {
    await (await world.post('/v1/chat/completions', { model: 'x', messages: [{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] })).text()
    expect((world.fake.requests.at(-1)!.body as { messages: unknown[] }).messages[0]).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'what?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }],
    })
  })

  it('turns an error event in a started stream into an OpenAI error event, keeping what was sent', async () => {
    world.fake.setBehaviour({ breakStreamAfterChunks: 2 })
    const before = world.harness.results.length
    const events = await readSseData(await world.post('/v1/chat/completions', { model: 'x', stream: true, messages: [{ role: 'user', content: 'hello world' }] }))
    const result = await world.harness.result(before + 1)
    expect(events.at(-1)).toMatchObject({ error: { type: 'overloaded' } })
    expect(events).not.toContain('[DONE]')
    expect(result).toMatchObject({ ok: true, error: { cause: 'overloaded' } })
  })
})
