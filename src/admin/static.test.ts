import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createStaticHandler, defaultConsoleDir, packageRoot } from './static.js'
import { existsSync } from 'node:fs'

async function serve(root: string): Promise<{ url: string; server: Server }> {
  const handler = createStaticHandler(root)
  const server = createServer((req, res) => void handler(req, res, new URL(req.url ?? '/', 'http://x').pathname))
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe('console static files', () => {
  const base = mkdtempSync(join(tmpdir(), 'gatehouse-console-'))
  const root = join(base, 'console')
  let built: { url: string; server: Server }
  let missing: { url: string; server: Server }

  beforeAll(async () => {
    mkdirSync(join(root, 'assets'), { recursive: true })
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Gatehouse</title>')
    writeFileSync(join(root, 'assets', 'app-1234.js'), 'console.log(1)')
    writeFileSync(join(base, 'secret.txt'), 'outside the console')
    built = await serve(root)
    missing = await serve(join(base, 'nope'))
  })
  afterAll(() => {
    built.server.close()
    missing.server.close()
  })

  it('finds the package root from src/ (vitest) and dist/console under it', () => {
    expect(existsSync(join(packageRoot(), 'package.json'))).toBe(true)
    expect(defaultConsoleDir()).toBe(join(packageRoot(), 'dist', 'console'))
  })

  it('serves index.html for SPA paths that accept HTML, with the security headers', async () => {
    for (const path of ['/', '/calls', '/calls/01HXYZ', '/portal', '/portal/apis']) {
      const res = await request(`${built.url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml' } })
      expect(res.statusCode, path).toBe(200)
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(res.headers['content-security-policy']).toBe("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(await res.body.text()).toContain('<title>Gatehouse</title>')
    }
    const head = await request(`${built.url}/calls`, { method: 'HEAD', headers: { accept: 'text/html' } })
    expect(head.statusCode).toBe(200)
    await head.body.dump()
    const notHtml = await request(`${built.url}/calls`, { headers: { accept: 'application/json' } })
    expect(notHtml.statusCode).toBe(404)
    await notHtml.body.dump()
  })

  it('serves /assets/* as immutable and 404s a missing asset instead of sending the page', async () => {
    const res = await request(`${built.url}/assets/app-1234.js`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(await res.body.text()).toBe('console.log(1)')
    const gone = await request(`${built.url}/assets/old-999.js`, { headers: { accept: 'text/html' } })
    expect(gone.statusCode).toBe(404)
    await gone.body.dump()
  })

  it('never leaves the console folder, whatever the encoding of ..', async () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/%00', '/%E0%A4%A']) {
      const res = await request(`${built.url}${path}`, { headers: { accept: 'application/json' } })
      const body = await res.body.text()
      expect(body, path).not.toContain('outside the console')
      expect(res.statusCode, path).toBe(404)
    }
  })

  it('answers 503 problem+json when the console is not built', async () => {
    const res = await request(`${missing.url}/`, { headers: { accept: 'text/html' } })
    expect(res.statusCode).toBe(503)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(await res.body.json()).toMatchObject({ status: 503, detail: 'console not built: run npm run build' })
  })
})
