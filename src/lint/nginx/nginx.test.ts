import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { lintConfig } from '../lint.js'
import { createLintRequest } from '../request.js'
import type { LintRequest } from '../types.js'
import { evaluateNginx, findLocation } from './evaluate.js'
import { describeLocation } from './model.js'
import { parseNginxText, tokenizeNginx } from './parse.js'
import { findRiskyNginxRules } from './risky.js'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const shop = (r: Parameters<typeof createLintRequest>[0]) => createLintRequest({ host: 'shop.example.com', ...r })

function evaluate(text: string, req: LintRequest) {
  return evaluateNginx(parseNginxText(text, 'test.conf'), req)
}

function locationFor(text: string, uri: string): string {
  const config = parseNginxText(text, 'test.conf')
  const server = config.directives[0].block ?? []
  const found = findLocation(server, uri, [])
  return found.path.map(describeLocation).join(' > ') || '(none)'
}

describe('nginx tokenizer and parser', () => {
  it('gives every directive its exact line and column', () => {
    const config = parseNginxText('http {\n  server {\n    listen 80;\n\n      location /a { deny all; }\n  }\n}\n', 't.conf')
    const server = config.directives[0].block?.[0]
    expect(server).toMatchObject({ name: 'server', line: 2, col: 3 })
    const [listen, location] = server?.block ?? []
    expect(listen).toMatchObject({ name: 'listen', args: ['80'], line: 3, col: 5 })
    expect(location).toMatchObject({ name: 'location', args: ['/a'], line: 5, col: 7 })
    expect(location.block?.[0]).toMatchObject({ name: 'deny', args: ['all'], line: 5, col: 21 })
  })

  it('reads quoted strings with escapes, comments and ${var} words', () => {
    const { tokens, commentLines } = tokenizeNginx('return 403 "no \\"bots\\"; here"; # why\nset $x ${host}abc;\nif ($a ~ "b c") {}')
    expect(tokens.map((t) => t.value)).toEqual(['return', '403', 'no "bots"; here', ';', 'set', '$x', '${host}abc', ';', 'if', '($a', '~', 'b c', ')', '{', '}'])
    expect([...commentLines]).toEqual([1])
  })

  it('reports unbalanced braces and unterminated strings with their position', () => {
    const report = lintConfig(`${fixtures}nginx-broken.conf`)
    expect(report.findings.map((f) => `${f.line}:${f.col} ${f.severity} ${f.message} ${f.rule}`)).toEqual(['5:24 error unterminated double-quoted string nginx.parse-error'])
    const unclosed = parseNginxText('http {\n  server {\n    location / {\n      deny all;\n  }\n}\n', 'u.conf')
    expect(unclosed.findings.map((f) => `${f.line}:${f.col} ${f.message}`)).toEqual(['1:6 unexpected end of file, expecting "}" to close the block opened here'])
    const two = parseNginxText('http {\n  server {\n    location / {\n', 'u.conf')
    expect(two.findings.map((f) => `${f.line}:${f.col} ${f.message}`)).toEqual(['3:16 unexpected end of file, expecting "}" to close the block opened here (and the ones opened at lines 2, 1)'])
    const stray = parseNginxText('server { }\n}\n', 's.conf')
    expect(stray.findings).toEqual([expect.objectContaining({ line: 2, col: 1, message: 'unexpected "}"' })])
  })

  it('resolves include globs relative to the main file, in sorted order, with their own file names', () => {
    const report = lintConfig(`${fixtures}nginx/nginx.conf`, { request: createLintRequest({ host: 'api.example.com:8080', path: '/metrics', ip: '192.0.2.1' }), cwd: fixtures })
    expect(report.verdict).toMatchObject({ denied: true, status: 403, file: 'nginx/conf.d/api.conf', line: 14, col: 9, directive: 'deny all;' })
  })

  it('flags an include that does not exist', () => {
    const config = parseNginxText('include missing/*.conf;\ninclude nothere.conf;\n', 'x.conf', fixtures)
    expect(config.findings).toEqual([expect.objectContaining({ line: 2, rule: 'nginx.include-missing' })])
  })
})

describe('nginx location precedence', () => {
  const conf = `server {
    location / { }
    location = /exact { }
    location /images/ { }
    location ^~ /static/ { }
    location /static/deep/ { }
    location ~ \\.php$ { }
    location ~* \\.(PNG|jpg)$ { }
    location ~ ^/images/.+\\.png$ { }
    location /app/ {
      location ~ \\.js$ { }
      location /app/admin/ { }
    }
  }`
  it.each([
    ['/exact', 'location = /exact'],
    ['/exact/more', 'location /'],
    ['/anything', 'location /'],
    ['/images/a.gif', 'location /images/'],
    ['/index.php', 'location ~ \\.php$'],
    ['/static/x.php', 'location ^~ /static/'],
    ['/static/deep/x.php', 'location ~ \\.php$'],
    ['/images/logo.png', 'location ~* \\.(PNG|jpg)$'],
    ['/IMAGES/logo.JPG', 'location ~* \\.(PNG|jpg)$'],
    ['/app/main.js', 'location /app/ > location ~ \\.js$'],
    ['/app/admin/x', 'location /app/ > location /app/admin/'],
    ['/app/admin/x.php', 'location ~ \\.php$'],
  ])('%s goes to %s', (uri, expected) => {
    expect(locationFor(conf, uri)).toBe(expected)
  })

  it('tries regexes in order of appearance, not by length', () => {
    const text = 'server { location ~ /a { } location ~ /a/b/c { } }'
    expect(locationFor(text, '/a/b/c')).toBe('location ~ /a')
  })

  it('normalises the URI before matching (dot segments, double slashes, %-escapes)', () => {
    const res = evaluate('server { location /admin/ { deny all; } }', createLintRequest({ path: '/public/..//%61dmin/x', ip: '192.0.2.1' }))
    expect(res.verdict).toMatchObject({ denied: true, line: 1, context: 'location /admin/' })
  })
})

describe('nginx server selection', () => {
  const conf = `http {
    server { listen 80; server_name a.example.com; return 403; }
    server { listen 80 default_server; server_name _; return 404; }
    server { listen 80; server_name *.example.org; return 410; }
    server { listen 80; server_name ~^api\\d+\\.example\\.net$; return 401; }
    server { listen 8080; server_name a.example.com; return 402; }
  }`
  it.each([
    ['a.example.com', 403],
    ['A.Example.COM', 403],
    ['x.example.org', 410],
    ['api7.example.net', 401],
    ['unknown.test', 404],
    ['a.example.com:8080', 402],
  ])('Host %s is answered %i', (host, status) => {
    expect(evaluate(conf, createLintRequest({ host, path: '/' })).verdict.status).toBe(status)
  })

  it('uses the default server when no Host is given', () => {
    expect(evaluate(conf, createLintRequest({ path: '/' })).verdict.status).toBe(404)
  })
})

describe('nginx allow/deny', () => {
  it('stops at the first matching rule', () => {
    const conf = 'server { location / { deny 10.1.0.0/16; allow 10.0.0.0/8; deny all; } }'
    expect(evaluate(conf, createLintRequest({ ip: '10.1.2.3' })).verdict).toMatchObject({ denied: true, directive: 'deny 10.1.0.0/16;', why: 'client 10.1.2.3 matches deny 10.1.0.0/16' })
    expect(evaluate(conf, createLintRequest({ ip: '10.2.2.3' })).verdict.denied).toBe(false)
    expect(evaluate(conf, createLintRequest({ ip: '192.0.2.1' })).verdict).toMatchObject({ denied: true, line: 1, directive: 'deny all;', why: 'client 192.0.2.1 is not in any allow' })
  })

  it('matches IPv6 clients and IPv4-mapped addresses', () => {
    const conf = 'server { location / { allow 2001:db8::/32; allow 10.0.0.0/8; deny all; } }'
    expect(evaluate(conf, createLintRequest({ ip: '2001:db8::5' })).verdict.denied).toBe(false)
    expect(evaluate(conf, createLintRequest({ ip: '::ffff:10.0.0.1' })).verdict.denied).toBe(false)
    expect(evaluate(conf, createLintRequest({ ip: '2001:db9::5' })).verdict.denied).toBe(true)
  })

  it('inherits the server list only into locations that define no allow/deny of their own', () => {
    const conf = `server {
      allow 10.0.0.0/8;
      deny all;
      location /open/ { allow all; }
      location /inherits/ { root /srv; }
    }`
    const outside = '192.0.2.7'
    expect(evaluate(conf, createLintRequest({ path: '/open/x', ip: outside })).verdict.denied).toBe(false)
    const inherited = evaluate(conf, createLintRequest({ path: '/inherits/x', ip: outside })).verdict
    expect(inherited).toMatchObject({ denied: true, status: 403, line: 3, context: 'server _' })
    expect(inherited.why).toContain('inherited from server _')
  })

  it('allows a client no rule matches (there is no implicit deny)', () => {
    expect(evaluate('server { allow 10.0.0.0/8; }', createLintRequest({ ip: '192.0.2.1' })).verdict.denied).toBe(false)
  })
})

describe('nginx limit_except', () => {
  const conf = `server {
    location /api/ {
      limit_except GET {
        allow 192.168.1.0/24;
        deny all;
      }
    }
  }`
  it('denies methods it does not except for clients outside its allows', () => {
    const v = evaluate(conf, createLintRequest({ method: 'POST', path: '/api/orders', ip: '198.51.100.4' })).verdict
    expect(v).toMatchObject({ denied: true, status: 403, line: 5, directive: 'deny all;', context: 'limit_except GET' })
    expect(v.why).toContain('POST is not in limit_except GET (GET implies HEAD)')
  })
  it.each([['GET'], ['HEAD']])('lets %s through (GET implies HEAD)', (method) => {
    expect(evaluate(conf, createLintRequest({ method, path: '/api/orders', ip: '198.51.100.4' })).verdict.denied).toBe(false)
  })
  it('does not apply to nested locations (checked against nginx 1.22)', () => {
    const nested = 'server { location /p/ { limit_except GET { deny all; } location /p/n/ { root /srv; } } }'
    expect(evaluate(nested, createLintRequest({ method: 'POST', path: '/p/x' })).verdict.denied).toBe(true)
    expect(evaluate(nested, createLintRequest({ method: 'POST', path: '/p/n/x' })).verdict.denied).toBe(false)
  })
  it('lets an allowed client use other methods', () => {
    expect(evaluate(conf, createLintRequest({ method: 'DELETE', path: '/api/orders/1', ip: '192.168.1.20' })).verdict.denied).toBe(false)
  })
})

describe('nginx auth', () => {
  const conf = `server {
    location /private/ {
      auth_basic "Staff";
      auth_basic_user_file /etc/nginx/htpasswd;
      location /private/public/ { auth_basic off; }
    }
    location /mixed/ {
      satisfy any;
      allow 10.0.0.0/8;
      deny all;
      auth_basic "Mixed";
      auth_basic_user_file /etc/nginx/htpasswd;
    }
    location /sso/ { auth_request /auth; }
    location /nofile/ { auth_basic "x"; }
  }`
  it('answers 401 without credentials', () => {
    expect(evaluate(conf, createLintRequest({ path: '/private/x' })).verdict).toMatchObject({ denied: true, status: 401, line: 3, directive: 'auth_basic Staff;' })
  })
  it('lets a request with Basic credentials through (the password is not checked)', () => {
    expect(evaluate(conf, createLintRequest({ path: '/private/x', headers: { authorization: 'Basic dTpw' } })).verdict.denied).toBe(false)
  })
  it('honours auth_basic off in a nested location', () => {
    expect(evaluate(conf, createLintRequest({ path: '/private/public/x' })).verdict.denied).toBe(false)
  })
  it('satisfy any: either the address or the password is enough', () => {
    expect(evaluate(conf, createLintRequest({ path: '/mixed/', ip: '10.1.1.1' })).verdict.denied).toBe(false)
    expect(evaluate(conf, createLintRequest({ path: '/mixed/', ip: '192.0.2.1', headers: { authorization: 'Basic dTpw' } })).verdict.denied).toBe(false)
    const v = evaluate(conf, createLintRequest({ path: '/mixed/', ip: '192.0.2.1' })).verdict
    expect(v).toMatchObject({ denied: true, status: 401 })
    expect(v.why).toContain('satisfy any')
  })
  it('says auth_request depends on the subrequest', () => {
    const res = evaluate(conf, createLintRequest({ path: '/sso/app' }))
    expect(res.verdict.denied).toBe(false)
    expect(res.findings).toEqual([expect.objectContaining({ line: 14, rule: 'nginx.auth-request', severity: 'warning' })])
  })
  it('asks for no password when no auth_basic_user_file is in reach (as nginx does), and flags it', () => {
    expect(evaluate(conf, createLintRequest({ path: '/nofile/x' })).verdict.denied).toBe(false)
    const risky = findRiskyNginxRules(parseNginxText(conf, 'a.conf'))
    expect(risky.filter((f) => f.rule === 'nginx.auth-basic-no-user-file').map((f) => f.line)).toEqual([15])
  })
  it('notes that a static location answers 405 to POST', () => {
    const res = evaluate('server { location /files/ { root /srv; } }', createLintRequest({ method: 'POST', path: '/files/a' }))
    expect(res.verdict.denied).toBe(false)
    expect(res.findings).toEqual([expect.objectContaining({ rule: 'nginx.static-405' })])
  })
})

describe('nginx if / return', () => {
  const conf = `http {
    geo $trusted { default 0; 10.0.0.0/8 1; 10.9.0.0/16 0; }
    map $http_user_agent $is_bot { default 0; "~*(curl|wget)" 1; }
    server {
      if ($is_bot) { return 403; }
      location /upload/ {
        if ($request_method = POST) { return 405; }
      }
      location /ua/ {
        if ($http_user_agent ~* "evil") { return 403; }
      }
      location /addr/ {
        if ($remote_addr = 192.0.2.66) { return 403; }
      }
      location /hdr/ {
        if ($http_x_api_version != "2") { return 400; }
      }
      location /arg/ {
        if ($arg_debug) { return 403; }
      }
      location /office/ {
        if ($trusted = 0) { return 403; }
      }
      location /file/ {
        if (!-f $request_filename) { return 403; }
      }
      location /gone { return 410; }
    }
  }`
  const run = (r: Parameters<typeof createLintRequest>[0]) => evaluate(conf, createLintRequest(r))
  it('evaluates $request_method', () => {
    expect(run({ method: 'POST', path: '/upload/a' }).verdict).toMatchObject({ denied: true, status: 405, line: 7 })
    expect(run({ method: 'PUT', path: '/upload/a' }).verdict.denied).toBe(false)
  })
  it('evaluates $http_user_agent with ~* case-insensitively', () => {
    expect(run({ path: '/ua/', headers: { 'user-agent': 'EVIL scanner' } }).verdict).toMatchObject({ denied: true, line: 10 })
    expect(run({ path: '/ua/', headers: { 'user-agent': 'Mozilla' } }).verdict.denied).toBe(false)
  })
  it('evaluates $remote_addr, $http_x_* and $arg_*', () => {
    expect(run({ path: '/addr/', ip: '192.0.2.66' }).verdict.line).toBe(13)
    expect(run({ path: '/hdr/', headers: { 'x-api-version': '1' } }).verdict).toMatchObject({ status: 400, line: 16 })
    expect(run({ path: '/hdr/', headers: { 'x-api-version': '2' } }).verdict.denied).toBe(false)
    expect(run({ path: '/arg/?debug=1' }).verdict.line).toBe(19)
    expect(run({ path: '/arg/?debug=0' }).verdict.denied).toBe(false)
  })
  it('evaluates map variables (server-level if runs before locations)', () => {
    const v = run({ path: '/ua/', headers: { 'user-agent': 'curl/8.0' } }).verdict
    expect(v).toMatchObject({ denied: true, line: 5, context: 'server _' })
    expect(v.why).toContain('$is_bot is "1"')
  })
  it('evaluates geo variables with the most specific network', () => {
    expect(run({ path: '/office/', ip: '10.1.2.3' }).verdict.denied).toBe(false)
    expect(run({ path: '/office/', ip: '10.9.2.3' }).verdict).toMatchObject({ denied: true, line: 22 })
  })
  it('flags a condition it cannot evaluate as "may deny"', () => {
    const res = run({ path: '/file/x' })
    expect(res.verdict.denied).toBe(false)
    expect(res.findings).toEqual([expect.objectContaining({ line: 25, rule: 'nginx.may-deny' })])
  })
  it('reports a plain return in the location', () => {
    expect(run({ path: '/gone' }).verdict).toMatchObject({ denied: true, status: 410, line: 27, directive: 'return 410;' })
  })
  it('lets rewrite ... last reach an internal location (the request is internal then)', () => {
    const conf = 'server { location /pretty/ { rewrite ^ /impl/ last; } location /impl/ { internal; } }'
    expect(evaluate(conf, createLintRequest({ path: '/pretty/x' })).verdict.denied).toBe(false)
    expect(evaluate(conf, createLintRequest({ path: '/impl/x' })).verdict).toMatchObject({ denied: true, status: 404 })
  })
  it('follows rewrite ... last into the new location', () => {
    const res = evaluate('server { location /old/ { rewrite ^/old/(.*)$ /admin/$1 last; } location /admin/ { deny all; } }', createLintRequest({ path: '/old/x' }))
    expect(res.verdict).toMatchObject({ denied: true, directive: 'deny all;', context: 'location /admin/' })
  })
  it('says when a location regex cannot be evaluated (backreference)', () => {
    const res = evaluate('server { location ~ ^/(\\w+)/\\1$ { deny all; } }', createLintRequest({ path: '/a/a' }))
    expect(res.verdict.denied).toBe(false)
    expect(res.findings[0]).toMatchObject({ rule: 'nginx.regex-not-evaluated', line: 1 })
  })
})

describe('nginx fixture (nginx.conf with includes)', () => {
  const file = 'nginx/nginx.conf'
  const lint = (r: Parameters<typeof createLintRequest>[0]) => lintConfig(file, { request: shop(r), cwd: fixtures }).verdict
  it('names the deny all of /admin/ with its exact line', () => {
    expect(lint({ path: '/admin/users', ip: '10.0.0.5' })?.denied).toBe(false)
    expect(lint({ path: '/admin/users', ip: '192.0.2.5' })).toMatchObject({ denied: true, status: 403, file: 'nginx/nginx.conf', line: 54, col: 13, directive: 'deny all;', context: 'location /admin/', why: 'client 192.0.2.5 is not in any allow' })
  })
  it('shows the regex bypass: /admin/x.php is served by the php location', () => {
    expect(lint({ path: '/admin/x.php', ip: '192.0.2.5' })).toMatchObject({ denied: false, context: 'location ~ \\.php$' })
  })
  it('answers 444 from the default server for unknown hosts', () => {
    expect(lintConfig(file, { request: createLintRequest({ host: 'nope.test', path: '/' }), cwd: fixtures }).verdict).toMatchObject({ status: 444, line: 29 })
  })
  it('follows internal and the office geo', () => {
    expect(lint({ path: '/internal-only/a' })).toMatchObject({ denied: true, status: 404, line: 94 })
    expect(lint({ path: '/office/', ip: '10.20.30.5' })).toMatchObject({ denied: true, line: 99 })
    expect(lint({ path: '/office/', ip: '10.20.1.5' })?.denied).toBe(false)
  })
})

describe('nginx risky rules', () => {
  it('lists the risky rules of the shop fixture with exact lines', () => {
    const report = lintConfig(`${fixtures}nginx/nginx.conf`, { cwd: fixtures })
    const got = report.findings.map((f) => `${f.line}:${f.col} ${f.severity} ${f.rule}`)
    expect(got).toEqual([
      '65:9 error nginx.regex-shadows-prefix',
      '65:9 warning nginx.regex-shadows-prefix',
      '70:9 error nginx.regex-shadows-prefix',
      '70:9 warning nginx.regex-shadows-prefix',
      '75:13 warning nginx.limit-except-blocks-methods',
      '88:13 warning nginx.if-in-location',
      '89:17 warning nginx.return-403-uncommented',
      '98:13 warning nginx.if-in-location',
      '99:17 warning nginx.return-403-uncommented',
    ])
    expect(report.findings[0].message).toContain('/admin/x.php')
    expect(report.findings[4].message).toContain('blocks POST, PUT, PATCH, DELETE, OPTIONS')
  })

  it('finds server-level deny all, unreachable rules, allow without deny and unsafe regexes', () => {
    const report = lintConfig(`${fixtures}nginx-risky/nginx.conf`, { cwd: fixtures })
    expect(report.findings.map((f) => `${f.line}:${f.col} ${f.severity} ${f.rule}`)).toEqual([
      '5:9 warning nginx.server-deny-all',
      '14:13 error nginx.access-rule-unreachable',
      '18:13 warning nginx.allow-without-deny',
      '21:9 warning nginx.regex-not-evaluated',
    ])
    expect(report.findings[0].message).toContain('only /status, /partners/ allow clients')
    expect(report.findings[3].message).toMatch(/^regex of location ~ \^\/\(\\w\+\)\/\\1\$ is not evaluated/)
  })

  it('flags allow/deny arguments nginx would refuse', () => {
    const config = parseNginxText('server {\n  allow 10.0.0.0/33;\n  allow office.example.com;\n  deny all;\n}\n', 'c.conf')
    expect(findRiskyNginxRules(config).filter((f) => f.rule === 'nginx.invalid-address').map((f) => f.line)).toEqual([2, 3])
  })

  it('does not flag a commented return 403 or a ^~ prefix', () => {
    const config = parseNginxText('server {\n  # bots\n  return 403;\n  location ^~ /admin/ { deny all; }\n  location ~ \\.php$ { }\n}\n', 'c.conf')
    expect(findRiskyNginxRules(config)).toEqual([])
  })
})

describe('nginx realip', () => {
  const conf = `http {
    set_real_ip_from 10.0.0.0/8;
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
    server {
      location /admin/ { allow 192.0.2.0/24; deny all; }
    }
  }`
  it('takes the client address from X-Forwarded-For when the proxy is trusted', () => {
    const ok = evaluate(conf, createLintRequest({ path: '/admin/', ip: '10.0.0.2', headers: { 'x-forwarded-for': '192.0.2.7, 10.0.0.9' } }))
    expect(ok.verdict.denied).toBe(false)
    const v = evaluate(conf, createLintRequest({ path: '/admin/', ip: '10.0.0.2', headers: { 'x-forwarded-for': '198.51.100.3' } })).verdict
    expect(v).toMatchObject({ denied: true, line: 6 })
    expect(v.why).toContain('client 198.51.100.3 is not in any allow (client address 198.51.100.3 taken from x-forwarded-for')
  })
  it('ignores the header from an untrusted peer and says so', () => {
    const v = evaluate(conf, createLintRequest({ path: '/admin/', ip: '198.51.100.3', headers: { 'x-forwarded-for': '192.0.2.7' } })).verdict
    expect(v.denied).toBe(true)
    expect(v.why).toContain('198.51.100.3 is not in set_real_ip_from')
  })
})

describe('nginx valid_referers', () => {
  const conf = `server {
    server_name shop.example.com;
    location /img/ {
      valid_referers none blocked server_names *.example.org ~\\.partner\\.;
      if ($invalid_referer) { return 403; }
    }
  }`
  it.each([
    [undefined, false],
    ['https://shop.example.com/page', false],
    ['https://cdn.example.org/x', false],
    ['http://www.partner.net/', false],
    ['no-scheme-here', false],
    ['https://evil.test/hotlink', true],
  ])('Referer %s denied: %s', (referer, denied) => {
    const headers: Record<string, string> = referer === undefined ? {} : { referer }
    expect(evaluate(conf, createLintRequest({ path: '/img/a.png', headers })).verdict.denied).toBe(denied)
  })
})

describe('nginx directory index note', () => {
  it('warns that a directory URI without an index file answers 403', () => {
    const res = evaluate('server {\n  root /srv/www;\n  location /docs/ { index index.html; }\n  location /app/ { proxy_pass http://127.0.0.1:3000; }\n}', createLintRequest({ path: '/docs/' }))
    expect(res.verdict.denied).toBe(false)
    expect(res.findings).toEqual([expect.objectContaining({ line: 3, rule: 'nginx.directory-index', message: expect.stringContaining('/srv/www/docs/ has no index.html') })])
    expect(evaluate('server { location /app/ { proxy_pass http://u; } }', createLintRequest({ path: '/app/' })).findings).toEqual([])
  })
})

describe('nginx selection replayed from nginx 1.22.1', () => {
  const file = 'nginx-observed/nginx.conf'
  it.each([
    ['first.test', '/', 401], ['nope.test', '/', 402], ['x.example.org', '/', 403], ['a.b.example.org', '/', 406],
    ['z.b.example.org', '/', 409], ['www.example.io', '/', 404], ['api12.example.net', '/', 405], ['example.com', '/', 407],
    ['deep.sub.example.com', '/', 407], ['FIRST.TEST', '/', 401], ['loc.test', '/', 200], ['loc.test', '/a/', 417],
    ['loc.test', '/a/x', 410], ['loc.test', '/a/b/c', 413], ['loc.test', '/a/y.x', 412], ['loc.test', '/a/b/y.x', 412],
    ['loc.test', '/c/y.x', 415], ['loc.test', '/c/z', 414], ['loc.test', '/e/y.x', 416], ['loc.test', '/d', 418],
    ['loc.test', '/dd', 418], ['loc.test', '/D/e/f', 419], ['loc.test', '/d/e/f', 419],
  ])('Host %s, %s: nginx answered %i', (host, path, status) => {
    const v = lintConfig(file, { request: createLintRequest({ host: `${host}:8080`, path }), cwd: fixtures }).verdict
    expect(v?.status).toBe(status)
  })
})

describe('nginx access replayed from nginx 1.22.1', () => {
  const file = 'nginx-observed/access.conf'
  const run = (port: number, method: string, path: string, headers: Record<string, string> = {}) =>
    lintConfig(file, { request: createLintRequest({ host: `localhost:${port}`, method, path, ip: '127.0.0.1', headers }), cwd: fixtures }).verdict
  // null: nginx let the request through to the content handler (200, 404 or 405 for POST to a file).
  it.each([
    ['GET', '/index.html', null], ['GET', '/exact', 403], ['GET', '/exact/more', null], ['GET', '/images/a.gif', 403],
    ['GET', '/static/x.php', null], ['GET', '/static/deep/x.php', null], ['GET', '/static/deep/y.html', 403],
    ['GET', '/images/logo.png', 403], ['GET', '/images/logo.PNG', 403], ['GET', '/app/main.js', null], ['GET', '/app/admin/x', 403],
    ['GET', '/app/admin/x.php', null], ['GET', '/app/x', 403], ['GET', '/api/o', null], ['HEAD', '/api/o', null],
    ['POST', '/api/o', 403], ['DELETE', '/api/o', 403], ['GET', '/mixed/x', 401], ['GET', '/first/x', null], ['GET', '/order/x', 403],
    ['POST', '/ifm/x', 405], ['GET', '/ifm/x', null], ['GET', '/a.php', null], ['GET', '/x/../images/a.gif', 403],
    ['GET', '/%69mages/a.gif', 403], ['GET', '//images//a.gif', 403], ['GET', '/p/x', null], ['POST', '/p/x', 403],
    ['POST', '/p/n/x', null], ['GET', '/q/x', null], ['POST', '/q/x', null], ['GET', '/r/x', 403], ['POST', '/r/x', null],
  ])('%s %s: %s', (method, path, status) => {
    expect(run(8080, method, path)?.status ?? null).toBe(status)
  })
  it.each([
    [{ 'user-agent': 'EviL' }, '/ua/x', 8080, 418], [{}, '/ua/x', 8080, null],
    [{ 'x-forwarded-for': '192.0.2.5' }, '/adm/x', 8081, null], [{ 'x-forwarded-for': '198.51.100.5' }, '/adm/x', 8081, 403],
    [{ 'x-forwarded-for': '192.0.2.5, 10.1.1.1' }, '/adm/x', 8081, null], [{ 'x-forwarded-for': '198.51.100.5, 192.0.2.5' }, '/adm/x', 8081, null],
    [{ 'x-forwarded-for': '10.1.1.1' }, '/off/x', 8081, null], [{ 'x-forwarded-for': '10.9.1.1' }, '/off/x', 8081, 451],
    [{ 'x-forwarded-for': '8.8.8.8' }, '/off/x', 8081, 451], [{ 'user-agent': 'curl/8' }, '/x', 8081, 403],
    [{ 'user-agent': 'badbot' }, '/x', 8081, 403], [{ 'user-agent': 'Mozilla' }, '/x', 8081, null],
    [{ 'x-forwarded-for': '2001:db8::1' }, '/v6/x', 8081, null], [{ 'x-forwarded-for': '2001:db9::1' }, '/v6/x', 8081, 403],
    [{}, '/adm/x', 8081, 403],
  ])('%j %s on port %i: %s', (headers, path, port, status) => {
    expect(run(port, 'GET', path, headers)?.status ?? null).toBe(status)
  })
})

describe('nginx body size and rate limits', () => {
  const conf = `http {
    client_max_body_size 10m;
    server {
      location /upload/ { client_max_body_size 100k; }
      location /api/ { limit_req zone=api burst=5; proxy_pass http://127.0.0.1:3000; }
      location / { proxy_pass http://127.0.0.1:3000; }
    }
  }`
  it('answers 413 above client_max_body_size, innermost value first', () => {
    const big = (path: string, bytes: number) => evaluate(conf, createLintRequest({ method: 'POST', path, headers: { 'content-length': String(bytes) } })).verdict
    expect(big('/upload/a', 200 * 1024)).toMatchObject({ denied: true, status: 413, line: 4, directive: 'client_max_body_size 100k;' })
    expect(big('/other', 5 * 1024 * 1024).denied).toBe(false)
    expect(big('/other', 11 * 1024 * 1024)).toMatchObject({ status: 413, line: 2 })
    expect(evaluate('server { location / { } }', createLintRequest({ method: 'POST', headers: { 'content-length': '2000000' } })).verdict).toMatchObject({ status: 413, why: expect.stringContaining('1m (the default)') })
  })
  it('says where an allowed request goes when it is proxied', () => {
    expect(evaluate(conf, createLintRequest({ path: '/other' })).verdict.why).toContain('proxy_pass sends it to http://127.0.0.1:3000 (line 6), so a 403 would come from there')
  })
  it('notes limit_req and its status', () => {
    const res = evaluate(conf, createLintRequest({ path: '/api/x' }))
    expect(res.findings).toEqual([expect.objectContaining({ line: 5, rule: 'nginx.rate-limited', message: expect.stringContaining('answered 503') })])
  })
})
