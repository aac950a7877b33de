import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeAiConnections } from '../src/ai/engine.js'
import { startFakeProvider, type FakeProvider } from '../src/ai/fakes/index.js'
import { startGateway, type Gateway } from '../src/gateway/server.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

/**
 * Budgets kept in memory (no Redis) must not start over when the gateway restarts: the call log
 * holds this month's usage, and the gateway replays it before it serves.
 */
describe('AI budgets across a restart (memory counters, SQLite call log)', () => {
  let provider: FakeProvider
  let first: TestGateway
  let second: Gateway | undefined

  beforeAll(async () => {
    provider = await startFakeProvider({ type: 'openai', key: 'provider-key-0123' })
    first = await startTestGateway(`
providers:
  oai: { type: openai, url: "${provider.url}", key: "env:OAI_KEY", prices: { gpt-4o-mini: { input: 150, output: 600 } } }
consumers:
  - { name: spender, tenant: acme, keys: [ "sha256:${sha('spender-key')}" ] }
  - { name: thrifty, tenant: other, keys: [ "sha256:${sha('thrifty-key')}" ] }
routes:
  - name: ai
    kind: ai
    match: { path: /v1/* }
    policies:
      auth: { methods: [ key ] }
      models: { allow: [ "*" ] }
      budget:
        budgets: [ { per: tenant, period: month, costUsd: 0.001 } ]
        quotas: [ { per: consumer, period: day, tokens: 100000 } ]
`, { env: { OAI_KEY: 'provider-key-0123' } })
  })

  afterAll(async () => {
    await second?.close(100)
    await provider.close()
    await closeAiConnections()
    rmSync(first.dir, { recursive: true, force: true })
  })

  const chat = (gateway: Gateway, key: string) =>
    request(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oai/gpt-4o-mini', messages: [{ role: 'user', content: 'spend a little of the budget please' }] }),
    }).then(async (res) => ({ status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }))

  it('still refuses a spent monthly budget after a restart, and keeps other tenants untouched', async () => {
    // At $150/$600 per 1M tokens, one call costs more than the $0.001 budget.
    expect((await chat(first, 'spender-key')).status).toBe(200)
    const spent = await chat(first, 'spender-key')
    expect(spent.status).toBe(403)
    expect(spent.body.rule).toBe('exhausted')
    expect((await chat(first, 'thrifty-key')).status).toBe(200)
    await first.close(100)

    second = await startGateway({ configFile: first.configFile, listen: '127.0.0.1:0', watch: false, env: { ...process.env, OAI_KEY: 'provider-key-0123' } })
    const after = await chat(second, 'spender-key')
    expect(after.status).toBe(403)
    expect(after.body.rule).toBe('exhausted')
    const budget = after.body.budget as { spentUsd: number; limitUsd: number }
    expect(budget.spentUsd).toBeGreaterThan(budget.limitUsd)
    // The other tenant made one call of the same size before the restart: refused now too, and
    // charged once (the same amount as the spender), not once per start.
    const other = await chat(second, 'thrifty-key')
    expect(other.status).toBe(403)
    expect((other.body.budget as { spentUsd: number }).spentUsd).toBeCloseTo(budget.spentUsd, 9)
  })
})
