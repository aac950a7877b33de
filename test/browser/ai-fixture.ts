import { request } from 'undici'
import type { CallRecord } from '../../src/store/types.js'
import { closeAiConnections } from '../../src/ai/engine.js'
import { startFakeProvider, type FakeProvider } from '../../src/ai/fakes/index.js'
import { startUpstream, type TestUpstream } from '../../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../../src/testing/start-gateway.js'
import { consoleConfig, keyOf } from './fixture.js'

/** USD per 1M tokens of the priced model (high, so a few words cost a readable amount). */
export const prices = { input: 150, output: 600 }

/** Price tables by model (USD per 1M tokens) for provider `cloud`. */
export type PriceTable = Record<string, { input: number; output: number }>

/**
 * The console fixture's gateway plus an AI route: provider `cloud` (OpenAI-compatible, reports
 * usage, priced) and `local` (OpenAI-compatible, reports no usage, no price: the gateway counts
 * and the call costs nothing). Aliases: `fast` → cloud/gpt-4o-mini, `local` → local/llama3.
 */
export interface AiConsoleFixture {
  gateway: TestGateway
  upstream: TestUpstream
  providers: { cloud: FakeProvider; local: FakeProvider }
  consoleUrl: string
  /** POST /v1/chat/completions with a consumer's key as a Bearer token; returns status and request id. */
  chat(consumer: string, model: string, content: string): Promise<{ status: number; requestId: string }>
  close(): Promise<void>
}

/** `cloudPrices`: the price table of provider `cloud` (the screenshots use list prices). */
export async function startAiConsoleFixture(cloudPrices: PriceTable = { 'gpt-4o-mini': prices }): Promise<AiConsoleFixture> {
  const [upstream, cloud, local] = await Promise.all([
    startUpstream(),
    startFakeProvider({ type: 'openai-compatible' }),
    startFakeProvider({ type: 'openai-compatible', behaviour: { omitUsage: true } }),
  ])
  const providers = `
providers:
  cloud: { type: openai-compatible, url: "${cloud.url}", prices: ${JSON.stringify(cloudPrices)} }
  local: { type: openai-compatible, url: "${local.url}" }`
  // consoleConfig ends with its route list: the ai route is one more item of it.
  const aiRoute = `  - name: ai
    kind: ai
    match: { path: /v1/* }
    models:
      fast: [ cloud/gpt-4o-mini ]
      smart: [ cloud/gpt-4o ]
      local: [ local/llama3 ]
    policies:
      auth: { methods: [ key ] }
      models: { allow: [ "*" ] }
`
  const gateway = await startTestGateway(consoleConfig(upstream.url, providers) + aiRoute)
  if (!gateway.adminUrl) throw new Error('the fixture gateway has no admin listener')
  let sent = 0
  const chat = async (consumer: string, model: string, content: string) => {
    const requestId = `ai-${consumer}-${Date.now()}-${sent++}`
    const res = await request(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyOf(consumer)}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    })
    await res.body.dump()
    return { status: res.statusCode, requestId }
  }
  return {
    gateway,
    upstream,
    providers: { cloud, local },
    consoleUrl: gateway.adminUrl,
    chat,
    close: async () => {
      await gateway.close(100)
      await Promise.all([upstream.close(), cloud.close(), local.close()])
      await closeAiConnections()
    },
  }
}

/**
 * Days of synthetic AI history for the screenshots: copies of the real calls in `templates` at
 * earlier times, with token counts that follow the hours of a working day and the cost the
 * price table gives them. Returns how many calls it wrote.
 */
export async function seedAiHistory(fixture: AiConsoleFixture, templates: CallRecord[], cloudPrices: PriceTable, days: number): Promise<number> {
  const store = fixture.gateway.store!
  const hour = 3600_000
  const now = Date.now()
  let n = 0
  for (let t = now - days * 24 * hour; t < now - 10 * 60_000; t += 30 * 60_000) {
    const hourOfDay = new Date(t).getHours()
    const office = hourOfDay >= 8 && hourOfDay < 19 ? 1 : 0.25
    templates.forEach((template, i) => {
      const ai = template.ai
      if (!ai) return
      const wave = 0.6 + 0.4 * Math.sin(t / (5 * hour) + i)
      const promptTokens = Math.round((2000 + 1500 * i) * office * wave)
      if (promptTokens < 300) return
      const completionTokens = Math.round(promptTokens * (0.3 + 0.1 * i))
      const price = ai.provider === 'cloud' ? cloudPrices[ai.model] : undefined
      const costUsd = price ? (promptTokens * price.input + completionTokens * price.output) / 1e6 : ai.costUsd
      const record: CallRecord = {
        ...template,
        time: t + i * 7_000,
        requestId: `ai-hist-${n++}`,
        ai: { ...ai, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, costUsd },
      }
      store.append(record)
    })
  }
  await store.flush()
  return n
}
