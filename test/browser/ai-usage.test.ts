import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { ensureConsoleBuilt, launchBrowser } from '../../src/testing/browser.js'
import { prices, startAiConsoleFixture, type AiConsoleFixture } from './ai-fixture.js'
import { tokens } from './fixture.js'

const wait = { timeout: 5_000 }

interface Sums { calls: number; failed: number; promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number; estimated: number }
interface Report { totals: Sums; groups: (Sums & { key: string | null })[] }

/** The console's way of writing numbers and dollars (console/src/pages/ai-facts.tsx), for comparing text. */
const number = (n: number) => n.toLocaleString('en-US')
const usd = (n: number) => {
  const digits = n === 0 || Math.abs(n) >= 1 ? 2 : Math.abs(n) >= 0.01 ? 4 : 6
  return n.toLocaleString('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: digits })
}

describe('AI usage in the web console', () => {
  let fixture: AiConsoleFixture
  let browser: Browser
  const contexts: BrowserContext[] = []
  const blocked: string[] = []
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    ensureConsoleBuilt()
    ;[fixture, browser] = await Promise.all([startAiConsoleFixture(), launchBrowser()])
    // Two priced calls by acme-app, one unpriced call by globex-app whose tokens the gateway counts.
    const first = await fixture.chat('acme-app', 'fast', 'Summarise the order book for today')
    const second = await fixture.chat('acme-app', 'fast', 'And for yesterday please')
    const third = await fixture.chat('globex-app', 'local', 'Hello from globex')
    for (const r of [first, second, third]) expect(r.status).toBe(200)
    ids.acme = first.requestId
    ids.globex = third.requestId
    await fixture.gateway.store!.flush()
    // And one from three days ago: inside the last 7 days, outside the last 24 hours.
    const copy = (await fixture.gateway.store!.get(first.requestId))!
    fixture.gateway.store!.append({ ...copy, requestId: 'ai-three-days-ago', time: Date.now() - 3 * 86_400_000 })
    await fixture.gateway.store!.flush()
  }, 120_000)
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined)
    await browser?.close()
    await fixture?.close()
  })
  afterEach(() => {
    expect(blocked).toEqual([])
  })

  async function signIn(path: string, token: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport })
    contexts.push(context)
    const page = await context.newPage()
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) blocked.push(message.text())
    })
    await page.goto(`${fixture.consoleUrl}${path}`, wait)
    await page.getByLabel('Admin token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByTestId('role').waitFor({ ...wait, state: 'attached' })
    return page
  }

  async function report(by: string, token: string = tokens.admin, since = '7d'): Promise<Report> {
    const res = await request(`${fixture.consoleUrl}/api/analytics/ai?since=${since}&bucket=1h&by=${by}`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.statusCode).toBe(200)
    return (await res.body.json()) as Report
  }

  /** The cells of a usage table's row, by column. */
  async function rowOf(page: Page, by: string, key: string): Promise<Record<string, string>> {
    const row = page.locator(`[data-testid="ai-by-${by}"] tr[data-key="${key}"]`)
    await row.waitFor(wait)
    const cells: Record<string, string> = {}
    for (const col of ['calls', 'prompt', 'completion', 'total', 'cost', 'estimated']) cells[col] = ((await row.locator(`td[data-col="${col}"]`).textContent()) ?? '').trim()
    return cells
  }

  it('shows totals and per-consumer, per-tenant and per-model tokens and cost as the admin API reports them', async () => {
    const byConsumer = await report('consumer')
    // The figures come from the providers: acme-app's calls are priced, globex-app's are counted by the gateway.
    expect(byConsumer.totals.calls).toBe(4)
    expect(byConsumer.totals.estimated).toBe(1)
    const acme = byConsumer.groups.find((g) => g.key === 'acme-app')!
    const globex = byConsumer.groups.find((g) => g.key === 'globex-app')!
    expect(acme.calls).toBe(3)
    expect(acme.totalTokens).toBeGreaterThan(0)
    expect(acme.costUsd).toBeCloseTo((acme.promptTokens * prices.input + acme.completionTokens * prices.output) / 1e6, 9)
    expect(globex.totalTokens).toBeGreaterThan(0)
    expect(globex.costUsd).toBe(0)

    const page = await signIn('/ai', tokens.admin)
    await page.getByRole('heading', { name: 'AI usage', level: 1 }).waitFor(wait)
    // Default period: the last 7 days.
    expect(await page.getByLabel('Period').inputValue()).toBe('7d')
    const totals = page.getByTestId('ai-totals')
    await totals.waitFor(wait)
    expect(await totals.locator('[data-kpi="calls"]').textContent()).toBe('4')
    expect(await totals.locator('[data-kpi="prompt"]').textContent()).toBe(number(byConsumer.totals.promptTokens))
    expect(await totals.locator('[data-kpi="completion"]').textContent()).toBe(number(byConsumer.totals.completionTokens))
    expect(await totals.locator('[data-kpi="cost"]').textContent()).toBe(usd(byConsumer.totals.costUsd))
    expect(await totals.locator('[data-kpi="estimated"]').textContent()).toBe('25.0%')

    for (const group of [acme, globex]) {
      const cells = await rowOf(page, 'consumer', group.key!)
      expect(cells).toEqual({
        calls: number(group.calls),
        prompt: number(group.promptTokens),
        completion: number(group.completionTokens),
        total: number(group.totalTokens),
        cost: usd(group.costUsd),
        estimated: group.key === 'globex-app' ? '100%' : '0%',
      })
    }
    // Most expensive first, as the report sorts them.
    expect(await page.locator('[data-testid="ai-by-consumer"] tbody tr').first().getAttribute('data-key')).toBe('acme-app')

    const byTenant = await report('tenant')
    for (const group of byTenant.groups) {
      const cells = await rowOf(page, 'tenant', group.key!)
      expect([cells.total, cells.cost]).toEqual([number(group.totalTokens), usd(group.costUsd)])
    }
    expect(byTenant.groups.map((g) => g.key).sort()).toEqual(['acme', 'globex'])
    const byModel = await report('model')
    expect(byModel.groups.map((g) => g.key).sort()).toEqual(['cloud/gpt-4o-mini', 'local/llama3'])
    for (const group of byModel.groups) {
      const cells = await rowOf(page, 'model', group.key!)
      expect([cells.calls, cells.total, cells.cost]).toEqual([number(group.calls), number(group.totalTokens), usd(group.costUsd)])
    }

    // Both charts are drawn, stacked by model; switching stacks them by consumer.
    await page.locator('#ai-tokens-title').waitFor(wait)
    expect(await page.locator('.recharts-surface').count()).toBeGreaterThanOrEqual(2)
    expect(await page.locator('[aria-labelledby="ai-tokens-title"] .recharts-legend-wrapper').textContent()).toContain('cloud/gpt-4o-mini')
    await page.getByRole('button', { name: 'By consumer' }).click()
    await page.getByRole('heading', { name: 'Tokens by consumer' }).waitFor(wait)
    expect(await page.locator('[aria-labelledby="ai-tokens-title"] .recharts-legend-wrapper').textContent()).toContain('globex-app')

    // The last 24 hours leave out the call of three days ago.
    const asked = page.waitForResponse((r) => r.url().includes('/api/analytics/ai?since=24h') && r.url().includes('by=consumer'), wait)
    await page.getByLabel('Period').selectOption('24h')
    await asked
    await page.getByText('Refreshing…').waitFor({ ...wait, state: 'detached' })
    const today = await report('consumer', tokens.admin, '24h')
    expect(today.totals.calls).toBe(3)
    expect(await totals.locator('[data-kpi="calls"]').textContent()).toBe('3')
    expect(await totals.locator('[data-kpi="cost"]').textContent()).toBe(usd(today.totals.costUsd))
    expect((await rowOf(page, 'consumer', 'acme-app')).calls).toBe('2')
  })

  it('a tenant admin sees only its tenant', async () => {
    const own = await report('consumer', tokens.acme)
    expect(own.groups.map((g) => g.key)).toEqual(['acme-app'])
    const page = await signIn('/ai', tokens.acme)
    await rowOf(page, 'consumer', 'acme-app')
    expect(await page.locator('[data-testid="ai-by-consumer"] tr[data-key="globex-app"]').count()).toBe(0)
    expect(await page.getByTestId('ai-totals').locator('[data-kpi="calls"]').textContent()).toBe('3')
  })

  it('an AI call shows its model, tokens, cost and first byte in the call list and on its page', async () => {
    const res = await request(`${fixture.consoleUrl}/api/calls/${ids.acme}`, { headers: { authorization: `Bearer ${tokens.admin}` } })
    const { call } = (await res.body.json()) as { call: { ai: { promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number; firstByteMs: number } } }

    const page = await signIn('/calls?route=ai', tokens.admin)
    const row = page.locator(`tr[data-request-id="${ids.acme}"]`)
    await row.waitFor(wait)
    expect(await row.getByTestId('ai-inline').textContent()).toContain(`cloud/gpt-4o-mini ${number(call.ai.promptTokens)} in / ${number(call.ai.completionTokens)} out tok · ${usd(call.ai.costUsd)}`)
    // Tokens the gateway counted are marked '~'.
    expect(await page.locator(`tr[data-request-id="${ids.globex}"]`).getByTestId('ai-inline').textContent()).toContain('local/llama3 ~')

    await row.getByRole('link').click()
    await page.waitForURL(`**/calls/${ids.acme}`, wait)
    const facts = page.getByTestId('ai-facts')
    await facts.waitFor(wait)
    const text = (await facts.textContent()) ?? ''
    expect(text).toContain('cloud/gpt-4o-mini')
    expect(text).toContain('(asked for fast)')
    expect(text).toContain(`${number(call.ai.promptTokens)} / ${number(call.ai.completionTokens)} (${number(call.ai.totalTokens)} in all)`)
    expect(text).toContain(usd(call.ai.costUsd))
    expect(text).toContain('Counted bythe provider')
    expect(call.ai.firstByteMs).toBeGreaterThanOrEqual(0)
    expect(text).toContain('First byte to the client')

    await page.goto(`${fixture.consoleUrl}/calls/${ids.globex}`, wait)
    await facts.waitFor(wait)
    const counted = (await facts.textContent()) ?? ''
    expect(counted).toContain('local/llama3')
    expect(counted).toContain('the gateway (the provider reported no usage)')
    expect(counted).toContain('no price for this model')
  })

  it('fits a phone: 390 px wide without sideways scrolling', async () => {
    const page = await signIn('/ai', tokens.admin, { width: 390, height: 844 })
    await rowOf(page, 'consumer', 'acme-app')
    await page.locator('.recharts-surface').first().waitFor(wait)
    const width = (await page.evaluate('document.scrollingElement.scrollWidth')) as number
    expect(width).toBeLessThanOrEqual(390)
    // The navigation reaches the page from the collapsed menu.
    await page.getByRole('button', { name: /Menu/ }).click()
    expect(await page.getByRole('link', { name: 'AI usage' }).isVisible()).toBe(true)
  })
})
