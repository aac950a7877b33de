import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { JsonObject } from '../../core/json.js'
import { closeAiConnections } from '../engine.js'
import { fakeEmbedding, startFakeProvider, type FakeFailure, type FakeProvider } from '../fakes/index.js'
import { readSseData, startAiHarness, targetOf, testProvider, type AiHarness } from '../fakes/harness.js'
import { preloadTokenizer } from '../tokens.js'
import type { AiCallResult, ModelTarget, ProviderType, ResolvedProvider } from '../types.js'

export const testKey = 'sk-test-secret-key-0123456789'
const wrongKey = 'sk-wrong-secret-key-9876543210'

export interface AdapterContract {
  type: ProviderType
  model: string
  /** Label the explanations name the provider by. */
  label: string
  hasEmbeddings: boolean
  /** Cause each fake failure must be explained as. */
  causes: Record<FakeFailure, string>
}

/** A running fake, a second one for fallback, and a harness calling the engine: shared by one adapter's tests. */
export interface ContractWorld {
  fake: FakeProvider
  backup: FakeProvider
  harness: AiHarness
  provider: ResolvedProvider
  backupProvider: ResolvedProvider
  /** Targets the harness uses for the next call. */
  targets: ModelTarget[]
  post(path: string, body: JsonObject, signal?: AbortSignal): Promise<Response>
  /** Posts and waits for the engine's result of that call. */
  call(path: string, body: JsonObject): Promise<{ response: Response; text: string; result: AiCallResult }>
}

export function useContractWorld(type: ProviderType, model: string): ContractWorld {
  const world = { targets: [] as ModelTarget[] } as ContractWorld
  beforeAll(async () => {
    world.fake = await startFakeProvider({ type, key: testKey, models: [model] })
    world.backup = await startFakeProvider({ type, key: testKey, models: [model] })
    world.provider = testProvider(type, world.fake.url, { name: 'primary' })
    world.backupProvider = testProvider(type, world.backup.url, { name: 'backup' })
    world.harness = await startAiHarness(() => world.targets)
    world.post = (path, body, signal) => fetch(`${world.harness.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal })
    world.call = async (path, body) => {
      const before = world.harness.results.length
      const response = await world.post(path, body)
      const text = await response.text()
      const result = await world.harness.result(before + 1)
      return { response, text, result }
    }
    await preloadTokenizer()
  })
  beforeEach(() => {
    world.fake.setBehaviour({})
    world.backup.setBehaviour({})
    world.targets = [targetOf(world.provider, model)]
  })
  afterAll(async () => {
    await world.harness.close()
    await world.fake.close()
    await world.backup.close()
    await closeAiConnections()
  })
  return world
}

const chatBody = (extra: JsonObject = {}): JsonObject => ({
  model: 'anything',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hello world' },
  ],
  ...extra,
})

/** The behaviour every adapter must show against its fake. */
export function describeAdapterContract(contract: AdapterContract, world: ContractWorld): void {
  const { model, label } = contract

  describe(`${contract.type}: the OpenAI contract against a fake ${label}`, () => {
    it('answers a chat as an OpenAI chat.completion with the usage the provider reported', async () => {
      const { response, text, result } = await world.call('/v1/chat/completions', chatBody())
      expect(response.status).toBe(200)
      const answer = JSON.parse(text) as JsonObject
      expect(answer.object).toBe('chat.completion')
      expect(answer.choices).toEqual([expect.objectContaining({ index: 0, message: expect.objectContaining({ role: 'assistant', content: 'Echo: hello world' }), finish_reason: 'stop' })])
      // The fake counts words: "Be brief." + "hello world" = 4 prompt, "Echo: hello world" = 3.
      expect(answer.usage).toEqual({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 })
      expect(result).toMatchObject({ ok: true, status: 200, provider: 'primary', model, usage: { promptTokens: 4, completionTokens: 3, totalTokens: 7, estimated: false } })
    })

    it('streams chat.completion.chunk events that end with [DONE], with the usage chunk only when the client asked', async () => {
      const before = world.harness.results.length
      const asked = await readSseData(await world.post('/v1/chat/completions', chatBody({ stream: true, stream_options: { include_usage: true } })))
      const result = await world.harness.result(before + 1)
      expect(asked.at(-1)).toBe('[DONE]')
      const chunks = asked.slice(0, -1) as JsonObject[]
      for (const chunk of chunks) expect(chunk.object).toBe('chat.completion.chunk')
      const deltas = chunks.flatMap((c) => (c.choices as JsonObject[]).map((choice) => choice.delta as JsonObject))
      expect(deltas[0].role).toBe('assistant')
      expect(deltas.map((d) => d.content ?? '').join('')).toBe('Echo: hello world')
      // At least one chunk per word: the answer is relayed as it comes, not gathered.
      expect(deltas.filter((d) => typeof d.content === 'string' && d.content !== '').length).toBeGreaterThanOrEqual(3)
      const finishes = chunks.flatMap((c) => (c.choices as JsonObject[]).map((choice) => choice.finish_reason)).filter((f) => f !== null)
      expect(finishes).toEqual(['stop'])
      const usageChunk = chunks.at(-1)!
      expect(usageChunk.choices).toEqual([])
      expect(usageChunk.usage).toEqual({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 })
      expect(result).toMatchObject({ ok: true, usage: { promptTokens: 4, completionTokens: 3, estimated: false } })
      expect(result.firstByteMs).toBeGreaterThan(0)

      const before2 = world.harness.results.length
      const silent = await readSseData(await world.post('/v1/chat/completions', chatBody({ stream: true })))
      const result2 = await world.harness.result(before2 + 1)
      expect(silent.at(-1)).toBe('[DONE]')
      expect(silent.some((c) => c !== '[DONE]' && c.usage !== undefined)).toBe(false)
      // The gateway still knows the usage for accounting.
      expect(result2.usage).toMatchObject({ promptTokens: 4, completionTokens: 3, estimated: false })
    })

    if (contract.hasEmbeddings) {
      it('answers embeddings as an OpenAI list, one vector per input', async () => {
        const { response, text, result } = await world.call('/v1/embeddings', { model: 'anything', input: ['first text', 'second'] })
        expect(response.status).toBe(200)
        const answer = JSON.parse(text) as JsonObject
        expect(answer.object).toBe('list')
        expect(answer.data).toEqual([
          { object: 'embedding', index: 0, embedding: fakeEmbedding('first text') },
          { object: 'embedding', index: 1, embedding: fakeEmbedding('second') },
        ])
        expect(result.usage?.promptTokens).toBeGreaterThan(0)
      })
    } else {
      it('refuses embeddings with an explanation, without calling the provider', async () => {
        const seen = world.fake.requests.length
        const { response, result } = await world.call('/v1/embeddings', { model: 'anything', input: 'x' })
        expect(response.status).toBe(400)
        expect(result.error).toMatchObject({ cause: 'unsupported' })
        expect(world.fake.requests.length).toBe(seen)
      })
    }

    it("explains a rejected key as bad-key and never repeats the key", async () => {
      world.targets = [targetOf({ ...world.provider, key: wrongKey }, model)]
      const { response, text, result } = await world.call('/v1/chat/completions', chatBody())
      expect(response.status).toBe(502)
      expect(result.error).toMatchObject({ cause: 'bad-key', retryable: false })
      expect(result.error!.message).toContain(label)
      expect(result.error!.message).toContain("'primary'")
      expect(result.error!.remedy).toContain('providers.primary.key')
      for (const leak of [wrongKey, wrongKey.slice(-4), 'wrong-secret']) {
        expect(result.error!.message).not.toContain(leak)
        expect(text).not.toContain(leak)
      }
      expect(result.attempts).toHaveLength(1)
    })

    it('explains a 429 as rate-limited with the retry-after the provider sent', async () => {
      world.fake.setBehaviour({ fail: 'rate-limited', retryAfterSeconds: 7 })
      const { response, result } = await world.call('/v1/chat/completions', chatBody())
      expect(response.status).toBe(429)
      expect(result.error).toMatchObject({ status: 429, cause: 'rate-limited', retryable: true, retryAfterSeconds: 7 })
      expect(result.error!.message).toContain(label)
    })

    it.each(Object.entries(contract.causes))('explains the fake failure %s as %s', async (failure, cause) => {
      world.fake.setBehaviour({ fail: failure as FakeFailure })
      const { result } = await world.call('/v1/chat/completions', chatBody())
      expect(result.ok).toBe(false)
      expect(result.error?.cause).toBe(cause)
      expect(result.error?.remedy.length).toBeGreaterThan(20)
    })

    it('explains an unknown model as model-not-found', async () => {
      world.targets = [targetOf(world.provider, 'no-such-model')]
      const { result } = await world.call('/v1/chat/completions', chatBody())
      expect(result.error).toMatchObject({ cause: 'model-not-found', retryable: false })
    })

    it('falls back to the next target when the first is overloaded, before writing anything', async () => {
      world.fake.setBehaviour({ fail: 'overloaded' })
      world.targets = [targetOf(world.provider, model), targetOf(world.backupProvider, model)]
      const { response, text, result } = await world.call('/v1/chat/completions', chatBody())
      expect(response.status).toBe(200)
      expect((JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe('Echo: hello world')
      expect(result.provider).toBe('backup')
      expect(result.attempts.map((a) => [a.provider, a.error?.cause ?? a.status])).toEqual([['primary', 'overloaded'], ['backup', 200]])
    })

    it('falls back on a rate-limited stream and streams from the next target', async () => {
      world.fake.setBehaviour({ fail: 'rate-limited' })
      world.targets = [targetOf(world.provider, model), targetOf(world.backupProvider, model)]
      const before = world.harness.results.length
      const events = await readSseData(await world.post('/v1/chat/completions', chatBody({ stream: true })))
      const result = await world.harness.result(before + 1)
      expect(events.at(-1)).toBe('[DONE]')
      expect(result.provider).toBe('backup')
      expect(result.attempts[0].error?.cause).toBe('rate-limited')
    })

    it('does not fall back after a bad key (another target would not fix the config)', async () => {
      world.targets = [targetOf({ ...world.provider, key: wrongKey }, model), targetOf(world.backupProvider, model)]
      const seen = world.backup.requests.length
      const { result } = await world.call('/v1/chat/completions', chatBody())
      expect(result.ok).toBe(false)
      expect(world.backup.requests.length).toBe(seen)
    })

    it('stops the provider stream when the client goes away', async () => {
      const reply = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ')
      world.fake.setBehaviour({ reply, chunkDelayMs: 20 })
      const before = world.harness.results.length
      const controller = new AbortController()
      const response = await world.post('/v1/chat/completions', chatBody({ stream: true }), controller.signal)
      const reader = response.body!.getReader()
      let seen = ''
      while (!seen.includes('word1')) {
        const { value, done } = await reader.read()
        if (done) break
        seen += new TextDecoder().decode(value)
      }
      controller.abort()
      const result = await world.harness.result(before + 1)
      expect(result.clientClosed).toBe(true)
      expect(result.usage?.completionTokens).toBeGreaterThan(0)
      const providerCall = world.fake.requests.at(-1)!
      for (let i = 0; i < 100 && !providerCall.aborted; i++) await new Promise((r) => setTimeout(r, 10))
      expect(providerCall.aborted).toBe(true)
      expect(providerCall.completed).toBe(false)
    })
  })
}
