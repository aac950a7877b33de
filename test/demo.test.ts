import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))

/**
 * What a newcomer gets from `npm start`: the demo command, as a real process, with the curl lines
 * it prints doing what they say — proxy, 401/403, the AI route, the console and the portal flow.
 */
describe('the demo (npm start)', () => {
  let child: ChildProcess
  let dir: string
  let out = ''
  let gatewayUrl = ''
  let adminUrl = ''

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'))
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main-entry.ts', 'demo', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--upstream-port', '0'], {
      cwd: repoRoot,
      env: { ...process.env, GATEHOUSE_STORE: `sqlite:${join(dir, 'demo.db')}`, GATEHOUSE_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.stderr!.on('data', (chunk: Buffer) => { out += chunk.toString() })
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`the demo did not start:\n${out}`)), 30_000)
      const check = setInterval(() => {
        if (!out.includes('Ctrl-C stops it.')) return
        clearInterval(check)
        clearTimeout(timer)
        ok()
      }, 50)
    })
    gatewayUrl = /gateway on (http:\/\/[^,\s]+)/.exec(out)![1]
    adminUrl = /web console: (http:\/\/[^/\s]+)\//.exec(out)![1]
  }, 40_000)

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  const call = async (path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; base?: string } = {}) => {
    const res = await request(`${init.base ?? gatewayUrl}${path}`, { method: init.method ?? 'GET', headers: init.headers, body: init.body })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> }
  }

  it('prints the console, the portal and the curl lines to try', () => {
    expect(out).toContain(`${adminUrl}/portal`)
    expect(out).toContain('demo-admin-token-change-me')
    expect(out).toContain('/v1/chat/completions')
  })

  it('answers the printed orders calls: 200, 401, 403, and the upstream\'s own 403', async () => {
    expect((await call('/orders', { headers: { 'x-api-key': 'demo-key-acme' } })).status).toBe(200)
    expect((await call('/orders')).status).toBe(401)
    const refused = await call('/orders', { method: 'POST', headers: { 'x-api-key': 'demo-key-reader', 'content-type': 'application/json' }, body: '{"sku":"tea-001"}' })
    expect(refused.status).toBe(403)
    expect(refused.headers['gatehouse-decision']).toBe('authz;rule=missing-scope')
    const upstream = await call('/admin/users')
    expect(upstream.status).toBe(403)
    expect(upstream.headers['gatehouse-decision']).toBe('upstream')
  })

  it('chats through the AI route, and refuses a model the consumer may not use', async () => {
    const body = JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'Hello' }] })
    const chat = await call('/v1/chat/completions', { method: 'POST', headers: { authorization: 'Bearer demo-key-acme', 'content-type': 'application/json' }, body })
    expect(chat.status).toBe(200)
    expect(String((chat.json().choices as { message: { content: string } }[])[0].message.content)).toContain('demo model')
    const refused = await call('/v1/chat/completions', { method: 'POST', headers: { authorization: 'Bearer demo-key-reader', 'content-type': 'application/json' }, body })
    expect(refused.status).toBe(403)
    expect(refused.json().rule).toBe('model-not-allowed')
  })

  it('serves the console, and the portal flow turns the reports 403 into a 200', async () => {
    const page = await call('/', { base: adminUrl, headers: { accept: 'text/html' } })
    expect(page.status).toBe(200)
    expect(page.text).toContain('<div id="root">')

    expect((await call('/reports', { headers: { 'x-api-key': 'demo-key-reader' } })).status).toBe(403)
    const requested = await call('/portal/api/subscriptions', { base: adminUrl, method: 'POST', headers: { 'x-api-key': 'demo-key-reader', 'content-type': 'application/json' }, body: '{"api":"reports-api"}' })
    expect([200, 201]).toContain(requested.status)
    const id = (requested.json().subscription as { id: string }).id
    const approved = await call(`/api/subscriptions/${encodeURIComponent(id)}/approve`, { base: adminUrl, method: 'POST', headers: { authorization: 'Bearer demo-acme-admin-token' } })
    expect(approved.status).toBe(200)
    expect((await call('/reports', { headers: { 'x-api-key': 'demo-key-reader' } })).status).toBe(200)
    // The viewer token reads but cannot approve.
    expect((await call('/api/subscriptions', { base: adminUrl, headers: { authorization: 'Bearer demo-viewer-token-read-only' } })).status).toBe(200)
    expect((await call(`/api/subscriptions/${encodeURIComponent(id)}/revoke`, { base: adminUrl, method: 'POST', headers: { authorization: 'Bearer demo-viewer-token-read-only' } })).status).toBe(403)
  })
})
