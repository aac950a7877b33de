import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { ensureConsoleBuilt, launchBrowser } from '../../src/testing/browser.js'
import { startConsoleFixture, seedTraffic, tokens, type ConsoleFixture } from './fixture.js'

// Explicit, short waits: a real gateway on 127.0.0.1 answers in milliseconds.
const wait = { timeout: 5_000 }

describe('web console and developer portal in chromium', () => {
  let fixture: ConsoleFixture
  let browser: Browser
  const contexts: BrowserContext[] = []
  /** Anything the page's Content-Security-Policy blocked: the console must need nothing it forbids. */
  const blocked: string[] = []

  beforeAll(async () => {
    ensureConsoleBuilt()
    ;[fixture, browser] = await Promise.all([startConsoleFixture(), launchBrowser()])
    await seedTraffic(fixture)
  }, 120_000)
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined)
    await browser?.close()
    await fixture?.close()
  })

  afterEach(() => {
    expect(blocked).toEqual([])
  })

  async function open(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport })
    contexts.push(context)
    const page = await context.newPage()
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) blocked.push(message.text())
    })
    await page.goto(`${fixture.consoleUrl}${path}`, wait)
    return page
  }

  async function signIn(path: string, token: string, viewport?: { width: number; height: number }): Promise<Page> {
    const page = await open(path, viewport)
    await page.getByLabel('Admin token').fill(token)
    await page.getByRole('button', { name: 'Sign in' }).click()
    // Attached, not visible: at phone width it sits in the collapsed menu.
    await page.getByTestId('role').waitFor({ ...wait, state: 'attached' })
    return page
  }

  it('a: shows a denied call live, opens its trace and reads the remedy', async () => {
    const page = await signIn('/calls', tokens.admin)
    expect(await page.getByTestId('role').textContent()).toContain('admin')
    await page.getByRole('button', { name: /Live tail off/ }).click()
    await page.getByRole('button', { name: /Live tail on/ }).waitFor(wait)
    const requestId = `browser-denied-${Date.now()}`
    // acme-reader may read orders, not create them: 403 from the scopes check.
    expect(await fixture.call('POST', '/orders', 'acme-reader', requestId)).toBe(403)
    const row = page.locator(`tr[data-request-id="${requestId}"]`)
    await row.waitFor(wait)
    // Newest on top.
    expect(await page.locator('[data-testid="calls-table"] tbody tr').first().getAttribute('data-request-id')).toBe(requestId)
    expect(await row.textContent()).toContain('403')
    await row.getByRole('link').click()
    await page.waitForURL(`**/calls/${requestId}`, wait)
    const remedy = page.getByTestId('remedy')
    await remedy.waitFor(wait)
    expect(await remedy.textContent()).toMatch(/orders:write/)
    expect(await page.getByRole('heading', { name: 'Why it was refused' }).isVisible()).toBe(true)
    // The trace lists the layers in order, the denying one marked.
    const trace = await page.locator('table.trace').textContent()
    expect(trace).toContain('authn')
    expect(trace).toContain('DENY')
  })

  it('b: a consumer requests a subscription in the portal, a tenant admin approves it, the next call passes', async () => {
    expect(await fixture.call('GET', '/orders', 'acme-new')).toBe(403)
    const portal = await open('/portal')
    await portal.getByLabel('API key').fill('acme-new-key')
    await portal.getByRole('button', { name: 'Sign in' }).click()
    const card = portal.locator('[data-api="orders-api"]')
    await card.waitFor(wait)
    await card.getByRole('button', { name: 'Request subscription' }).click()
    await portal.getByText(/is pending/).waitFor(wait)
    await portal.locator('[data-api="orders-api"]', { hasText: 'pending' }).waitFor(wait)

    const console = await signIn('/approvals', tokens.acme)
    expect(await console.getByTestId('role').textContent()).toContain('tenant-admin')
    const item = console.locator('[data-testid="pending-queue"] li', { hasText: 'acme-new' })
    await item.waitFor(wait)
    await item.getByRole('button', { name: 'Approve' }).click()
    await console.getByText(/is now approved/).waitFor(wait)
    expect(await fixture.call('GET', '/orders', 'acme-new')).toBe(200)

    // The tenant admin sees its own tenant only.
    await console.getByRole('link', { name: 'Consumers & keys' }).click()
    await console.locator('tr[data-consumer="acme-new"]').waitFor(wait)
    expect(await console.locator('tr[data-consumer="globex-app"]').count()).toBe(0)

    // The portal shows the new state after a reload.
    await portal.reload(wait)
    await portal.locator('[data-api="orders-api"]', { hasText: 'approved' }).waitFor(wait)
  })

  it('c: creates a key in the console, and the gateway accepts it', async () => {
    const page = await signIn('/consumers', tokens.admin)
    const row = page.locator('tr[data-consumer="acme-app"]')
    await row.waitFor(wait)
    await row.getByRole('button', { name: 'New key' }).click()
    const shown = page.getByTestId('issued-key')
    await shown.waitFor(wait)
    const key = await shown.inputValue()
    expect(key).toMatch(/^gh_[A-Za-z0-9_-]{20,}$/)
    expect(await page.getByTestId('new-key').textContent()).toContain('shown only once')
    expect(await fixture.call('GET', '/orders', key)).toBe(200)
    // Once dismissed it is gone from the page: only its fingerprint stays.
    await page.getByRole('button', { name: 'I have stored it' }).click()
    expect(await page.content()).not.toContain(key)
  })

  it('config import: a dry run lists errors by line, and a valid file reports what would change', async () => {
    const page = await signIn('/config', tokens.admin)
    const yaml = page.getByLabel('YAML', { exact: true })
    await yaml.fill('routes:\n  - name: broken\n    match: { path: 12 }\n    upstream: nowhere\n')
    await page.getByRole('button', { name: 'Dry run' }).click()
    const errors = page.getByTestId('import-errors')
    await errors.waitFor(wait)
    const text = await errors.textContent()
    expect(text).toContain('line 3')
    expect(text).toContain('routes[0].match.path')
    expect(await page.getByRole('button', { name: 'Apply' }).isDisabled()).toBe(true)
    await yaml.fill('upstreams:\n  orders: { targets: [ "http://127.0.0.1:9" ] }\n')
    await page.getByRole('button', { name: 'Dry run' }).click()
    await page.getByTestId('import-result').waitFor(wait)
    expect(await page.getByTestId('import-result').textContent()).toContain('1 changed')
    // A dry run changes nothing.
    expect(fixture.gateway.runtime().upstreams.get('orders')?.health()[0]?.origin).toBe(new URL(fixture.upstream.url).origin)
  })

  it('d: a viewer sees no write controls, and a forced write shows the 403', async () => {
    const page = await signIn('/consumers', tokens.viewer)
    expect(await page.getByTestId('role').textContent()).toContain('viewer')
    await page.locator('tr[data-consumer="acme-app"]').waitFor(wait)
    for (const name of ['New consumer', 'New key', /^Revoke/]) expect(await page.getByRole(name === 'New consumer' ? 'link' : 'button', { name }).count()).toBe(0)
    await page.getByRole('link', { name: 'Approvals' }).click()
    await page.getByRole('heading', { name: 'All subscriptions' }).waitFor(wait)
    await page.locator('table').first().waitFor(wait)
    expect(await page.getByRole('button', { name: /Approve|Reject|Revoke/ }).count()).toBe(0)
    await page.getByRole('link', { name: 'Routes & upstreams' }).click()
    await page.locator('[data-route="orders-list"]').waitFor(wait)
    expect(await page.getByRole('button', { name: /New route|Edit|Delete/ }).count()).toBe(0)

    // Forced: the create form by its URL, submitted anyway.
    await page.goto(`${fixture.consoleUrl}/consumers/new`, wait)
    await page.getByLabel('Name').fill('sneaky-app')
    await page.getByRole('button', { name: 'Create consumer' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor(wait)
    const text = await alert.textContent()
    expect(text).toContain('403')
    expect(text).toContain('Not permitted')
    expect(fixture.gateway.runtime().consumers.some((c) => c.name === 'sneaky-app')).toBe(false)
  })

  it('e: at phone width the dashboard and the call page do not overflow horizontally', async () => {
    const phone = { width: 390, height: 844 }
    const page = await signIn('/', tokens.admin, phone)
    await page.getByRole('heading', { name: 'Denials over time by layer' }).waitFor(wait)
    await page.locator('.recharts-surface').first().waitFor(wait)
    const width = () => page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>
    expect(await width()).toBeLessThanOrEqual(phone.width + 1)
    // The nav is collapsed behind a menu button.
    expect(await page.getByRole('link', { name: 'Calls' }).isVisible()).toBe(false)
    await page.getByRole('button', { name: /Menu/ }).click()
    await page.getByRole('link', { name: 'Calls' }).click()
    const first = page.locator('[data-testid="calls-table"] tbody tr').first()
    await first.waitFor(wait)
    expect(await width()).toBeLessThanOrEqual(phone.width + 1)
    await first.getByRole('link').click()
    await page.getByRole('heading', { name: 'Decision trace' }).waitFor(wait)
    expect(await width()).toBeLessThanOrEqual(phone.width + 1)
  })
})
