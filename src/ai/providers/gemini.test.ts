import { describe, expect, it } from 'vitest'
import { describeAdapterContract, testKey, useContractWorld } from './contract.js'
import { readSseData } from '../fakes/harness.js'

const world = useContractWorld('gemini', 'gemini-fake')

describeAdapterContract({
  type: 'gemini',
  model: 'gemini-fake',
  label: 'Google Gemini',
  hasEmbeddings: true,
  causes: { 'rate-limited': 'rate-limited', quota: 'quota', overloaded: 'overloaded', 'server-error': 'server-error', region: 'region', 'model-access': 'model-access' },
}, world)

describe('gemini: what goes on the wire', () => {
  it('calls generateContent with x-goog-api-key, roles user/model and a systemInstruction', async () => {
    await (await world.post('/v1/chat/completions', {
      model: 'x', temperature: 0.1, max_tokens: 99, stop: ['END'],
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'yes?' }, { role: 'user', content: 'again' }],
    })).text()
    const seen = world.fake.requests.at(-1)!
    expect(seen.url).toBe('/v1beta/models/gemini-fake:generateContent')
    expect(seen.headers['x-goog-api-key']).toBe(testKey)
    expect(seen.url).not.toContain('key=')
    expect(seen.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }, { role: 'model', parts: [{ text: 'yes?' }] }, { role: 'user', parts: [{ text: 'again' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { temperature: 0.1, maxOutputTokens: 99, stopSequences: ['END'] },
    })
  })

  it('streams from streamGenerateContent?alt=sse', async () => {
    await (await world.post('/v1/chat/completions', { model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }] })).text()
    expect(world.fake.requests.at(-1)!.url).toBe('/v1beta/models/gemini-fake:streamGenerateContent?alt=sse')
  })

  it('embeds through batchEmbedContents and counts the tokens itself (Gemini reports none)', async () => {
    const { result } = await world.call('/v1/embeddings', { model: 'x', input: 'hello there' })
    const seen = world.fake.requests.at(-1)!
    expect(seen.url).toBe('/v1beta/models/gemini-fake:batchEmbedContents')
    expect(seen.body).toEqual({ requests: [{ model: 'models/gemini-fake', content: { parts: [{ text: 'hello there' }] } }] })
    expect(result.usage).toMatchObject({ promptTokens: 2, completionTokens: 0, estimated: true })
  })

  it("explains Google's 400 API_KEY_INVALID as a bad key", async () => {
    world.targets = [{ provider: { ...world.provider, key: 'AIzaWrongKey123456789' }, model: 'gemini-fake', requested: 'x' }]
    const { result, text } = await world.call('/v1/chat/completions', { model: 'x', messages: [{ role: 'user', content: 'hi' }] })
    expect(result.error).toMatchObject({ status: 400, cause: 'bad-key', providerCode: 'API_KEY_INVALID' })
    expect(text).not.toContain('AIzaWrongKey')
  })

  it('reports a stream the provider dropped midway as broken, after what was already sent', async () => {
    world.fake.setBehaviour({ breakStreamAfterChunks: 2 })
    const before = world.harness.results.length
    const events = await readSseData(await world.post('/v1/chat/completions', { model: 'x', stream: true, messages: [{ role: 'user', content: 'hello world' }] }))
    const result = await world.harness.result(before + 1)
    expect(events.length).toBeGreaterThanOrEqual(3)
    expect(events.at(-1)).toMatchObject({ error: { type: 'stream-broken' } })
    expect(result.error?.cause).toBe('stream-broken')
  })
})
