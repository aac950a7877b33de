import { describe, expect, it } from 'vitest'
import type { LogRecord, RecordParser } from '../types.js'
import { createAccessLogParser } from './access-log.js'
import { createApacheErrorParser, createNginxErrorParser } from './error-log.js'
import { createGatehouseParser } from './gatehouse.js'
import { createIisParser } from './iis.js'
import { createModsecJsonParser } from './modsec-json.js'
import { createModsecNativeParser, readBoundary } from './modsec-native.js'

function feedAll(parser: RecordParser, text: string): (LogRecord | 'skip')[] {
  const out: (LogRecord | 'skip')[] = []
  for (const line of text.split('\n')) {
    const r = parser.feed(line)
    if (r !== undefined) out.push(r)
  }
  const last = parser.end()
  if (last !== undefined) out.push(last)
  return out
}

function one(parser: RecordParser, line: string): LogRecord {
  const r = parser.feed(line)
  if (r === undefined || r === 'skip') throw new Error(`not a record: ${line}`)
  return r
}

describe('access log parser (nginx/Apache combined and common)', () => {
  it('reads an nginx combined line, converting the zoned time to a UTC minute', () => {
    const r = one(createAccessLogParser(), '203.0.113.9 - - [19/Mar/2024:09:42:10 +0100] "GET /admin/users?id=7 HTTP/1.1" 403 153 "-" "curl/8.4.0"')
    expect(r).toMatchObject({ client: '203.0.113.9', method: 'GET', path: '/admin/users', status: 403, minute: '2024-03-19T08:42Z' })
  })

  it('reads Apache common format, with - for an empty body and a negative zone', () => {
    const r = one(createAccessLogParser(), '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326')
    expect(r).toMatchObject({ client: '127.0.0.1', status: 200, path: '/apache_pb.gif', minute: '2000-10-10T20:55Z' })
    expect(one(createAccessLogParser(), '203.0.113.40 - - [19/Mar/2024:09:42:10 -0400] "GET /server-status HTTP/1.1" 403 -').status).toBe(403)
  })

  it('reads a third quoted field as X-Forwarded-For and keeps its left-most address', () => {
    const r = one(createAccessLogParser(), '10.0.0.2 - - [19/Mar/2024:09:42:10 +0000] "POST /api/pay HTTP/1.1" 403 153 "-" "okhttp/4.12.0" "198.51.100.250, 10.0.0.2"')
    expect(r.forwardedClient).toBe('198.51.100.250')
  })

  it('keeps requests with escaped quotes and TLS junk without crashing', () => {
    const p = createAccessLogParser()
    expect(one(p, '203.0.113.44 - - [19/Mar/2024:09:42:15 -0400] "GET /a\\"b HTTP/1.1" 403 199').path).toBe('/a\\"b')
    const junk = one(p, '192.0.2.1 - - [19/Mar/2024:09:42:15 +0000] "\\x16\\x03\\x01\\x00\\xA5\\x01" 400 150 "-" "-"')
    expect(junk).toMatchObject({ status: 400, method: null, path: null })
  })

  it('reads the client of Apache vhost_combined lines, after the virtual host', () => {
    const r = one(createAccessLogParser(), 'www.example.com:443 203.0.113.9 - - [19/Mar/2024:09:42:10 +0000] "GET /x HTTP/1.1" 403 199 "-" "curl/8.4.0"')
    expect(r.client).toBe('203.0.113.9')
  })

  it('marks malformed lines as skipped', () => {
    const p = createAccessLogParser()
    expect(p.feed('garbage line')).toBe('skip')
    expect(p.feed('1.2.3.4 - - [19/Mar/2024:09:42:10 +0000] "GET / HTTP/1.1" 4x3 1')).toBe('skip')
  })
})

describe('Apache error log parser', () => {
  it('reads a 2.4 AH01630 denial: status 403, client without port, local minute', () => {
    const r = one(createApacheErrorParser(), '[Tue Mar 19 09:42:10.382781 2024] [authz_core:error] [pid 2211:tid 140019733808896] [client 203.0.113.9:51877] AH01630: client denied by server configuration: /var/www/html/private/report.pdf')
    expect(r).toMatchObject({ status: 403, client: '203.0.113.9', rules: ['AH01630'], cause: 'apache:AH01630', path: '/var/www/html/private/report.pdf', minute: '2024-03-19T09:42' })
  })

  it('reads a 2.2 denial without an AH code', () => {
    const r = one(createApacheErrorParser(), '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test')
    expect(r).toMatchObject({ status: 403, client: '127.0.0.1', cause: 'apache:client-denied', minute: '2000-10-11T14:32' })
  })

  it('reads AH01797 and drops the referer suffix from the path', () => {
    const r = one(createApacheErrorParser(), '[Tue Mar 19 09:42:12.000001 2024] [access_compat:error] [pid 2212:tid 1] [client 198.51.100.23:16275] AH01797: client denied by server configuration: /var/www/html/favicon.ico, referer: https://www.example.com/')
    expect(r).toMatchObject({ status: 403, rules: ['AH01797'], path: '/var/www/html/favicon.ico' })
  })

  it('ties ModSecurity warnings to the denial of the same transaction', () => {
    const p = createApacheErrorParser()
    const warning = one(p, '[Tue Mar 19 09:43:01.512345 2024] [:error] [pid 2300] [client 192.0.2.44:40112] [client 192.0.2.44] ModSecurity: Warning. detected SQLi using libinjection [id "942100"] [msg "SQL Injection Attack Detected via libinjection"] [uri "/product.php"] [unique_id "ZfldVQoAAAEAAC2kAAAAAA"]')
    expect(warning.status).toBeNull()
    const denial = one(p, '[Tue Mar 19 09:43:01.513000 2024] [:error] [pid 2300] [client 192.0.2.44:40112] [client 192.0.2.44] ModSecurity: Access denied with code 403 (phase 2). Operator GE matched 5 at TX:anomaly_score. [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 5)"] [uri "/product.php"] [unique_id "ZfldVQoAAAEAAC2kAAAAAA"]')
    expect(denial).toMatchObject({ status: 403, client: '192.0.2.44', path: '/product.php', rules: ['942100', '949110'], message: 'SQL Injection Attack Detected via libinjection' })
  })

  it('takes the client, not the mod_remoteip peer, when both are logged', () => {
    const r = one(createApacheErrorParser(), '[Tue Mar 19 09:42:10.382781 2024] [authz_core:error] [pid 1:tid 2] [client 198.51.100.7:5000] [remote 10.0.0.2:41000] AH01630: client denied by server configuration: /srv/app')
    expect(r.client).toBe('198.51.100.7')
  })

  it('gives 401 for a password mismatch (AH01617)', () => {
    const r = one(createApacheErrorParser(), '[Tue Mar 19 09:45:00.123456 2024] [auth_basic:error] [pid 2400:tid 1] [client 198.51.100.77:33012] AH01617: user alice: authentication failure for "/admin/": Password Mismatch')
    expect(r).toMatchObject({ status: 401, path: '/admin/' })
  })

  it('keeps other error lines as records without status and skips non-error lines', () => {
    const p = createApacheErrorParser()
    expect(one(p, '[Tue Mar 19 09:46:00.000000 2024] [mpm_event:notice] [pid 1000:tid 1] AH00489: Apache/2.4.58 (Ubuntu) configured -- resuming normal operations').status).toBeNull()
    expect(p.feed('PHP Warning: something')).toBe('skip')
  })
})

describe('nginx error log parser', () => {
  it('reads "access forbidden by rule" with client and request', () => {
    const r = one(createNginxErrorParser(), '2024/03/19 09:42:10 [error] 4012#4012: *118 access forbidden by rule, client: 203.0.113.9, server: api.example.com, request: "GET /internal/metrics?x=1 HTTP/1.1", host: "api.example.com"')
    expect(r).toMatchObject({ status: 403, client: '203.0.113.9', method: 'GET', path: '/internal/metrics', cause: 'nginx:access-forbidden', minute: '2024-03-19T09:42' })
  })

  it('reads a ModSecurity-nginx denial, keeping the request path', () => {
    const r = one(createNginxErrorParser(), '2024/03/19 09:42:50 [error] 4014#4014: *140 [client 192.0.2.44] ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Ge\' with parameter `5\'" [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 10)"] [uri "/search"] [unique_id "171084257012.345678"], client: 192.0.2.44, server: www.example.com, request: "GET /search?q=x HTTP/1.1", host: "www.example.com"')
    expect(r).toMatchObject({ status: 403, rules: ['949110'], path: '/search', client: '192.0.2.44' })
  })
})

describe('IIS W3C parser', () => {
  it('maps fields by #Fields, keeps substatus and win32 status, and reads times as UTC', () => {
    const p = createIisParser()
    expect(p.feed('#Software: Microsoft Internet Information Services 10.0')).toBeUndefined()
    p.feed('#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken')
    const r = one(p, '2024-03-19 09:40:04 10.0.0.5 POST /api/orders id=7 443 - 192.0.2.66 curl/8.4.0 - 403 6 0 0')
    expect(r).toMatchObject({ method: 'POST', path: '/api/orders', client: '192.0.2.66', status: 403, substatus: '403.6', cause: 'iis:403.6', minute: '2024-03-19T09:40Z' })
    expect(p.hasForwardedField()).toBe(false)
  })

  it('follows a #Fields directive that changes mid-file (added X-Forwarded-For)', () => {
    const p = createIisParser()
    p.feed('#Fields: date time c-ip cs-method cs-uri-stem sc-status sc-substatus sc-win32-status')
    expect(one(p, '2024-03-19 09:00:00 192.0.2.1 GET / 200 0 0').status).toBe(200)
    p.feed('#Fields: date time c-ip cs-method cs-uri-stem sc-status sc-substatus sc-win32-status X-Forwarded-For')
    const r = one(p, '2024-03-19 10:00:01 10.0.0.1 GET /reports/q1.pdf 403 503 0 198.51.100.200,+10.0.0.1')
    expect(r).toMatchObject({ client: '10.0.0.1', forwardedClient: '198.51.100.200', substatus: '403.503' })
    expect(p.hasForwardedField()).toBe(true)
    expect(p.feed('2024-03-19 10:00:01 10.0.0.1 GET /short')).toBe('skip')
  })
})

describe('ModSecurity native audit log parser', () => {
  it('recognises v2 and v3 part boundaries', () => {
    expect(readBoundary('--6ef24602-A--')).toBe('A')
    expect(readBoundary('---0s7Btvlo---H--')).toBe('H')
    expect(readBoundary('-- not a boundary --')).toBeNull()
  })

  it('builds one record per entry: status from F, rules from H, client and zone from A', () => {
    const text = [
      '--6ef24602-A--',
      '[19/Mar/2024:09:57:47 +0300] ZflhS38AAQEAAEp3dGIAAAAE 192.0.2.80 43077 10.0.0.5 80',
      '--6ef24602-B--',
      'POST /login.php?next=/ HTTP/1.1',
      'X-Forwarded-For: 198.51.100.99, 10.0.0.2',
      '',
      '--6ef24602-F--',
      'HTTP/1.1 403 Forbidden',
      '',
      '--6ef24602-H--',
      'Message: Warning. detected SQLi using libinjection [file "x.conf"] [line "65"] [id "942100"] [msg "SQL Injection Attack Detected via libinjection"]',
      'Message: Access denied with code 403 (phase 2). [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 5)"]',
      '',
      '--6ef24602-Z--',
    ].join('\n')
    const records = feedAll(createModsecNativeParser(), text)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ status: 403, method: 'POST', path: '/login.php', client: '192.0.2.80', forwardedClient: '198.51.100.99', rules: ['942100', '949110'], minute: '2024-03-19T06:57Z', message: 'SQL Injection Attack Detected via libinjection' })
  })

  it('takes the status from "Access denied" when part F was not logged, and ends an entry cut off before Z', () => {
    const text = ['---abcd1234---A--', '[19/Mar/2024:07:00:10 +0000] 171083161017.284736 192.0.2.82 0 10.0.0.5 80', '---abcd1234---H--', 'ModSecurity: Access denied with code 403 (phase 1). [id "911100"] [msg "Method is not allowed by policy"] [uri "/api"]'].join('\n')
    const records = feedAll(createModsecNativeParser(), text)
    expect(records).toEqual([expect.objectContaining({ status: 403, rules: ['911100'], path: '/api' })])
  })
})

describe('ModSecurity JSON audit log parser', () => {
  it('reads a libmodsecurity 3 entry', () => {
    const line = JSON.stringify({ transaction: { client_ip: '192.0.2.50', time_stamp: 'Mon Sep  2 14:42:59 2019', unique_id: '156742817931.641393', request: { method: 'POST', http_version: 1.1, uri: '/?q=1', headers: { 'X-Forwarded-For': '198.51.100.12' } }, response: { http_code: 403, headers: {} }, messages: [{ message: 'SQL Injection Attack Detected via libinjection', details: { ruleId: '942100' } }, { message: 'Inbound Anomaly Score Exceeded (Total Score: 5)', details: { ruleId: '949110' } }] } })
    const r = one(createModsecJsonParser(), line)
    expect(r).toMatchObject({ status: 403, client: '192.0.2.50', method: 'POST', path: '/', forwardedClient: '198.51.100.12', rules: ['942100', '949110'], minute: '2019-09-02T14:42', cause: 'modsec' })
  })

  it('reads a ModSecurity 2.9 JSON entry with a zoned time', () => {
    const line = JSON.stringify({ transaction: { time: '19/Mar/2024:09:44:00 +0100', remote_address: '192.0.2.54' }, request: { request_line: 'GET /etc/passwd HTTP/1.1' }, response: { status: 403 }, audit_data: { messages: ['Warning. [id "930120"] [msg "OS File Access Attempt"]'] } })
    expect(one(createModsecJsonParser(), line)).toMatchObject({ status: 403, client: '192.0.2.54', path: '/etc/passwd', rules: ['930120'], minute: '2024-03-19T08:44Z' })
  })

  it('skips truncated JSON', () => {
    expect(createModsecJsonParser().feed('{"transaction": {"client_ip": "1.2')).toBe('skip')
  })
})

describe('Gatehouse JSON-lines parser', () => {
  it('reads a call, joining layer and short rule into a rule id', () => {
    const r = one(createGatehouseParser(), JSON.stringify({ time: Date.UTC(2024, 2, 19, 9, 42, 1), requestId: '01HS0', route: 'orders-create', method: 'POST', path: '/orders?x=1', status: 403, layer: 'authz', rule: 'missing-scope', clientIp: '127.0.0.1', future: { field: 1 } }))
    expect(r).toMatchObject({ status: 403, path: '/orders', client: '127.0.0.1', rules: ['authz.missing-scope'], cause: 'gatehouse:authz', minute: '2024-03-19T09:42Z' })
  })

  it('accepts ISO times and ignores lines that are not calls', () => {
    const p = createGatehouseParser()
    expect(one(p, '{"time":"2024-03-19T10:42:30+01:00","method":"POST","path":"/orders","status":403,"layer":"csrf","rule":"csrf.origin-mismatch"}').minute).toBe('2024-03-19T09:42Z')
    expect(p.feed('{"level":30,"msg":"gatehouse listening"}')).toBeUndefined()
    expect(p.feed('not json')).toBe('skip')
  })
})
