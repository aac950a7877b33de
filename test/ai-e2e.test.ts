import { createHash } from 'node:crypto'
import { Writable } from 'node:stream'
import OpenAI from 'openai'
import { pino } from 'pino'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeAiConnections } from '../src/ai/engine.js'
import { startFakeProvider, type FakeProvider } from '../src/ai/fakes/index.js'
import { main } from '../src/cli/main.js'
import { createMemoryIo } from '../src/cli/io.js'
import type { ProviderType } from '../src/ai/types.js'
import type { CallRecord } from '../src/store/types.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

/** Provider keys the gateway holds; none may ever reach a client, the call log or a log line. */
const providerKeys = {
  OAI_KEY: 'sk-oai-secret-0123456789abcdef',
  AZ_KEY: 'az-secret-0123456789abcdef',
  ANT_KEY: 'sk-ant-secret-0123456789abcdef',
  GEM_KEY: 'gem-secret-0123456789abcdef',
  MIS_KEY: 'mis-secret-0123456789abcdef',
  WRONG_KEY: 'sk-wrong-secret-0123456789abcdef',
}
const adminToken = 'admin-token-0123456789abcdef'
const brokeAdminToken = 'broke-admin-token-0123456789'
const consumerKeys = { acme: 'acme-consumer-key-1', small: 'small-consumer-key-2', quota: 'quota-consumer-key-3', broke: 'broke-consumer-key-4' }

/** Every adapter, by the provider name the config gives it and the model its fake serves. */
const adapters: { name: string; type: ProviderType; chat: string; embed?: string }[] = [
  { name: 'oai', type: 'openai', chat: 'gpt-4o-mini', embed: 'text-embedding-3-small' },
  { name: 'az', type: 'azure', chat: 'gpt-4o', embed: 'text-embedding-3-small' },
  { name: 'claude', type: 'anthropic', chat: 'claude-3-5-haiku' },
  { name: 'gem', type: 'gemini', chat: 'gemini-1.5-flash', embed: 'text-embedding-004' },
  { name: 'mis', type: 'mistral', chat: 'mistral-small', embed: 'mistral-embed' },
  { name: 'local', type: 'openai-compatible', chat: 'llama3', embed: 'nomic-embed-text' },
]

describe('AI routes through the official OpenAI SDK', () => {
  const fakes = new Map<string, FakeProvider>()
  let gateway: TestGateway
  const logLines: string[] = []
  const sdk = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 })

  beforeAll(async () => {
    fakes.set('oai', await startFakeProvider({ type: 'openai', key: providerKeys.OAI_KEY }))
    fakes.set('az', await startFakeProvider({ type: 'azure', key: providerKeys.AZ_KEY, models: ['chat-deployment', 'embed-deployment'] }))
    fakes.set('claude', await startFakeProvider({ type: 'anthropic', key: providerKeys.ANT_KEY }))
    fakes.set('gem', await startFakeProvider({ type: 'gemini', key: providerKeys.GEM_KEY }))
    fakes.set('mis', await startFakeProvider({ type: 'mistral', key: providerKeys.MIS_KEY }))
    // A local server that reports no usage: the gateway counts the tokens itself.
    fakes.set('local', await startFakeProvider({ type: 'openai-compatible', behaviour: { omitUsage: true } }))
    fakes.set('flaky', await startFakeProvider({ type: 'openai', key: providerKeys.OAI_KEY, behaviour: { fail: 'rate-limited' } }))
    fakes.set('down', await startFakeProvider({ type: 'mistral', key: providerKeys.MIS_KEY, behaviour: { fail: 'server-error' } }))
    // The gateway holds the wrong key for this one: the provider answers 401.
    fakes.set('badkey', await startFakeProvider({ type: 'openai', key: providerKeys.OAI_KEY }))
    fakes.set('geo', await startFakeProvider({ type: 'gemini', key: providerKeys.GEM_KEY, behaviour: { fail: 'region' } }))
    fakes.set('noaccess', await startFakeProvider({ type: 'openai', key: providerKeys.OAI_KEY, behaviour: { fail: 'model-access' } }))
    fakes.set('busy', await startFakeProvider({ type: 'anthropic', key: providerKeys.ANT_KEY, behaviour: { fail: 'rate-limited' } }))
    fakes.set('slow', await startFakeProvider({ type: 'openai', key: providerKeys.OAI_KEY, behaviour: { firstChunkDelayMs: 50 } }))
    const url = (name: string) => fakes.get(name)!.url
    const yaml = `
explain: consumer
admin:
  tokens:
    - "${adminToken}"
    - { token: "${brokeAdminToken}", role: tenant-admin, tenant: broke }
providers:
  oai: { type: openai, url: "${url('oai')}", key: "env:OAI_KEY", prices: { gpt-4o-mini: { input: 150, output: 600 } } }
  az: { type: azure, url: "${url('az')}", key: "env:AZ_KEY", apiVersion: "2024-10-21", deployments: { gpt-4o: chat-deployment, text-embedding-3-small: embed-deployment } }
  claude: { type: anthropic, url: "${url('claude')}", key: "env:ANT_KEY" }
  gem: { type: gemini, url: "${url('gem')}", key: "env:GEM_KEY" }
  mis: { type: mistral, url: "${url('mis')}", key: "env:MIS_KEY" }
  local: { type: openai-compatible, url: "${url('local')}" }
  flaky: { type: openai, url: "${url('flaky')}", key: "env:OAI_KEY" }
  down: { type: mistral, url: "${url('down')}", key: "env:MIS_KEY" }
  badkey: { type: openai, url: "${url('badkey')}", key: "env:WRONG_KEY" }
  geo: { type: gemini, url: "${url('geo')}", key: "env:GEM_KEY" }
  noaccess: { type: openai, url: "${url('noaccess')}", key: "env:OAI_KEY" }
  busy: { type: anthropic, url: "${url('busy')}", key: "env:ANT_KEY" }
  slow: { type: openai, url: "${url('slow')}", key: "env:OAI_KEY" }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha(consumerKeys.acme)}" ] }
  - { name: small-app, tenant: acme, keys: [ "sha256:${sha(consumerKeys.small)}" ] }
  - { name: quota-app, tenant: acme, keys: [ "sha256:${sha(consumerKeys.quota)}" ] }
  - { name: broke-app, tenant: broke, keys: [ "sha256:${sha(consumerKeys.broke)}" ] }
routes:
  - name: ai
    kind: ai
    match: { path: /v1/* }
    models:
      fast: [ flaky/gpt-4o-mini, oai/gpt-4o-mini ]
      sturdy: [ down/mistral-small, claude/claude-3-5-haiku ]
      broken: [ badkey/gpt-4o-mini ]
      faraway: [ geo/gemini-1.5-flash ]
      locked: [ noaccess/gpt-4o ]
      crowded: [ busy/claude-3-5-haiku ]
    policies:
      auth: { methods: [ key ] }
      models:
        allow: [ "*" ]
        consumers: { small-app: [ fast ] }
      budget:
        quotas: [ { per: consumer, name: quota-app, period: day, tokens: 5 } ]
        budgets: [ { per: tenant, name: broke, period: month, costUsd: 0.000001 } ]
`
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString('utf8')); done() } })
    gateway = await startTestGateway(yaml, { env: { ...providerKeys }, logger: pino({ level: 'debug' }, sink) })
  })

  afterAll(async () => {
    await gateway?.close(100)
    await Promise.all([...fakes.values()].map((f) => f.close()))
    await closeAiConnections()
  })

  describe.each(adapters)('through the $type adapter', ({ name, chat, embed }) => {
    it('chats', async () => {
      const answer = await sdk(consumerKeys.acme).chat.completions.create({ model: `${name}/${chat}`, messages: [{ role: 'user', content: 'hello from the sdk' }] })
      expect(answer.choices[0].message.content).toContain('hello from the sdk')
      expect(answer.usage?.total_tokens).toBeGreaterThan(0)
    })

    it('streams', async () => {
      const stream = await sdk(consumerKeys.acme).chat.completions.create({ model: `${name}/${chat}`, messages: [{ role: 'user', content: 'stream me please' }], stream: true, stream_options: { include_usage: true } })
      let text = ''
      let chunks = 0
      for await (const chunk of stream) {
        chunks++
        text += chunk.choices[0]?.delta?.content ?? ''
      }
      expect(chunks).toBeGreaterThan(1)
      expect(text).toContain('stream me please')
    })

    it(embed ? 'embeds' : 'explains that the provider has no embeddings API', async () => {
      const call = sdk(consumerKeys.acme).embeddings.create({ model: `${name}/${embed ?? chat}`, input: ['one text', 'another text'] })
      if (!embed) {
        const error = (await call.catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>
        expect(error).toBeInstanceOf(OpenAI.BadRequestError)
        expect(error.headers.get('gatehouse-decision')).toBe('upstream;rule=provider-unsupported')
        return
      }
      const result = await call
      expect(result.data).toHaveLength(2)
      expect(result.data[0].embedding.length).toBeGreaterThan(0)
    })
  })

  it('falls back to the next target of an alias when the first answers 429', async () => {
    const before = fakes.get('oai')!.requests.length
    const answer = await sdk(consumerKeys.acme).chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'fallback please' }] })
    expect(answer.choices[0].message.content).toContain('fallback please')
    expect(fakes.get('flaky')!.requests.length).toBeGreaterThan(0)
    expect(fakes.get('oai')!.requests.length).toBe(before + 1)
  })

  it('falls back when the first target answers 5xx, across protocols', async () => {
    const answer = await sdk(consumerKeys.acme).chat.completions.create({ model: 'sturdy', messages: [{ role: 'user', content: 'five hundred' }] })
    expect(answer.choices[0].message.content).toContain('five hundred')
    expect(fakes.get('down')!.requests.length).toBeGreaterThan(0)
  })

  it('lists only the models the caller may use', async () => {
    const all = (await sdk(consumerKeys.acme).models.list()).data.map((m) => m.id)
    expect(all).toEqual(expect.arrayContaining(['fast', 'sturdy', 'oai/gpt-4o-mini']))
    const small = (await sdk(consumerKeys.small).models.list()).data.map((m) => m.id)
    expect(small).toEqual(['fast'])
  })

  it('refuses a model outside the allow-list with 403 models.model-not-allowed naming the allowed ones', async () => {
    const error = await sdk(consumerKeys.small).chat.completions.create({ model: 'sturdy', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError)
    const denied = error as InstanceType<typeof OpenAI.PermissionDeniedError>
    expect(denied.status).toBe(403)
    expect(denied.headers.get('gatehouse-decision')).toBe('models;rule=model-not-allowed')
    expect(denied.code).toBe('model-not-allowed')
    expect(denied.message).toContain('allowed: fast')
    // The raw answer is problem+json with the allowed models as a member.
    const raw = await request(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${consumerKeys.small}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sturdy', messages: [] }) })
    expect(raw.headers['content-type']).toBe('application/problem+json')
    const problem = (await raw.body.json()) as Record<string, unknown>
    expect(problem).toMatchObject({ status: 403, layer: 'models', rule: 'model-not-allowed', allowedModels: ['fast'] })
  })

  it('refuses a call without a Gatehouse key with 401 (the SDK key is the consumer key)', async () => {
    const error = await sdk('not-a-known-key').chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).headers.get('gatehouse-decision')).toBe('authn;rule=key-invalid')
  })

  it('answers a used-up token quota with 429, Retry-After and the remaining quota', async () => {
    // The first call passes (nothing used yet) and is charged its real usage, past the 5-token quota.
    await sdk(consumerKeys.quota).chat.completions.create({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'use up my whole quota now' }] })
    const raw = await request(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${consumerKeys.quota}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] }) })
    expect(raw.statusCode).toBe(429)
    expect(Number(raw.headers['retry-after'])).toBeGreaterThan(0)
    expect(raw.headers['gatehouse-decision']).toBe('budget;rule=quota-exceeded')
    const problem = (await raw.body.json()) as { quota: Record<string, unknown>; layer: string }
    expect(problem.layer).toBe('budget')
    expect(problem.quota).toMatchObject({ per: 'consumer', period: 'day', limitTokens: 5, remainingTokens: 0 })
    expect(problem.quota.usedTokens as number).toBeGreaterThan(5)
  })

  it('refuses a spent hard cost budget with 403 budget.exhausted', async () => {
    await sdk(consumerKeys.broke).chat.completions.create({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'spend it all' }] })
    const error = await sdk(consumerKeys.broke).chat.completions.create({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'spend more' }] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError)
    const denied = error as InstanceType<typeof OpenAI.PermissionDeniedError>
    expect(denied.headers.get('gatehouse-decision')).toBe('budget;rule=exhausted')
    expect((denied.error as { budget: Record<string, unknown> }).budget).toMatchObject({ per: 'tenant', period: 'month', limitUsd: 0.000001, remainingUsd: 0 })
  })

  it.each([
    ['broken', 502, 'provider-bad-key', 'bad-key'],
    ['faraway', 502, 'provider-region', 'region'],
    ['locked', 502, 'provider-model-access', 'model-access'],
    ['crowded', 429, 'provider-rate-limited', 'rate-limited'],
  ])('explains a provider refusal (%s) as an upstream error, never as the gateway denying the consumer', async (model, status, rule, cause) => {
    const raw = await request(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${consumerKeys.acme}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) })
    const text = await raw.body.text()
    expect(raw.statusCode).toBe(status)
    expect(raw.headers['gatehouse-decision']).toBe(`upstream;rule=${rule}`)
    const problem = JSON.parse(text) as Record<string, unknown>
    expect(problem).toMatchObject({ layer: 'upstream', rule, cause })
    expect(typeof problem.remedy).toBe('string')
    for (const key of Object.values(providerKeys)) expect(text).not.toContain(key)
  })

  it('never sends the client Authorization header to a provider', async () => {
    await sdk(consumerKeys.acme).chat.completions.create({ model: 'claude/claude-3-5-haiku', messages: [{ role: 'user', content: 'who am i' }] })
    const seen = fakes.get('claude')!.requests.at(-1)!
    expect(JSON.stringify(seen.headers)).not.toContain(consumerKeys.acme)
    expect(seen.headers['x-api-key']).toBe(providerKeys.ANT_KEY)
  })

  it('stores model, tokens and cost in the call log, shows them in `gatehouse calls --json`, and never a provider key', async () => {
    const answer = await sdk(consumerKeys.acme).chat.completions.create({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'count my tokens' }] })
    await gateway.store!.flush()
    const rows = await gateway.store!.query({ route: 'ai', limit: 500 })
    const priced = rows.find((r) => r.ai?.requested === 'oai/gpt-4o-mini' && r.consumer === 'acme-app')
    expect(priced?.ai).toMatchObject({ provider: 'oai', model: 'gpt-4o-mini', promptTokens: answer.usage!.prompt_tokens, completionTokens: answer.usage!.completion_tokens, estimated: false, stream: false })
    const expectedCost = (answer.usage!.prompt_tokens * 150 + answer.usage!.completion_tokens * 600) / 1e6
    expect(priced?.ai?.costUsd).toBeCloseTo(expectedCost, 8)
    // The local server reported no usage: the gateway counted, and says so.
    const local = rows.find((r) => r.ai?.provider === 'local' && r.ai.operation === 'chat')
    expect(local?.ai?.estimated).toBe(true)
    expect(local?.ai?.promptTokens).toBeGreaterThan(0)

    const io = createMemoryIo({}, gateway.dir)
    expect(await main(['calls', '-c', gateway.configFile, '--route', 'ai', '--limit', '500', '--json'], io)).toBe(0)
    const listed = JSON.parse(io.out) as CallRecord[]
    expect(listed.find((r) => r.requestId === priced!.requestId)?.ai?.costUsd).toBeCloseTo(expectedCost, 8)
    const human = createMemoryIo({}, gateway.dir)
    expect(await main(['calls', '-c', gateway.configFile, '--route', 'ai', '--limit', '5'], human)).toBe(0)
    expect(human.out).toContain('gpt-4o-mini')

    const everything = JSON.stringify(rows) + io.out + logLines.join('')
    for (const key of Object.values(providerKeys)) expect(everything).not.toContain(key)
    for (const key of Object.values(consumerKeys)) expect(everything).not.toContain(key)
  })

  it('reports usage and cost per consumer and model on GET /api/analytics/ai, a tenant admin seeing its tenant only', async () => {
    await gateway.store!.flush()
    const get = async (token: string, query: string) => {
      const res = await request(`${gateway.adminUrl}/api/analytics/ai?${query}`, { headers: { authorization: `Bearer ${token}` } })
      return { status: res.statusCode, body: (await res.body.json()) as { totals: { calls: number; totalTokens: number; costUsd: number }; groups: { key: string; calls: number; costUsd: number }[]; buckets: unknown[] } }
    }
    const byConsumer = await get(adminToken, 'since=1h&bucket=5m&by=consumer')
    expect(byConsumer.status).toBe(200)
    expect(byConsumer.body.totals.calls).toBeGreaterThan(10)
    expect(byConsumer.body.groups.map((g) => g.key)).toEqual(expect.arrayContaining(['acme-app', 'broke-app', 'quota-app']))
    expect(byConsumer.body.buckets.length).toBeGreaterThan(0)
    const byModel = await get(adminToken, 'since=1h&bucket=1h&by=model')
    expect(byModel.body.groups.find((g) => g.key === 'oai/gpt-4o-mini')!.costUsd).toBeGreaterThan(0)
    const tenantOnly = await get(brokeAdminToken, 'since=1h&bucket=1h&by=tenant')
    expect(tenantOnly.body.groups.map((g) => g.key)).toEqual(['broke'])
  })

  it('stops the provider call when the client leaves a stream, and logs it as 499 client-closed', async () => {
    const slow = fakes.get('slow')!
    slow.setBehaviour({ firstChunkDelayMs: 10, chunkDelayMs: 100 })
    try {
      const stream = await sdk(consumerKeys.acme).chat.completions.create({ model: 'slow/gpt-4o-mini', messages: [{ role: 'user', content: 'a long answer with many many words to stream slowly' }], stream: true })
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) break // leaving the loop aborts the request
      }
      await expect.poll(() => slow.requests.at(-1)?.aborted, { timeout: 3000 }).toBe(true)
      await expect.poll(async () => {
        await gateway.store!.flush()
        return (await gateway.store!.query({ route: 'ai', limit: 5 })).find((r) => r.decision === 'client-closed')?.status
      }, { timeout: 3000 }).toBe(499)
    } finally {
      slow.setBehaviour({ firstChunkDelayMs: 50 })
    }
  })

  it('adds no buffering delay to a stream: first-token latency through the gateway vs direct', async () => {
    const slow = fakes.get('slow')!
    const direct = new OpenAI({ baseURL: `${slow.url}/v1`, apiKey: providerKeys.OAI_KEY, maxRetries: 0 })
    const through = sdk(consumerKeys.acme)
    const firstToken = async (client: OpenAI, model: string) => {
      const started = performance.now()
      const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'latency probe with several words' }], stream: true })
      let first = 0
      for await (const chunk of stream) {
        if (first === 0 && chunk.choices[0]?.delta?.content) first = performance.now() - started
      }
      return first
    }
    // Warm both connection pools, then take the median of a few runs each.
    await firstToken(direct, 'gpt-4o-mini')
    await firstToken(through, 'slow/gpt-4o-mini')
    const runs = 5
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
    // Buffering would add at least the fake's chunk spacing to every run. On a loaded 2-core
    // machine one round can still be noisy, so up to three rounds are taken; one under the
    // bound shows nothing holds the stream back.
    let added = Infinity
    for (let round = 0; round < 3 && added >= 25; round++) {
      const directMs: number[] = []
      const gatewayMs: number[] = []
      for (let i = 0; i < runs; i++) {
        directMs.push(await firstToken(direct, 'gpt-4o-mini'))
        gatewayMs.push(await firstToken(through, 'slow/gpt-4o-mini'))
      }
      const d = median(directMs)
      const g = median(gatewayMs)
      added = median(gatewayMs.map((ms, i) => ms - directMs[i]))
      console.log(`[measure] first token: direct ${d.toFixed(1)} ms, through the gateway ${g.toFixed(1)} ms, added ${added.toFixed(1)} ms (median of ${runs}, round ${round + 1})`)
      expect(d).toBeGreaterThanOrEqual(45)
    }
    expect(added).toBeLessThan(25)
  })
})
