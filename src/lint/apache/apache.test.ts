import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { lintConfig } from '../lint.js'
import { createLintRequest } from '../request.js'
import type { LintRequest } from '../types.js'
import { evaluateApache } from './evaluate.js'
import { parseApacheText } from './parse.js'
import { findRiskyApacheRules } from './risky.js'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
type RequestInput = Parameters<typeof createLintRequest>[0]

const htaccess = (text: string, req: LintRequest) => evaluateApache(parseApacheText(text, '.htaccess', true, '/var/www/site'), req).verdict
const server = (text: string, req: LintRequest) => evaluateApache(parseApacheText(text, 'httpd.conf', false, '/etc/httpd'), req).verdict

describe('apache parser', () => {
  it('keeps line numbers through continuations, comments and nested sections', () => {
    const config = parseApacheText('# c\n<Directory "/a b">\n  Require ip 10.0.0.0/8 \\\n     192.168.0.0/16\n  <Files x>\n    Require all denied\n  </Files>\n</Directory>\n', 'h.conf')
    const dir = config.nodes[0]
    expect(dir).toMatchObject({ name: 'Directory', args: ['/a b'], line: 2, col: 1 })
    expect(dir.children?.[0]).toMatchObject({ name: 'Require', args: ['ip', '10.0.0.0/8', '192.168.0.0/16'], line: 3, col: 3 })
    expect(dir.children?.[1].children?.[0]).toMatchObject({ name: 'Require', line: 6, col: 5 })
    expect(config.findings).toEqual([])
  })

  it('reports unclosed and mismatched sections', () => {
    const config = parseApacheText('<Directory />\n<Files x>\n</Directory>\n', 'h.conf')
    expect(config.findings.map((f) => `${f.line} ${f.message}`)).toEqual(['3 </Directory> closes <Files> opened at line 2', '1 <Directory> is never closed'])
  })
})

describe('apache 2.4 Require', () => {
  it('Require all denied / granted and the last section wins (AuthMerging Off)', () => {
    const conf = '<Directory />\n  Require all denied\n</Directory>\n<Directory /srv/www>\n  Require all granted\n</Directory>\nDocumentRoot /srv/www\n'
    expect(server(conf, createLintRequest({ path: '/x' })).denied).toBe(false)
    const outside = '<Directory />\n  Require all denied\n</Directory>\nDocumentRoot /elsewhere\n'
    expect(server(outside, createLintRequest({ path: '/x' }))).toMatchObject({ denied: true, status: 403, line: 2, directive: 'Require all denied', context: '<Directory "/">' })
  })

  it('RequireAll / RequireAny / RequireNone', () => {
    const conf = `<RequireAll>
  Require ip 10.0.0.0/8
  <RequireNone>
    Require ip 10.66.0.0/16
  </RequireNone>
</RequireAll>
`
    expect(htaccess(conf, createLintRequest({ ip: '10.1.1.1' })).denied).toBe(false)
    expect(htaccess(conf, createLintRequest({ ip: '10.66.1.1' }))).toMatchObject({ denied: true, line: 4 })
    expect(htaccess(conf, createLintRequest({ ip: '192.0.2.1' }))).toMatchObject({ denied: true, line: 2, why: expect.stringContaining('client 192.0.2.1 is not in 10.0.0.0/8') })
    const any = 'Require ip 10.0.0.0/8\nRequire method GET\n'
    expect(htaccess(any, createLintRequest({ method: 'HEAD', ip: '192.0.2.1' })).denied).toBe(false)
    expect(htaccess(any, createLintRequest({ method: 'POST', ip: '192.0.2.1' })).denied).toBe(true)
  })

  it('Require valid-user answers 401 without credentials, 500 without AuthType', () => {
    const conf = 'AuthType Basic\nAuthName "x"\nAuthUserFile /etc/htpasswd\nRequire valid-user\n'
    expect(htaccess(conf, createLintRequest({}))).toMatchObject({ denied: true, status: 401, line: 4 })
    expect(htaccess(conf, createLintRequest({ headers: { authorization: 'Basic dTpw' } })).denied).toBe(false)
    expect(htaccess('Require valid-user\n', createLintRequest({}))).toMatchObject({ status: 500 })
  })

  it('<Limit> and <LimitExcept> scope rules to methods (HEAD counts as GET)', () => {
    const conf = '<LimitExcept GET POST>\n  Require all denied\n</LimitExcept>\n'
    expect(htaccess(conf, createLintRequest({ method: 'PUT' }))).toMatchObject({ denied: true, line: 2 })
    expect(htaccess(conf, createLintRequest({ method: 'HEAD' })).denied).toBe(false)
    const limit = '<Limit DELETE>\n  Require ip 10.0.0.0/8\n</Limit>\n'
    expect(htaccess(limit, createLintRequest({ method: 'DELETE', ip: '192.0.2.1' })).denied).toBe(true)
    expect(htaccess(limit, createLintRequest({ method: 'GET', ip: '192.0.2.1' })).denied).toBe(false)
  })

  it('Require host is not guessed: it is reported as "may deny"', () => {
    const res = evaluateApache(parseApacheText('Require host example.com\n', '.htaccess', true), createLintRequest({ path: '/x' }))
    expect(res.verdict.denied).toBe(false)
    expect(res.findings).toEqual([expect.objectContaining({ line: 1, rule: 'apache.may-deny' })])
  })
})

describe('apache 2.2 Order / Allow / Deny', () => {
  it('Order Deny,Allow: Allow overrides Deny, default allow', () => {
    const conf = 'Order Deny,Allow\nDeny from all\nAllow from 10.1\n'
    expect(htaccess(conf, createLintRequest({ ip: '10.1.2.3' })).denied).toBe(false)
    expect(htaccess(conf, createLintRequest({ ip: '10.2.2.3' }))).toMatchObject({ denied: true, line: 2, directive: 'Deny from all' })
    expect(htaccess('Order Deny,Allow\nDeny from 192.0.2.0/24\n', createLintRequest({ ip: '198.51.100.1' })).denied).toBe(false)
  })

  it('Order Allow,Deny: a matching Deny wins, and no Allow means deny', () => {
    const conf = 'Order Allow,Deny\nAllow from 192.168.1\nDeny from 192.168.1.66\n'
    expect(htaccess(conf, createLintRequest({ ip: '192.168.1.5' })).denied).toBe(false)
    expect(htaccess(conf, createLintRequest({ ip: '192.168.1.66' }))).toMatchObject({ denied: true, line: 3 })
    expect(htaccess(conf, createLintRequest({ ip: '8.8.8.8' }))).toMatchObject({ denied: true, line: 1, why: expect.stringContaining('Order Allow,Deny denies by default') })
  })

  it('accepts netmask notation and IPv6 CIDR', () => {
    const conf = 'Order Allow,Deny\nAllow from 10.1.0.0/255.255.0.0 2001:db8::/32\n'
    expect(htaccess(conf, createLintRequest({ ip: '10.1.9.9' })).denied).toBe(false)
    expect(htaccess(conf, createLintRequest({ ip: '2001:db8::1' })).denied).toBe(false)
    expect(htaccess(conf, createLintRequest({ ip: '10.2.9.9' })).denied).toBe(true)
  })

  it('Satisfy Any lets a logged-in user past an address rule', () => {
    const conf = 'Order Deny,Allow\nDeny from all\nAllow from 10.0.0.0/8\nAuthType Basic\nAuthName x\nRequire valid-user\nSatisfy Any\n'
    expect(htaccess(conf, createLintRequest({ ip: '10.0.0.1' })).denied).toBe(false)
    expect(htaccess(conf, createLintRequest({ ip: '192.0.2.1' }))).toMatchObject({ status: 401 })
    expect(htaccess(conf, createLintRequest({ ip: '192.0.2.1', headers: { authorization: 'Basic dTpw' } })).denied).toBe(false)
  })
})

describe('apache mod_rewrite', () => {
  const conf = `RewriteEngine On
RewriteCond %{REQUEST_METHOD} ^(TRACE|TRACK)
RewriteRule .* - [F]
RewriteCond %{HTTP_USER_AGENT} badbot [NC,OR]
RewriteCond %{REMOTE_ADDR} ^203\\.0\\.113\\.
RewriteRule ^api/ - [F,L]
RewriteCond %{REQUEST_URI} ^/private
RewriteRule ^ - [R=404]
RewriteRule ^gone$ - [G]
`
  const run = (r: RequestInput) => htaccess(conf, createLintRequest({ ip: '198.51.100.1', ...r }))
  it('[F] with a REQUEST_METHOD condition', () => {
    expect(run({ method: 'TRACE', path: '/x' })).toMatchObject({ denied: true, status: 403, line: 3 })
    expect(run({ method: 'GET', path: '/x' }).denied).toBe(false)
  })
  it('[OR] joins conditions and [NC] ignores case', () => {
    expect(run({ path: '/api/v1', headers: { 'user-agent': 'BadBot/2' } })).toMatchObject({ status: 403, line: 6 })
    expect(run({ path: '/api/v1', ip: '203.0.113.5' })).toMatchObject({ status: 403, line: 6 })
    expect(run({ path: '/api/v1' }).denied).toBe(false)
  })
  it('matches .htaccess rule patterns against the path relative to its directory', () => {
    expect(run({ path: '/gone' })).toMatchObject({ status: 410, line: 9 })
    expect(run({ path: '/private/x' })).toMatchObject({ status: 404, line: 8 })
  })
  it('ignores rules when RewriteEngine is not on', () => {
    expect(htaccess('RewriteRule .* - [F]\n', createLintRequest({})).denied).toBe(false)
  })
})

describe('apache fixtures', () => {
  const lint = (file: string, r: RequestInput) => lintConfig(file, { request: createLintRequest(r), cwd: fixtures }).verdict
  it('httpd.conf: sections merge in order and includes are followed', () => {
    const f = 'apache/httpd.conf'
    expect(lint(f, { path: '/index.html' })?.denied).toBe(false)
    expect(lint(f, { path: '/admin/', ip: '192.0.2.9' })).toMatchObject({ denied: true, file: f, line: 18, context: '<Directory "/var/www/html/admin">' })
    expect(lint(f, { path: '/admin/', ip: '192.168.7.7' })?.denied).toBe(false)
    expect(lint(f, { path: '/members/' })).toMatchObject({ status: 401, line: 27 })
    expect(lint(f, { method: 'DELETE', path: '/api/items/1' })).toMatchObject({ status: 403, line: 32 })
    expect(lint(f, { path: '/backup.sql' })).toMatchObject({ line: 41, context: '<FilesMatch "\\.(bak|sql)$">' })
    expect(lint(f, { path: '/server-status', ip: '192.0.2.9' })).toMatchObject({ line: 46 })
    expect(lint(f, { path: '/?q=UNION%20ALL%20SELECT' })).toMatchObject({ line: 52 })
    expect(lint(f, { path: '/legacy/app', ip: '192.0.2.9' })).toMatchObject({ file: 'apache/conf.d/legacy.conf', line: 4, directive: 'Deny from all' })
    const mixed = lint(f, { path: '/legacy/app', ip: '172.16.0.9' })
    expect(mixed).toMatchObject({ line: 8 })
    expect(mixed?.why).toContain('do not replace 2.4 Require')
  })

  it('.htaccess: Files, FilesMatch and per-directory rewrites', () => {
    const f = 'htaccess/.htaccess'
    expect(lint(f, { path: '/wp-config.php' })).toMatchObject({ line: 5 })
    expect(lint(f, { path: '/xmlrpc.php', ip: '192.0.2.1' })).toMatchObject({ line: 9 })
    expect(lint(f, { path: '/wp-admin/options.php', ip: '192.0.2.1' })).toMatchObject({ status: 403, line: 16 })
    expect(lint(f, { path: '/wp-admin/options.php', ip: '10.0.0.2' })?.denied).toBe(false)
  })

  it('lists risky rules with exact lines', () => {
    const rules = (f: string) => lintConfig(f, { cwd: fixtures }).findings.map((x) => `${x.line}:${x.col} ${x.severity} ${x.rule}`)
    expect(rules('apache/httpd.conf')).toEqual(['31:5 warning apache.limit-except-blocks-methods'])
    expect(rules('htaccess/legacy/.htaccess')).toEqual(['5:1 warning apache.limit-partial'])
    expect(rules('htaccess-no-allow/.htaccess')).toEqual(['1:1 error apache.order-allow-deny-no-allow'])
  })

  it('flags Require all denied in <Directory /> with nothing granting later, and other traps', () => {
    const config = parseApacheText(`<Directory />
  Require all denied
</Directory>
<Directory /srv>
  Order Allow,Deny
  Allow from all
  Require ip 10.0.0.0/8
  RewriteRule ^ - [F]
</Directory>
<Location /api>
  Require valid-user
</Location>
`, 'httpd.conf')
    expect(findRiskyApacheRules(config).map((f) => `${f.line} ${f.severity} ${f.rule}`)).toEqual([
      '5 warning apache.mixed-authz',
      '8 error apache.rewrite-forbids-everything',
      '8 warning apache.rewrite-engine-off',
      '11 error apache.require-without-authtype',
    ])
    const locked = parseApacheText('<Directory />\n  Require all denied\n</Directory>\n', 'httpd.conf')
    expect(findRiskyApacheRules(locked)).toEqual([expect.objectContaining({ line: 2, severity: 'error', rule: 'apache.require-all-denied-root' })])
  })
})

describe('apache sections, virtual hosts and environment', () => {
  const conf = `DocumentRoot /srv/default
<Directory />
  Require all denied
</Directory>
<Directory /srv>
  Require all granted
</Directory>
<VirtualHost *:80>
  ServerName www.example.com
  DocumentRoot /srv/www
</VirtualHost>
<VirtualHost *:80>
  ServerName intranet.example.com
  ServerAlias *.corp.example.com
  DocumentRoot /srv/intranet
  <Directory /srv/intranet>
    Require ip 10.0.0.0/8
  </Directory>
</VirtualHost>
<DirectoryMatch "^/srv/www/(private|secret)">
  Require all denied
</DirectoryMatch>
<LocationMatch "^/api/v1/">
  Require method GET
</LocationMatch>
<Location /admin>
  AuthType Basic
  AuthName admin
  Require valid-user
</Location>
`
  const run = (r: RequestInput) => server(conf, createLintRequest({ ip: '198.51.100.2', ...r }))
  it('picks the VirtualHost by ServerName / ServerAlias, the first one by default', () => {
    expect(run({ host: 'www.example.com', path: '/x' }).denied).toBe(false)
    expect(run({ host: 'wiki.corp.example.com', path: '/x' })).toMatchObject({ denied: true, line: 17 })
    expect(run({ host: 'intranet.example.com', path: '/x', ip: '10.0.0.1' }).denied).toBe(false)
    expect(run({ host: 'unknown.test', path: '/x' }).denied).toBe(false)
  })
  it('applies DirectoryMatch, LocationMatch and Location after Directory', () => {
    expect(run({ host: 'www.example.com', path: '/private/a' })).toMatchObject({ line: 21 })
    expect(run({ path: '/api/v1/items', method: 'POST' })).toMatchObject({ denied: true, line: 24 })
    expect(run({ path: '/api/v1/items', method: 'GET' }).denied).toBe(false)
    expect(run({ path: '/admin/users' })).toMatchObject({ status: 401, line: 29 })
    expect(run({ path: '/administrator' }).denied).toBe(false)
  })
  it('evaluates SetEnvIf / BrowserMatch variables in Deny from env= and Require env', () => {
    const legacy = 'SetEnvIfNoCase User-Agent "(sqlmap|nikto)" bad_bot\nOrder Allow,Deny\nAllow from all\nDeny from env=bad_bot\n'
    expect(htaccess(legacy, createLintRequest({ headers: { 'user-agent': 'SQLMap/1.7' } }))).toMatchObject({ denied: true, line: 4 })
    expect(htaccess(legacy, createLintRequest({ headers: { 'user-agent': 'Mozilla' } })).denied).toBe(false)
    const modern = 'BrowserMatch "^Partner/" partner\n<RequireAny>\n  Require env partner\n  Require ip 10.0.0.0/8\n</RequireAny>\n'
    expect(htaccess(modern, createLintRequest({ headers: { 'user-agent': 'Partner/2' } })).denied).toBe(false)
    expect(htaccess(modern, createLintRequest({ headers: { 'user-agent': 'Other' } })).denied).toBe(true)
  })
  it('takes the client address from RemoteIPHeader when the peer is a trusted proxy', () => {
    const text = 'RemoteIPHeader X-Forwarded-For\nRemoteIPTrustedProxy 10.0.0.5\n<Directory />\n  Require ip 192.0.2.0/24\n</Directory>\n'
    const viaProxy = (xff: string, ip = '10.0.0.5') => server(text, createLintRequest({ ip, headers: { 'x-forwarded-for': xff } }))
    expect(viaProxy('192.0.2.9').denied).toBe(false)
    expect(viaProxy('198.51.100.1').why).toContain('taken from X-Forwarded-For')
    expect(viaProxy('192.0.2.9', '198.51.100.7').why).toContain('not a trusted proxy')
  })
  it('AuthMerging And combines with the parent section', () => {
    const text = '<Directory /srv>\n  Require ip 10.0.0.0/8\n</Directory>\n<Directory /srv/app>\n  AuthMerging And\n  Require method GET\n</Directory>\nDocumentRoot /srv\n'
    expect(server(text, createLintRequest({ path: '/app/x', ip: '10.0.0.1' })).denied).toBe(false)
    expect(server(text, createLintRequest({ path: '/app/x', ip: '192.0.2.1' }))).toMatchObject({ denied: true, line: 2 })
    expect(server(text, createLintRequest({ path: '/app/x', ip: '10.0.0.1', method: 'POST' }))).toMatchObject({ denied: true, line: 6 })
  })
})

describe('apache directory index note', () => {
  it('warns about a directory URL when Indexes is off, not when it is on', () => {
    const off = evaluateApache(parseApacheText('DirectoryIndex index.php\nOptions -Indexes\n', '.htaccess', true), createLintRequest({ path: '/docs/' }))
    expect(off.findings).toEqual([expect.objectContaining({ line: 2, rule: 'apache.directory-index', message: expect.stringContaining('no index.php') })])
    const on = evaluateApache(parseApacheText('Options +Indexes\n', '.htaccess', true), createLintRequest({ path: '/docs/' }))
    expect(on.findings).toEqual([])
  })
})

describe('apache <If>', () => {
  it('reports rules inside <If> as "may deny" instead of guessing', () => {
    const res = evaluateApache(parseApacheText('<If "%{HTTP_HOST} == \'old.example.com\'">\n  Require all denied\n</If>\n', '.htaccess', true), createLintRequest({ path: '/x' }))
    expect(res.verdict.denied).toBe(false)
    expect(res.findings).toEqual([expect.objectContaining({ line: 1, rule: 'apache.may-deny' })])
  })
})

describe('apache ProxyPass', () => {
  it('says a proxied request is decided upstream', () => {
    const v = server('ProxyPass /api/ http://127.0.0.1:8080/\n', createLintRequest({ path: '/api/x' }))
    expect(v.denied).toBe(false)
    expect(v.why).toContain('ProxyPass sends it to http://127.0.0.1:8080/')
  })
})

describe('apache LimitRequestBody', () => {
  it('answers 413 above the limit', () => {
    const conf = 'LimitRequestBody 1000\n'
    expect(htaccess(conf, createLintRequest({ method: 'POST', path: '/x', headers: { 'content-length': '1001' } }))).toMatchObject({ denied: true, status: 413, line: 1 })
    expect(htaccess(conf, createLintRequest({ method: 'POST', path: '/x', headers: { 'content-length': '1000' } })).denied).toBe(false)
  })
})

describe('apache cases replayed from httpd 2.4.71', () => {
  const file = 'apache-observed/httpd.conf'
  // null: httpd let the request through (200, or 405 from the default handler).
  it.each([
    ['GET', '/index.html', '8.8.8.8', {}, null], ['GET', '/admin/x', '8.8.8.8', {}, 403], ['GET', '/admin/x', '10.1.1.1', {}, null],
    ['GET', '/admin/x', '10.66.1.1', {}, 403], ['GET', '/admin/x', '192.168.3.3', {}, null], ['PUT', '/api/x', '8.8.8.8', {}, 403],
    ['POST', '/api/x', '8.8.8.8', {}, null], ['HEAD', '/api/x', '8.8.8.8', {}, null], ['DELETE', '/limit/x', '8.8.8.8', {}, 403],
    ['GET', '/limit/x', '8.8.8.8', {}, null], ['DELETE', '/limit/x', '10.0.0.1', {}, null], ['GET', '/legacy22/x', '8.8.8.8', {}, null],
    ['GET', '/da/x', '10.1.2.3', {}, null], ['GET', '/da/x', '10.2.2.3', {}, 403], ['GET', '/ad/x', '192.168.1.5', {}, null],
    ['GET', '/ad/x', '192.168.1.66', {}, 403], ['GET', '/ad/x', '8.8.8.8', {}, 403], ['GET', '/noallow/x', '8.8.8.8', {}, 403],
    ['GET', '/members/x', '8.8.8.8', {}, 401], ['GET', '/satisfy/x', '10.0.0.1', {}, null], ['GET', '/satisfy/x', '8.8.8.8', {}, 401],
    ['GET', '/merge/and/x', '10.0.0.1', {}, null], ['GET', '/merge/and/x', '8.8.8.8', {}, 403], ['POST', '/merge/and/x', '10.0.0.1', {}, 403],
    ['GET', '/merge/off/x', '8.8.8.8', {}, null], ['POST', '/merge/off/x', '10.0.0.1', {}, 403], ['GET', '/db.sql', '8.8.8.8', {}, 403],
    ['GET', '/.htpasswd', '8.8.8.8', {}, 403], ['GET', '/locked/x', '8.8.8.8', {}, 403],
    ['GET', '/envdeny/x', '8.8.8.8', { 'user-agent': 'SQLMap/1' }, 403], ['GET', '/envdeny/x', '8.8.8.8', { 'user-agent': 'Mozilla' }, null],
    ['GET', '/reqenv/x', '8.8.8.8', { 'user-agent': 'nikto' }, 403], ['GET', '/reqenv/x', '8.8.8.8', { 'user-agent': 'Mozilla' }, null],
    ['TRACE', '/index.html', '8.8.8.8', {}, 403], ['GET', '/legacyalias/x', '172.16.0.9', {}, 403], ['GET', '/legacyalias/x', '8.8.8.8', {}, 403],
  ])('%s %s from %s %j: %s', (method, path, ip, headers, status) => {
    const req = createLintRequest({ method, path, ip: '127.0.0.1', headers: { 'x-forwarded-for': ip, ...headers } })
    expect(lintConfig(file, { request: req, cwd: fixtures }).verdict?.status ?? null).toBe(status)
  })
  it('names the module that refused, as the error log does', () => {
    const lint = (ip: string) => lintConfig(file, { request: createLintRequest({ path: '/legacyalias/x', ip: '127.0.0.1', headers: { 'x-forwarded-for': ip } }), cwd: fixtures }).verdict
    expect(lint('172.16.0.9')?.why).toContain('AH01630')
    expect(lint('8.8.8.8')?.why).toContain('AH01797')
  })
})
