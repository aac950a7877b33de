import { describe, expect, it } from 'vitest'
import type { Identity } from '../../gateway/context.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import type { Verdict } from '../define.js'
import { csrfPolicy, readCookie } from './index.js'
import { CsrfConfig } from './schema.js'

const session: Identity = { consumer: 'alice', method: 'session', scopes: [] }
const apiKey: Identity = { consumer: 'acme-app', method: 'key', scopes: [] }

function evaluateWith(raw: unknown, request: Parameters<typeof makeContext>[0]): Verdict {
  const evaluate = csrfPolicy.compile(CsrfConfig.parse(raw), makeDeps({ routeName: 'profile-update' }))
  const verdict = evaluate(makeContext({ method: 'POST', url: '/profile', ...request }))
  if (verdict instanceof Promise) throw new Error('csrf must answer synchronously')
  return verdict
}

function denialOf(verdict: Verdict) {
  if (verdict.kind !== 'deny') throw new Error(`expected a denial, got ${verdict.kind}`)
  return verdict.denial
}

const trusted = { origins: ['https://app.example.com'] }
const cookie = 'sessionid=abc123; theme=dark'

describe('csrf policy: who is checked', () => {
  it('skips requests authenticated by an API key or bearer token in a header, even with cookies', () => {
    const verdict = evaluateWith(trusted, { identity: apiKey, headers: { cookie, origin: 'https://evil.example' } })
    expect(verdict).toMatchObject({ kind: 'allow', result: 'skip' })
    for (const method of ['jwt', 'introspection', 'hmac', 'basic', 'mtls']) {
      expect(evaluateWith(trusted, { identity: { ...apiKey, method }, headers: { cookie, origin: 'https://evil.example' } }).kind).toBe('allow')
    }
  })

  it('skips anonymous requests without cookies: there is no ambient credential to abuse', () => {
    expect(evaluateWith(trusted, { headers: { origin: 'https://evil.example' } })).toMatchObject({ kind: 'allow', result: 'skip' })
  })

  it('skips safe methods', () => {
    expect(evaluateWith(trusted, { method: 'GET', identity: session, headers: { origin: 'https://evil.example' } })).toMatchObject({ result: 'skip' })
  })

  it('checks session identities even without a Cookie header (the session may come from elsewhere)', () => {
    expect(denialOf(evaluateWith(trusted, { identity: session, headers: { origin: 'https://evil.example' } })).rule).toBe('csrf.origin-not-trusted')
  })

  it('checks only the configured methods', () => {
    const raw = { ...trusted, methods: ['DELETE'] }
    expect(evaluateWith(raw, { identity: session, headers: { origin: 'https://evil.example' } })).toMatchObject({ result: 'skip' })
    expect(evaluateWith(raw, { method: 'DELETE', identity: session, headers: { origin: 'https://evil.example' } }).kind).toBe('deny')
  })
})

describe('csrf policy: origin checks', () => {
  it('refuses a cross-site Origin with 403 csrf.origin-not-trusted and names the origin', () => {
    const denial = denialOf(evaluateWith(trusted, { headers: { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } }))
    expect(denial.rule).toBe('csrf.origin-not-trusted')
    expect(denial.status).toBe(403)
    expect(denial.detail).toMatchObject({ check: 'origin', origin: 'https://evil.example', secFetchSite: 'cross-site' })
    expect(denial.remediation).toContain('routes[].policies.csrf.origins')
    expect(JSON.stringify(denial)).not.toContain('abc123')
  })

  it('trusts Sec-Fetch-Site same-origin, same-site and none without looking further', () => {
    for (const site of ['same-origin', 'same-site', 'none']) {
      expect(evaluateWith(trusted, { headers: { cookie, 'sec-fetch-site': site, origin: 'https://evil.example' } }).kind).toBe('allow')
    }
  })

  it('lets a cross-site request from a listed origin through', () => {
    expect(evaluateWith(trusted, { headers: { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' } })).toMatchObject({ kind: 'allow', detail: { checks: ['origin'] } })
  })

  it("trusts the gateway's own origin from Host and scheme", () => {
    expect(evaluateWith({}, { headers: { cookie, host: 'api.example.com', origin: 'http://api.example.com' } }).kind).toBe('allow')
    expect(evaluateWith({}, { secure: true, headers: { cookie, host: 'api.example.com:443', origin: 'https://api.example.com' } }).kind).toBe('allow')
    // Same host, other scheme: a different origin.
    expect(evaluateWith({}, { secure: true, headers: { cookie, host: 'api.example.com', origin: 'http://api.example.com' } }).kind).toBe('deny')
    expect(evaluateWith({}, { headers: { cookie, host: 'api.example.com:8080', origin: 'http://api.example.com' } }).kind).toBe('deny')
  })

  it("refuses Origin 'null' (sandboxed frames, file: pages)", () => {
    expect(denialOf(evaluateWith(trusted, { headers: { cookie, origin: 'null' } })).detail?.origin).toBe('null')
  })

  it("falls back to the Referer's origin when Origin is absent", () => {
    expect(evaluateWith(trusted, { headers: { cookie, referer: 'https://app.example.com/settings?tab=1' } }).kind).toBe('allow')
    const denial = denialOf(evaluateWith(trusted, { headers: { cookie, referer: 'https://evil.example/page' } }))
    expect(denial.rule).toBe('csrf.origin-not-trusted')
    expect(denial.detail).toMatchObject({ check: 'referer', origin: 'https://evil.example' })
    expect(denialOf(evaluateWith(trusted, { headers: { cookie, referer: 'not a url' } })).detail?.check).toBe('referer')
  })

  it('refuses with csrf.no-referer when neither Origin nor Referer is sent (requireReferer default)', () => {
    const denial = denialOf(evaluateWith(trusted, { headers: { cookie } }))
    expect(denial.rule).toBe('csrf.no-referer')
    expect(denial.status).toBe(403)
    expect(denial.detail).toMatchObject({ check: 'referer', origin: null, referer: null })
    expect(evaluateWith({ ...trusted, requireReferer: false }, { headers: { cookie } }).kind).toBe('allow')
  })
})

describe('csrf policy: double-submit token', () => {
  const withToken = { ...trusted, token: {} }
  const fromApp = { origin: 'https://app.example.com' }
  const token = 'Zt9vT1m4c8kq0Jw2XyR5'

  it('allows when cookie and header carry the same token', () => {
    const verdict = evaluateWith(withToken, { headers: { ...fromApp, cookie: `${cookie}; csrf_token=${token}`, 'x-csrf-token': token } })
    expect(verdict).toMatchObject({ kind: 'allow', detail: { checks: ['origin', 'token'] } })
  })

  it('refuses a missing header with csrf.token-missing and says which part is missing', () => {
    const denial = denialOf(evaluateWith(withToken, { headers: { ...fromApp, cookie: `${cookie}; csrf_token=${token}` } }))
    expect(denial.rule).toBe('csrf.token-missing')
    expect(denial.status).toBe(403)
    expect(denial.detail).toEqual({ check: 'token', cookie: 'csrf_token', cookiePresent: true, header: 'x-csrf-token', headerPresent: false })
    expect(JSON.stringify(denial)).not.toContain(token)
  })

  it('refuses a missing cookie with csrf.token-missing', () => {
    const denial = denialOf(evaluateWith(withToken, { headers: { ...fromApp, cookie, 'x-csrf-token': token } }))
    expect(denial.detail).toMatchObject({ cookiePresent: false, headerPresent: true })
  })

  it('refuses different values with csrf.token-mismatch, never echoing either', () => {
    const denial = denialOf(evaluateWith(withToken, { headers: { ...fromApp, cookie: `csrf_token=${token}`, 'x-csrf-token': `${token.slice(0, -1)}X` } }))
    expect(denial.rule).toBe('csrf.token-mismatch')
    expect(denial.status).toBe(403)
    expect(JSON.stringify(denial)).not.toContain(token.slice(0, 10))
  })

  it('uses the configured cookie and header names', () => {
    const raw = { ...trusted, token: { cookie: 'XSRF-TOKEN', header: 'X-XSRF-TOKEN' } }
    expect(evaluateWith(raw, { headers: { ...fromApp, cookie: `XSRF-TOKEN=${token}`, 'x-xsrf-token': token } }).kind).toBe('allow')
    expect(denialOf(evaluateWith(raw, { headers: { ...fromApp, cookie: `csrf_token=${token}`, 'x-csrf-token': token } })).rule).toBe('csrf.token-missing')
  })

  it('checks the origin before the token', () => {
    const denial = denialOf(evaluateWith(withToken, { headers: { origin: 'https://evil.example', cookie: `csrf_token=${token}`, 'x-csrf-token': token } }))
    expect(denial.rule).toBe('csrf.origin-not-trusted')
  })
})

describe('readCookie', () => {
  it.each([
    ['a=1; csrf_token=xyz; b=2', 'xyz'],
    ['csrf_token="quoted"', 'quoted'],
    ['xcsrf_token=nope; csrf_token=yes', 'yes'],
    ['xcsrf_token=nope', undefined],
    ['csrf_token=', ''],
    ['', undefined],
  ])('reads csrf_token from %j', (header, expected) => {
    expect(readCookie(header, 'csrf_token')).toBe(expected)
  })
})

describe('csrf config', () => {
  it.each([
    [{ origins: ['*'] }, ['origins', 0], 'turns CSRF protection off'],
    [{ origins: ['https://app.example.com/'] }, ['origins', 0], 'is not an origin'],
    [{ origins: ['null'] }, ['origins', 0], 'sandboxed'],
    [{ token: { cookie: 'bad cookie' } }, ['token', 'cookie'], 'is not a cookie name'],
    [{ token: { header: 'x csrf' } }, ['token', 'header'], 'is not an HTTP header name'],
    [{ token: { name: 'x' } }, ['token'], 'name'],
    [{ methods: ['post'] }, ['methods', 0], 'upper-case'],
    [{ methods: [] }, ['methods'], 'list at least one method'],
    [{ requireReferrer: false }, [], 'requireReferrer'],
  ])('refuses %j', (raw, path, message) => {
    const result = CsrfConfig.safeParse(raw)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(JSON.stringify(result.error?.issues[0])).toContain(message)
  })

  it('defaults: same origin only, Referer required, unsafe methods, no token', () => {
    expect(CsrfConfig.parse({})).toEqual({ origins: [], requireReferer: true, methods: ['POST', 'PUT', 'PATCH', 'DELETE'] })
    expect(CsrfConfig.parse({ token: {} }).token).toEqual({ cookie: 'csrf_token', header: 'x-csrf-token' })
  })
})
