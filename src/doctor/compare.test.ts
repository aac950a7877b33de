import { describe, it, expect } from 'vitest'
import {
  chooseMinimal, compareProbes, evaluatePreflight, isSameDenial, listCorsUnsafeHeaders, listIrrelevantParts, needsPreflight,
  type ProbeRecord, type ProbeResponse, type Variation,
} from './compare.js'
import type { RequestSpec } from './curl.js'

const post: RequestSpec = {
  method: 'POST',
  url: 'https://api.test/orders',
  headers: [['Authorization', 'Bearer t'], ['Content-Type', 'application/json'], ['Cookie', 'sid=1']],
  body: '{"item":"book","qty":1}',
  insecure: false,
  compressed: false,
}

function answer(status: number, body = '', headers: Record<string, string> = {}): ProbeResponse {
  return { status, headers, body }
}

function record(variation: Variation, response: ProbeResponse, request: RequestSpec = post): ProbeRecord {
  return { variation, description: variation, request, response, elapsedMs: 1 }
}

function conclusionOf(records: ProbeRecord[], variation: Variation): string {
  return compareProbes(records).find((f) => f.probe === variation)?.conclusion ?? ''
}

const forbidden = answer(403, '<h1>403 Forbidden</h1>', { server: 'nginx' })

describe('compareProbes', () => {
  it('a 403 that disappears without the body points at the payload', () => {
    const records = [record('original', forbidden), record('minimal-body', answer(422, '{"error":"qty missing"}', { server: 'nginx' }))]
    expect(conclusionOf(records, 'minimal-body')).toMatch(/WAF or body rule inspects the payload/)
  })

  it('the same 403 without credentials is not about the credentials', () => {
    const records = [record('original', forbidden), record('no-credentials', forbidden)]
    expect(conclusionOf(records, 'no-credentials')).toMatch(/not about these credentials.*IP, WAF/)
  })

  it('401 without credentials but 403 with them means valid credentials without permission', () => {
    const records = [record('original', forbidden), record('no-credentials', answer(401, '', { 'www-authenticate': 'Bearer' }))]
    expect(conclusionOf(records, 'no-credentials')).toMatch(/credentials are valid but lack permission/)
  })

  it('GET passing while POST is denied points at a method rule or CSRF', () => {
    const records = [record('original', forbidden), record('get', answer(200, '[]'))]
    expect(conclusionOf(records, 'get')).toMatch(/GET passes, POST is denied.*limit_except.*CSRF/)
  })

  it('a 403 only with cookies is a CSRF or session check', () => {
    const records = [record('original', forbidden), record('no-cookies', answer(201, '{}'))]
    expect(conclusionOf(records, 'no-cookies')).toMatch(/only with cookies.*CSRF or session/)
  })

  it('a 401 either way means the credentials are not accepted', () => {
    const unauthorized = answer(401, '{"error":"invalid_token"}', { 'www-authenticate': 'Bearer error="invalid_token"' })
    expect(conclusionOf([record('original', unauthorized), record('no-credentials', unauthorized)], 'no-credentials')).toMatch(/not accepted at all/)
  })

  it('a 401 without cookies means the cookie session is authenticated but refused', () => {
    expect(conclusionOf([record('original', forbidden), record('no-cookies', answer(401))], 'no-cookies')).toMatch(/session cookie is what authenticates you/)
  })

  it('a 403 with a different body is a different denial', () => {
    const cdn = answer(403, 'error code: 1020', { server: 'cloudflare' })
    expect(isSameDenial(forbidden, cdn)).toBe(false)
    expect(conclusionOf([record('original', forbidden), record('no-credentials', cdn)], 'no-credentials')).toMatch(/more than one layer/)
  })

  it('treats bodies that differ only by ids and numbers as the same denial', () => {
    const a = answer(403, 'Request blocked. Ray ID: 8a1b2c3d4e5f6a7b at 2024-01-01 10:00:00', { server: 'cloudflare' })
    const b = answer(403, 'Request blocked. Ray ID: 9f8e7d6c5b4a3f2e at 2024-01-01 10:00:01', { server: 'cloudflare' })
    expect(isSameDenial(a, b)).toBe(true)
  })

  it('says nothing about a variation that got no answer', () => {
    const failed: ProbeRecord = { variation: 'get', description: 'get', request: post, error: { kind: 'timeout', message: 'timed out' }, elapsedMs: 5 }
    expect(compareProbes([record('original', forbidden), failed])[1]).toEqual({ probe: 'get', status: null, conclusion: expect.stringMatching(/shows nothing/) })
  })

  it('explains a rate limit and a redirect on the original', () => {
    expect(conclusionOf([record('original', answer(429, '', { 'retry-after': '30' }))], 'original')).toMatch(/Rate limited.*Retry after 30/)
    expect(conclusionOf([record('original', answer(302, '', { location: '/login' }))], 'original')).toMatch(/Redirect to \/login/)
  })
})

describe('CORS preflight', () => {
  const cross: RequestSpec = {
    ...post,
    headers: [['Origin', 'https://app.test'], ['Content-Type', 'application/json'], ['X-Api-Key', 'k'], ['User-Agent', 'ua']],
  }

  it('lists the headers a browser would ask about', () => {
    expect(listCorsUnsafeHeaders(cross)).toEqual(['content-type', 'x-api-key'])
    expect(needsPreflight(cross)).toBe(true)
    expect(needsPreflight({ ...cross, headers: [['Origin', 'https://api.test'], ['X-Api-Key', 'k']] })).toBe(false)
    expect(needsPreflight({ ...cross, headers: [['Origin', 'https://app.test'], ['Content-Type', 'text/plain']] })).toBe(false)
    // Without Origin, the Referer's origin stands in (devtools copies sometimes lack Origin).
    expect(needsPreflight({ ...cross, headers: [['Referer', 'https://app.test/page?x=1'], ['X-Api-Key', 'k']] })).toBe(true)
    expect(needsPreflight({ ...cross, headers: [['X-Api-Key', 'k']] })).toBe(false)
  })

  it.each([
    [answer(403), /got 403/],
    [answer(204), /no Access-Control-Allow-Origin/],
    [answer(204, '', { 'access-control-allow-origin': 'https://other.test' }), /allows origin https:\/\/other.test/],
    [answer(204, '', { 'access-control-allow-origin': 'https://app.test', 'access-control-allow-headers': 'content-type' }), /does not list x-api-key/],
  ])('fails a preflight answer %#', (response, reason) => {
    const verdict = evaluatePreflight(cross, response)
    expect(verdict.ok).toBe(false)
    expect(verdict.reason).toMatch(reason)
    expect(conclusionOf([record('original', forbidden, cross), record('preflight', response, cross)], 'preflight')).toMatch(/browser never sends the actual request/)
  })

  it('passes a preflight that allows origin, method and headers', () => {
    const ok = answer(204, '', { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'Content-Type, X-Api-Key' })
    expect(evaluatePreflight(cross, ok).ok).toBe(true)
    expect(evaluatePreflight({ ...cross, method: 'DELETE' }, ok).reason).toMatch(/DELETE is not in Access-Control-Allow-Methods/)
  })
})

describe('minimal reproduction', () => {
  it('keeps only removals that did not change the denial and picks the smallest request', () => {
    const small: RequestSpec = { ...post, headers: [], body: '{}' }
    const records = [
      record('original', forbidden),
      record('no-credentials', forbidden, { ...post, headers: [['Content-Type', 'application/json']] }),
      record('minimal-body', forbidden, { ...post, body: '{}' }),
      record('get', answer(200), { ...post, method: 'GET', body: undefined, headers: [] }),
      record('minimal', forbidden, small),
    ]
    expect(listIrrelevantParts(records)).toEqual(['no-credentials', 'minimal-body'])
    expect(chooseMinimal(records)?.variation).toBe('minimal')
  })

  it('falls back to the original when every variation changed the answer', () => {
    const records = [record('original', forbidden), record('no-credentials', answer(200), { ...post, headers: [] })]
    expect(chooseMinimal(records)?.variation).toBe('original')
    expect(listIrrelevantParts(records)).toEqual([])
  })
})

describe('GET and body together', () => {
  it('does not blame the method when a minimal body passes too', () => {
    const records = [record('original', forbidden), record('minimal-body', answer(201)), record('get', answer(200))]
    expect(conclusionOf(records, 'get')).toMatch(/the payload, not the method/)
  })
})
