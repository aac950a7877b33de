/**
 * Writes docs/screenshots/*.png from a seeded gateway: `npx tsx test/browser/screenshots.ts`
 * (or only some: `npx tsx test/browser/screenshots.ts dashboard routes`).
 * The call log gets two days of synthetic history (copies of real calls at earlier times) so
 * the dashboard has a shape; everything else is what the real gateway answers.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import type { Page } from 'playwright-core'
import { ensureConsoleBuilt, launchBrowser, packageRoot } from '../../src/testing/browser.js'
import type { CallRecord } from '../../src/store/types.js'
import { keyOf, seedTraffic, startConsoleFixture, tokens } from './fixture.js'
import { seedAiHistory, startAiConsoleFixture } from './ai-fixture.js'

const out = join(packageRoot(), 'docs', 'screenshots')
mkdirSync(out, { recursive: true })
ensureConsoleBuilt()

// Spike alerts on, checked only when this script asks (checkIntervalSeconds is long).
const fixture = await startConsoleFixture('\nalerts: { windowSeconds: 300, baselineWindows: 12, checkIntervalSeconds: 3600, minDenials: 10 }')
const browser = await launchBrowser()
try {
  await seedTraffic(fixture)
  const store = fixture.gateway.store!
  const templates = await store.query({ limit: 200 })
  const denied = templates.filter((c) => c.status >= 400)
  const allowed = templates.filter((c) => c.status < 400)
  // A day with a busy spell of denials and a quieter day before.
  const hour = 3600_000
  const now = Date.now()
  let n = 0
  for (let t = now - 48 * hour; t < now - 60_000; t += 4 * 60_000) {
    const hoursAgo = (now - t) / hour
    const busy = 6 + Math.round(4 * Math.sin(hoursAgo / 3))
    const spike = hoursAgo > 5 && hoursAgo < 8 ? 6 : 0
    for (let i = 0; i < busy; i++) {
      const template = allowed[(n + i) % allowed.length]
      store.append({ ...template, time: t + i * 1000, requestId: `hist-${n++}` })
    }
    // The last hour is calm, so the burst below stands out against its baseline as a spike.
    const denials = hoursAgo < 1.2 ? 0 : (hoursAgo > 24 ? 1 : 2) + spike + (n % 3)
    for (let i = 0; i < denials; i++) {
      const template = denied[(n + i * 7) % denied.length]
      const record: CallRecord = { ...template, time: t + 30_000 + i * 1000, requestId: `hist-${n++}` }
      store.append(record)
    }
  }
  await store.flush()
  // A pending request for the approval queue.
  const res = await request(`${fixture.consoleUrl}/portal/api/subscriptions`, { method: 'POST', headers: { 'x-api-key': keyOf('acme-new'), 'content-type': 'application/json' }, body: JSON.stringify({ api: 'orders-api' }) })
  await res.body.dump()
  const only = process.argv.slice(2)
  const shoot = async (name: string, path: string, options: { token?: string; key?: string; width?: number; height?: number; ready: (page: Page) => Promise<unknown>; fullPage?: boolean; base?: string }) => {
    if (only.length > 0 && !only.includes(name)) return
    const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 860 }, deviceScaleFactor: 1 })
    // Signed in the way the sign-in forms leave it (a string: this file is not compiled with DOM types).
    const seed = [options.token ? `sessionStorage.setItem('gatehouse.adminToken', ${JSON.stringify(options.token)})` : '', options.key ? `sessionStorage.setItem('gatehouse.portalKey', ${JSON.stringify(options.key)})` : '']
    await context.addInitScript({ content: seed.join(';') })
    const page = await context.newPage()
    await page.goto(`${options.base ?? fixture.consoleUrl}${path}`)
    await options.ready(page)
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: options.fullPage ?? true })
    await context.close()
    console.log(`wrote docs/screenshots/${name}.png`)
  }

  // The call lists before the burst below, so they show the mix of denials.
  await shoot('calls', '/calls?denied=true', { token: tokens.admin, ready: (p) => p.locator('[data-testid="calls-table"]').waitFor(), fullPage: false })
  await shoot('portal-calls', '/portal/calls', { key: keyOf('acme-reader'), ready: (p) => p.locator('table.portal-calls').waitFor(), fullPage: false })

  // A burst of scope denials in the current window, then one spike check.
  for (let i = 0; i < 40; i++) await fixture.call('POST', '/orders', 'acme-reader')
  await store.flush()
  const raised = await fixture.gateway.denialAlerts?.check()
  console.log(`spike alerts raised: ${raised?.length ?? 0}`)
  const deniedId = `scope-${Date.now()}`
  await fixture.call('POST', '/orders', 'acme-reader', deniedId)
  await store.flush()


  const charts = (page: Page) => page.locator('.recharts-surface').first().waitFor()
  await shoot('dashboard', '/', { token: tokens.admin, ready: charts })
  await shoot('phone-call-trace', `/calls/${deniedId}`, { token: tokens.admin, width: 390, height: 844, ready: (p) => p.getByTestId('remedy').waitFor() })
  await shoot('call-trace', `/calls/${deniedId}`, { token: tokens.admin, ready: (p) => p.getByTestId('remedy').waitFor() })
  await shoot('approvals', '/approvals', { token: tokens.acme, ready: (p) => p.locator('[data-testid="pending-queue"]').waitFor() })
  await shoot('consumers', '/consumers', { token: tokens.admin, ready: async (p) => {
    await p.locator('tr[data-consumer="acme-app"]').getByRole('button', { name: 'New key' }).click()
    await p.getByTestId('issued-key').waitFor()
  } })
  await shoot('routes', '/routes', { token: tokens.admin, ready: (p) => p.locator('[data-route="orders-list"]').waitFor() })
  await shoot('portal', '/portal', { key: keyOf('acme-reader'), ready: (p) => p.locator('[data-api="orders-api"]').waitFor() })
  await shoot('portal-openapi', '/portal/apis/orders-api', { key: keyOf('acme-reader'), ready: (p) => p.getByRole('heading', { name: 'Operations' }).waitFor() })
  await shoot('phone-dashboard', '/', { token: tokens.admin, width: 390, height: 844, ready: charts })

  // AI usage: a second gateway with an ai route and two fake providers (list prices), a few
  // real calls, then 30 days of synthetic history copied from them.
  if (only.length === 0 || only.includes('ai-usage')) {
    const listPrices = { 'gpt-4o-mini': { input: 0.15, output: 0.6 }, 'gpt-4o': { input: 2.5, output: 10 } }
    const ai = await startAiConsoleFixture(listPrices)
    try {
      const sent = [
        await ai.chat('acme-app', 'smart', 'Draft a reply to the customer about the late delivery'),
        await ai.chat('acme-app', 'fast', 'Classify this order note'),
        await ai.chat('acme-reader', 'fast', 'Summarise last week of orders'),
        await ai.chat('globex-app', 'local', 'Translate the invoice header'),
        await ai.chat('globex-app', 'fast', 'Extract the address'),
      ]
      await ai.gateway.store!.flush()
      const templates = (await Promise.all(sent.map((r) => ai.gateway.store!.get(r.requestId)))).filter((c): c is CallRecord => c !== null && c.ai !== undefined)
      const written = await seedAiHistory(ai, templates, listPrices, 30)
      console.log(`ai history: ${written} calls from ${templates.length} real ones`)
      await shoot('ai-usage', '/ai', { base: ai.consoleUrl, token: tokens.admin, ready: (p) => p.locator('[data-testid="ai-by-consumer"]').waitFor().then(() => p.locator('.recharts-surface').first().waitFor()) })
    } finally {
      await ai.close()
    }
  }
} finally {
  await browser.close()
  await fixture.close()
}
