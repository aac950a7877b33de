import { describe, it, expect } from 'vitest'
import { UsageError } from '../cli/args.js'
import { findHarContext, parseHar, selectDeniedEntries } from './har.js'

function entry(status: number, extra: { request?: Record<string, unknown>; response?: Record<string, unknown> } = {}) {
  return {
    startedDateTime: '2024-03-19T09:42:00.000Z',
    time: 41.7,
    request: { method: 'post', url: 'https://api.test/orders', headers: [], cookies: [], ...extra.request },
    response: { status, statusText: '', headers: [], content: { size: 0, mimeType: 'text/html' }, ...extra.response },
  }
}

function har(entries: unknown[]): string {
  return JSON.stringify({ log: { version: '1.2', creator: { name: 'WebInspector', version: '537.36' }, entries } })
}

describe('parseHar', () => {
  it('turns entries into exchanges with lowercase headers and without HTTP/2 pseudo-headers', () => {
    const log = parseHar(har([entry(403, {
      request: {
        headers: [{ name: ':authority', value: 'api.test' }, { name: 'Content-Type', value: 'application/json' }, { name: 'X-Dup', value: 'a' }, { name: 'x-dup', value: 'b' }],
        postData: { mimeType: 'application/json', text: '{"a":1}' },
      },
      response: {
        headers: [{ name: 'Server', value: 'cloudflare' }, { name: 'CF-RAY', value: '8a1b-AMS' }],
        content: { size: 16, mimeType: 'text/plain', text: 'error code: 1020' },
      },
    })]))
    expect(log.creator).toBe('WebInspector 537.36')
    expect(log.entries).toEqual([{
      index: 0,
      startedDateTime: '2024-03-19T09:42:00.000Z',
      timeMs: 42,
      exchange: {
        request: { method: 'POST', url: 'https://api.test/orders', headers: { 'content-type': 'application/json', 'x-dup': 'a, b' }, body: '{"a":1}' },
        response: { status: 403, headers: { server: 'cloudflare', 'cf-ray': '8a1b-AMS', 'content-type': 'text/plain' }, body: 'error code: 1020' },
      },
    }])
  })

  it('decodes base64 bodies, rebuilds form params and cookies listed apart', () => {
    const log = parseHar(har([entry(401, {
      request: { cookies: [{ name: 'sid', value: 'x' }, { name: 'csrftoken', value: 'y' }], postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'a', value: '1 2' }] } },
      response: { content: { size: 9, mimeType: 'application/json', text: Buffer.from('{"e":"x"}').toString('base64'), encoding: 'base64' } },
    })]))
    const { request, response } = log.entries[0].exchange
    expect(request.headers.cookie).toBe('sid=x; csrftoken=y')
    expect(request.body).toBe('a=1+2')
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(response.body).toBe('{"e":"x"}')
  })

  it('selects the 401, 403, 419 and 429 entries only', () => {
    const log = parseHar(har([entry(200), entry(403), entry(404), entry(419), entry(429), entry(401), entry(500), { broken: true }]))
    expect(log.entries.length).toBe(7)
    expect(selectDeniedEntries(log).map((e) => [e.index, e.exchange.response.status])).toEqual([[1, 403], [3, 419], [4, 429], [5, 401]])
  })

  it.each([
    ['not json', /invalid JSON/],
    ['{"log":{}}', /expected \{ "log": \{ "entries"/],
    ['[]', /not a HAR file/],
  ])('refuses %s', (text, message) => {
    expect(() => parseHar(text)).toThrow(UsageError)
    expect(() => parseHar(text)).toThrow(message)
  })
})

describe('findHarContext', () => {
  const at = (method: string, url: string, status: number, requestHeaders: { name: string; value: string }[] = [], responseHeaders: { name: string; value: string }[] = []) => ({
    request: { method, url, headers: requestHeaders },
    response: { status, headers: responseHeaders, content: {} },
  })

  it('points at the same request succeeding at another moment', () => {
    const log = parseHar(har([at('POST', 'https://a.test/x?v=1', 201), at('POST', 'https://a.test/x?v=2', 403)]))
    expect(findHarContext(log, log.entries[1])).toEqual([{ entry: 0, conclusion: expect.stringMatching(/same POST on this path got 201 in entry #0/) }])
  })

  it('points at another method passing on the same path', () => {
    const log = parseHar(har([at('GET', 'https://a.test/items', 200), at('DELETE', 'https://a.test/items', 403)]))
    expect(findHarContext(log, log.entries[1])[0].conclusion).toMatch(/GET on the same path passed \(#0\) while DELETE is refused/)
  })

  it('explains a refused preflight and links a request to its failed preflight', () => {
    const preflightHeaders = [{ name: 'Access-Control-Request-Method', value: 'PUT' }, { name: 'Origin', value: 'https://app.test' }]
    const log = parseHar(har([at('OPTIONS', 'https://a.test/items/1', 403, preflightHeaders), at('PUT', 'https://a.test/items/1', 403)]))
    expect(findHarContext(log, log.entries[0])[0].conclusion).toMatch(/CORS preflight and it was refused \(403\)/)
    expect(findHarContext(log, log.entries[1])).toEqual([{ entry: 0, conclusion: expect.stringMatching(/preflight \(#0\) failed \(403, no Access-Control-Allow-Origin\): CORS/) }])
  })

  it('says nothing when the recording has nothing related', () => {
    const log = parseHar(har([at('GET', 'https://a.test/other', 200), at('POST', 'https://a.test/x', 403)]))
    expect(findHarContext(log, log.entries[1])).toEqual([])
  })
})
