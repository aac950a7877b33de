import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { main } from '../src/cli/main.js'
import { createMemoryIo } from '../src/cli/io.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'))
const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const good = join(dir, 'gatehouse.yaml')
writeFileSync(good, `
upstreams: { orders: { targets: [ "http://127.0.0.1:9" ] } }
consumers: [ { name: reader, keys: [ "sha256:${sha('reader-key')}" ], scopes: [ "orders:read" ] } ]
routes:
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies:
      body: { types: [ application/json ] }
      auth: { methods: [ key ] }
      scopes: [ "orders:write" ]
`)
const bad = join(dir, 'bad.yaml')
writeFileSync(bad, `
upstreams: { orders: { targets: [ "not a url" ] } }
routes:
  - name: r
    match: { path: /x }
    upstream: order
    policies: { ip: { allow: [ "300.1.1.1" ] }, waff: {} }
`)

async function run(args: string[]) {
  const io = createMemoryIo({}, dir)
  const code = await main(args, io)
  return { code, out: io.out, err: io.err }
}

describe('gatehouse check', () => {
  it('exits 0 and summarises a good file', async () => {
    const r = await run(['check', '-c', good])
    expect(r.code).toBe(0)
    expect(r.out).toContain('ok (1 routes, 1 upstreams, 1 consumers)')
  })

  it('exits 1 listing every problem as file:line:col key: message', async () => {
    const r = await run(['check', '-c', bad])
    expect(r.code).toBe(1)
    const lines = r.err.trim().split('\n')
    expect(lines).toContain("bad.yaml:2:35 upstreams.orders.targets[0]: expected an http:// or https:// URL")
    expect(lines).toContain("bad.yaml:6:15 routes[0].upstream: unknown upstream 'order'; defined upstreams: orders")
    expect(lines.some((l) => /^bad\.yaml:7:32 routes\[0\]\.policies\.ip\.allow\[0\]: .*300\.1\.1\.1/.test(l))).toBe(true)
    expect(lines.some((l) => l.startsWith("bad.yaml:7:49 routes[0].policies.waff: unknown policy 'waff'"))).toBe(true)
  })

  it('prints JSON with --json', async () => {
    const r = await run(['check', '-c', bad, '--json'])
    const parsed = JSON.parse(r.out) as { ok: boolean; problems: { line: number; path: string }[] }
    expect(parsed.ok).toBe(false)
    expect(parsed.problems.length).toBeGreaterThanOrEqual(4)
  })

  it('exits 1 for a missing file with a clear message', async () => {
    const r = await run(['check', '-c', join(dir, 'nope.yaml')])
    expect(r.code).toBe(1)
    expect(r.err).toContain('file not found')
  })
})

describe('gatehouse explain', () => {
  it('exits 3 and shows the denying layer, the layers not reached and the fix', async () => {
    const r = await run(['explain', '-c', good, '-X', 'POST', 'http://localhost/orders', '-H', 'X-API-Key: reader-key', '-H', 'Content-Type: application/json', '-d', '{}'])
    expect(r.code).toBe(3)
    expect(r.out).toMatch(/authz\s+DENY.*authz\.missing-scope/)
    expect(r.out).toMatch(/upstream\s+not reached/)
    expect(r.out).toContain('fix: ')
    expect(r.out).toContain('see: docs/errors.md#authz-missing-scope')
  })

  it('exits 0 when the request would be allowed, without calling the upstream', async () => {
    writeFileSync(join(dir, 'open.yaml'), `
upstreams: { orders: { targets: [ "http://127.0.0.1:9" ] } }
routes: [ { name: open, match: { path: /open }, upstream: orders } ]
`)
    const r = await run(['explain', '-c', join(dir, 'open.yaml'), 'http://localhost/open'])
    expect(r.code).toBe(0)
    expect(r.out).toContain("would forward to upstream 'orders'")
  })

  it('gives JSON with every layer verdict', async () => {
    const r = await run(['explain', '-c', good, '-X', 'POST', 'http://localhost/orders', '-d', '{}', '-H', 'content-type: application/json', '--json'])
    const parsed = JSON.parse(r.out) as { allowed: boolean; status: number; layers: { layer: string; result: string }[]; problem: { rule: string } }
    expect(parsed.allowed).toBe(false)
    expect(parsed.status).toBe(401)
    expect(parsed.layers.map((l) => `${l.layer}:${l.result}`)).toEqual(['request-id:allow', 'body:allow', 'authn:deny'])
    expect(parsed.problem.rule).toBe('missing-credentials')
  })

  it('exits 2 on bad usage', async () => {
    expect((await run(['explain', '-c', good])).code).toBe(2)
    expect((await run(['explain', '-c', good, '-H', 'nocolon', 'http://x/'])).code).toBe(2)
  })
})

describe('gatehouse start (a real process)', () => {
  let child: ReturnType<typeof spawn> | undefined
  afterAll(() => { child?.kill('SIGKILL') })

  it('refuses a bad config with located problems and exit 1', async () => {
    const r = await run(['start', '-c', bad])
    expect(r.code).toBe(1)
    expect(r.err).toContain("routes[0].upstream: unknown upstream 'order'")
  })

  it('serves, then drains and exits 0 on SIGTERM', async () => {
    const config = join(dir, 'served.yaml')
    writeFileSync(config, `
store: sqlite:./served.db
upstreams: { orders: { targets: [ "http://127.0.0.1:9" ], retries: 0 } }
routes: [ { name: open, match: { path: /open }, upstream: orders } ]
`)
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main-entry.ts', 'start', '-c', config, '--listen', '127.0.0.1:0', '--json'], { cwd: join(__dirname, '..'), env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'silent' } })
    const line = await new Promise<string>((resolve, reject) => {
      let out = ''
      child!.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('\n')) resolve(out) })
      child!.on('exit', (code) => reject(new Error(`exited ${code}`)))
    })
    const { listening } = JSON.parse(line) as { listening: string }
    const res = await request(`${listening}/open`)
    await res.body.dump()
    expect(res.statusCode).toBe(502)
    const exited = new Promise<number | null>((resolve) => child!.on('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
