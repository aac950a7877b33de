import { describe, expect, it } from 'vitest'
import { compileNginxLogFormat, LogFormatError, nginxCombinedFormat, tokenizeLogFormat } from './nginx-log-format.js'

describe('compiled nginx log_format', () => {
  it('parses a custom format with a forwarded-for field and ISO times', () => {
    const parser = compileNginxLogFormat('$remote_addr | $time_iso8601 | $http_x_forwarded_for | "$request" $status $request_time "$http_user_agent"')
    const r = parser.feed('10.0.0.2 | 2024-03-19T09:42:10+01:00 | 198.51.100.30, 10.0.0.2 | "POST /api/orders?dry=1 HTTP/1.1" 403 0.004 "Mozilla/5.0"')
    expect(r).toMatchObject({ client: '10.0.0.2', forwardedClient: '198.51.100.30', method: 'POST', path: '/api/orders', status: 403, minute: '2024-03-19T08:42Z' })
    expect(parser.hasForwardedField()).toBe(true)
    expect(parser.feed('10.0.0.2 2024-03-19T09:42:14+01:00 broken line')).toBe('skip')
  })

  it('parses the predefined combined format the same way as the built-in reader', () => {
    const parser = compileNginxLogFormat(nginxCombinedFormat)
    const r = parser.feed('203.0.113.9 - - [19/Mar/2024:09:42:10 +0100] "GET /admin HTTP/1.1" 403 153 "-" "Mozilla/5.0 (X11; Linux x86_64)"')
    expect(r).toMatchObject({ client: '203.0.113.9', path: '/admin', status: 403, minute: '2024-03-19T08:42Z' })
  })

  it('reads ${var} syntax, request_method + request_uri, and msec times', () => {
    const parser = compileNginxLogFormat('${msec} ${remote_addr} ${request_method} ${request_uri} -> ${status}')
    const r = parser.feed('1710841330.123 192.0.2.9 DELETE /api/orders/7?force=1 -> 403')
    expect(r).toMatchObject({ method: 'DELETE', path: '/api/orders/7', status: 403, client: '192.0.2.9', minute: '2024-03-19T09:42Z' })
  })

  it('skips lines whose status is not a number', () => {
    expect(compileNginxLogFormat('$remote_addr $status').feed('1.2.3.4 abc')).toBe('skip')
  })

  it('refuses formats it cannot split', () => {
    expect(() => tokenizeLogFormat('$remote_addr$status')).toThrow(LogFormatError)
    expect(() => tokenizeLogFormat('no variables')).toThrow(/no \$variables/)
    expect(() => tokenizeLogFormat('${remote_addr')).toThrow(/unclosed/)
  })

  it('stays linear on a hostile line (no regex backtracking)', () => {
    const parser = compileNginxLogFormat('$remote_addr "$request" $status')
    const line = `1.2.3.4 "${'" '.repeat(200_000)}x`
    const started = performance.now()
    expect(parser.feed(line)).toBe('skip')
    expect(performance.now() - started).toBeLessThan(500)
  })
})
