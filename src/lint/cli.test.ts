import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { lintCommand } from '../cli/commands/lint.js'
import { UsageError } from '../cli/args.js'
import { createMemoryIo } from '../cli/io.js'
import { detectFormat } from './detect.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

async function run(args: string[]) {
  const io = createMemoryIo({}, fixtures)
  const code = await lintCommand.run(args, io)
  return { code, out: io.out, err: io.err }
}

describe('gatehouse lint (CLI)', () => {
  it('prints the verdict line, findings and the summary, and exits 1 when denied', async () => {
    const { code, out } = await run(['nginx/nginx.conf', '--method', 'GET', '--path', '/admin/users', '--ip', '10.0.0.5', '--host', 'shop.example.com'])
    expect(code).toBe(0)
    expect(out.split('\n')[0]).toMatch(/^ALLOWED GET \/admin\/users from 10\.0\.0\.5: /)
    const denied = await run(['nginx/nginx.conf', '--path', '/admin/users', '--ip', '192.0.2.5', '--header', 'Host: shop.example.com'])
    expect(denied.code).toBe(1)
    expect(denied.out).toBe([
      "DENIED 403 by nginx/nginx.conf:54 'deny all;' in location /admin/: client 192.0.2.5 is not in any allow",
      '  via server shop.example.com (nginx/nginx.conf:32) > location /admin/ (nginx/nginx.conf:51)',
      '0 problems (0 errors, 0 warnings)',
      '',
    ].join('\n'))
    expect(denied.err).toBe('')
  })

  it('accepts a full URL as --path (host and scheme come from it)', async () => {
    const { code, out } = await run(['iis/web.config', '--path', 'https://site.example/admin/', '--ip', '10.0.0.8'])
    expect(code).toBe(0)
    expect(out).toMatch(/^ALLOWED GET \/admin\/ from 10\.0\.0\.8/)
    const plain = await run(['iis/web.config', '--path', 'http://site.example/admin/', '--ip', '10.0.0.8'])
    expect(plain.out).toMatch(/^DENIED 403\.4 /)
  })

  it('says on stderr which client address it assumed when --ip is missing', async () => {
    const { err } = await run(['nginx/nginx.conf', '--path', '/'])
    expect(err).toContain('assuming client 203.0.113.10')
  })

  it('lists risky rules as file:line:col severity message rule-id without a request', async () => {
    const { code, out } = await run(['nginx-risky/nginx.conf'])
    expect(code).toBe(1)
    const lines = out.trimEnd().split('\n')
    expect(lines[1]).toMatch(/^nginx-risky\/nginx\.conf:14:13 error 'allow 192\.168\.0\.0\/16;' in location \/status is never reached: .* nginx\.access-rule-unreachable$/)
    expect(lines[lines.length - 1]).toBe('4 problems (1 error, 3 warnings)')
  })

  it('exits 0 when only warnings are found', async () => {
    const { code, out } = await run(['iis/web.config'])
    expect(code).toBe(0)
    expect(out.trimEnd().split('\n').pop()).toBe('3 problems (0 errors, 3 warnings)')
  })

  it('--json prints exactly the SPEC §3 shape', async () => {
    const { code, out } = await run(['apache/httpd.conf', '--json', '--path', '/members/', '-X', 'GET'])
    expect(code).toBe(1)
    const json = JSON.parse(out)
    expect(Object.keys(json).sort()).toEqual(['denied', 'directive', 'file', 'findings', 'line', 'status', 'why'])
    expect(json).toMatchObject({ denied: true, file: 'apache/httpd.conf', line: 27, directive: 'Require valid-user', status: 401 })
    expect(json.why).toContain('no credentials')
    const risky = JSON.parse((await run(['nginx-risky/nginx.conf', '--json'])).out)
    expect(risky).toMatchObject({ denied: false, line: null, directive: null, status: null })
    expect(risky.findings[1]).toEqual({ line: 14, severity: 'error', message: expect.stringContaining('never reached'), rule: 'nginx.access-rule-unreachable' })
    expect(Object.keys(risky.findings[0]).sort()).toEqual(['line', 'message', 'rule', 'severity'])
  })

  it('--json for an allowed request has line null', async () => {
    const json = JSON.parse((await run(['htaccess/.htaccess', '--path', '/blog/post', '--ip', '192.0.2.1', '--json'])).out)
    expect(json).toMatchObject({ denied: false, line: null, status: null, findings: [] })
  })

  it('names findings in included files in JSON messages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-lint-'))
    writeFileSync(join(dir, 'nginx.conf'), 'http {\n  include extra.conf;\n}\n')
    writeFileSync(join(dir, 'extra.conf'), 'server {\n  location / {\n    deny all;\n    allow 10.0.0.0/8;\n  }\n}\n')
    const io = createMemoryIo({}, dir)
    expect(await lintCommand.run(['nginx.conf', '--json'], io)).toBe(1)
    expect(JSON.parse(io.out).findings[0]).toMatchObject({ line: 4, message: expect.stringMatching(/^extra\.conf: /) })
  })

  it('--format overrides detection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-lint-'))
    writeFileSync(join(dir, 'site.txt'), 'KeepAlive On\n')
    const unknown = createMemoryIo({}, dir)
    expect(await lintCommand.run(['site.txt'], unknown)).toBe(2)
    expect(unknown.err).toContain('--format')
    const io = createMemoryIo({}, dir)
    expect(await lintCommand.run(['site.txt', '--format', 'apache', '--path', '/x'], io)).toBe(0)
    expect(io.out).toMatch(/^ALLOWED GET \/x from /)
  })

  it('exits 2 for a missing file and throws UsageError for bad flags', async () => {
    const missing = await run(['nope.conf'])
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(/cannot read nope\.conf/)
    await expect(run([])).rejects.toBeInstanceOf(UsageError)
    await expect(run(['nginx/nginx.conf', '--ip', 'not-an-ip'])).rejects.toBeInstanceOf(UsageError)
    await expect(run(['nginx/nginx.conf', '--format', 'caddy'])).rejects.toBeInstanceOf(UsageError)
    await expect(run(['nginx/nginx.conf', '--header', 'no-colon'])).rejects.toBeInstanceOf(UsageError)
  })

  it('colours only when io.color is set', async () => {
    const io = createMemoryIo({}, fixtures)
    io.color = true
    await lintCommand.run(['nginx-risky/nginx.conf'], io)
    expect(io.out).toContain('\x1b[31merror\x1b[0m')
    expect((await run(['nginx-risky/nginx.conf'])).out).not.toContain('\x1b[')
  })
})

describe('format detection', () => {
  it.each([
    ['/etc/nginx/nginx.conf', '', 'nginx'],
    ['site.conf', 'server {\n listen 80;\n}\n', 'nginx'],
    ['public/.htaccess', '', 'apache'],
    ['apache2.conf', '', 'apache'],
    ['vhost.conf', '<VirtualHost *:80>\n</VirtualHost>\n', 'apache'],
    ['web.config', '', 'iis'],
    ['app.xml', '<?xml version="1.0"?>\n<configuration></configuration>', 'iis'],
    ['notes.txt', 'hello', null],
  ])('%s is %s', (file, text, format) => {
    expect(detectFormat(file, text)).toBe(format)
  })

  it('stays linear on hostile content', () => {
    const start = performance.now()
    for (const text of ['server' + ' '.repeat(200_000), '\n'.repeat(200_000), '<!--a-->'.repeat(20_000), 'location '.repeat(30_000)]) {
      expect(detectFormat('x.txt', text)).toBeNull()
    }
    expect(performance.now() - start).toBeLessThan(2000)
  })
})

describe('byte order marks', () => {
  it('ignores a UTF-8 BOM at the start of nginx and Apache files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-lint-'))
    writeFileSync(join(dir, 'nginx.conf'), '\ufeffhttp {\n  server {\n    location / { deny all; }\n  }\n}\n')
    writeFileSync(join(dir, '.htaccess'), '\ufeff<Files "x">\n  Require all denied\n</Files>\n')
    const a = createMemoryIo({}, dir)
    expect(await lintCommand.run(['nginx.conf', '--path', '/', '--ip', '192.0.2.1'], a)).toBe(1)
    expect(a.out).toContain("DENIED 403 by nginx.conf:3 'deny all;'")
    const b = createMemoryIo({}, dir)
    expect(await lintCommand.run(['.htaccess', '--path', '/x', '--ip', '192.0.2.1'], b)).toBe(1)
    expect(b.out).toContain('DENIED 403 by .htaccess:2')
  })
})
