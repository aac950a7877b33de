import type { IncomingHttpHeaders } from 'node:http'
import { describe, expect, it } from 'vitest'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, PolicyDeps, Respond, Verdict } from '../define.js'
import { corsPolicy } from './index.js'
import { rules } from './rules.js'
import { CorsConfig } from './schema.js'
import { makeDeps } from '../../testing/make-deps.js'

const deps: PolicyDeps = makeDeps()
const app = 'https://app.example.com'
const baseConfig = { origins: [app], methods: ['PUT', 'DELETE'], headers: ['Content-Type', 'x-api-key'] }

function compile(config: unknown) {
  const evaluate = corsPolicy.compile(CorsConfig.parse(config), deps)
  return (method: string, headers: IncomingHttpHeaders) => evaluate(makeContext({ method, headers })) as Verdict
}

function preflight(config: unknown, headers: IncomingHttpHeaders): Verdict {
  return compile(config)('OPTIONS', headers)
}

function as<K extends Verdict['kind']>(verdict: Verdict, kind: K): Extract<Verdict, { kind: K }> {
  if (verdict.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(verdict)}`)
  return verdict as Extract<Verdict, { kind: K }>
}

describe('cors policy: preflight', () => {
  it('answers an allowed preflight with 204 and the Access-Control-Allow-* headers', () => {
    const answer: Respond = as(
      preflight(baseConfig, { origin: app, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,x-api-key' }),
      'respond',
    )
    expect(answer.status).toBe(204)
    expect(answer.headers).toEqual({
      'access-control-allow-origin': app,
      'access-control-allow-methods': 'PUT, DELETE',
      'access-control-allow-headers': 'Content-Type, x-api-key',
      'access-control-max-age': '600',
      vary: 'Origin',
    })
  })

  it('adds Access-Control-Allow-Credentials and the configured max age when set', () => {
    const answer = as(
      preflight({ ...baseConfig, credentials: true, maxAgeSeconds: 7200 }, { origin: app, 'access-control-request-method': 'DELETE' }),
      'respond',
    )
    expect(answer.headers['access-control-allow-credentials']).toBe('true')
    expect(answer.headers['access-control-max-age']).toBe('7200')
  })

  it('refuses a preflight from an unlisted origin with cors.origin-not-allowed naming the origin', () => {
    const denial = as(preflight(baseConfig, { origin: 'https://evil.example', 'access-control-request-method': 'PUT' }), 'deny').denial
    expect(denial.rule).toBe('cors.origin-not-allowed')
    expect(denial.status).toBe(403)
    expect(denial.detail?.origin).toBe('https://evil.example')
    expect(denial.remediation).toContain("Add 'https://evil.example' to routes[orders-create].policies.cors.origins")
  })

  it('points at a configured origin that differs only in scheme or port', () => {
    const denial = as(preflight(baseConfig, { origin: 'http://app.example.com', 'access-control-request-method': 'PUT' }), 'deny').denial
    expect(denial.remediation).toContain(`The list has '${app}'`)
  })

  it('refuses a preflight for an unlisted method with cors.method-not-allowed naming the method', () => {
    const denial = as(preflight(baseConfig, { origin: app, 'access-control-request-method': 'PATCH' }), 'deny').denial
    expect(denial.rule).toBe('cors.method-not-allowed')
    expect(denial.status).toBe(403)
    expect(denial.detail?.method).toBe('PATCH')
    expect(denial.remediation).toContain("Add 'PATCH' to routes[orders-create].policies.cors.methods")
  })

  it('refuses a preflight for an unlisted header with cors.header-not-allowed naming the header', () => {
    const denial = as(
      preflight(baseConfig, { origin: app, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-api-key, x-tenant' }),
      'deny',
    ).denial
    expect(denial.rule).toBe('cors.header-not-allowed')
    expect(denial.status).toBe(403)
    expect(denial.detail?.header).toBe('x-tenant')
    expect(denial.remediation).toContain("Add 'x-tenant' to routes[orders-create].policies.cors.headers")
  })

  it('explains that JSON bodies make browsers ask for content-type', () => {
    const denial = as(
      preflight({ origins: [app] }, { origin: app, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }),
      'deny',
    ).denial
    expect(denial.rule).toBe('cors.header-not-allowed')
    expect(denial.remediation).toContain('application/json')
  })

  it('checks the origin before the method and the method before the headers', () => {
    const headers = { 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'x-nope' }
    expect(as(preflight(baseConfig, { origin: 'https://evil.example', ...headers }), 'deny').denial.rule).toBe('cors.origin-not-allowed')
    expect(as(preflight(baseConfig, { origin: app, ...headers }), 'deny').denial.rule).toBe('cors.method-not-allowed')
  })

  it('never requires the CORS-safelisted methods or headers to be listed', () => {
    const answer = as(
      preflight({ origins: [app] }, {
        origin: app,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'accept, accept-language, content-language, range',
      }),
      'respond',
    )
    expect(answer.headers['access-control-allow-methods']).toBe('POST')
    // Echoed, because the browser only named them for unusual values and checks the answer lists them.
    expect(answer.headers['access-control-allow-headers']).toBe('accept, accept-language, content-language, range')
  })

  it('matches methods case-insensitively and echoes the spelling the browser compares', () => {
    const answer = as(preflight({ origins: [app], methods: ['patch'] }, { origin: app, 'access-control-request-method': 'PATCH' }), 'respond')
    expect(answer.headers['access-control-allow-methods']).toBe('patch, PATCH')
  })

  it("echoes any method and header for '*'", () => {
    const answer = as(
      preflight({ origins: [app], methods: ['*'], headers: ['*'], credentials: true }, {
        origin: app,
        'access-control-request-method': 'PURGE',
        'access-control-request-headers': 'authorization,x-trace',
      }),
      'respond',
    )
    expect(answer.headers['access-control-allow-methods']).toBe('PURGE')
    expect(answer.headers['access-control-allow-headers']).toBe('authorization, x-trace')
    expect(answer.headers.vary).toContain('Access-Control-Request-Headers')
  })

  it("answers any origin with '*' when origins is '*'", () => {
    const answer = as(preflight({ origins: ['*'], methods: ['PUT'] }, { origin: 'https://any.example', 'access-control-request-method': 'PUT' }), 'respond')
    expect(answer.headers['access-control-allow-origin']).toBe('*')
  })

  it('refuses a malformed requested method', () => {
    const denial = as(preflight({ origins: [app], methods: ['*'] }, { origin: app, 'access-control-request-method': 'P UT' }), 'deny').denial
    expect(denial.rule).toBe('cors.method-not-allowed')
  })

  it('refuses a preflight naming an absurd number of headers', () => {
    const many = Array.from({ length: 100 }, (_, i) => `x-h${i}`).join(',')
    const denial = as(
      preflight({ origins: [app], headers: ['*'] }, { origin: app, 'access-control-request-method': 'POST', 'access-control-request-headers': many }),
      'deny',
    ).denial
    expect(denial.rule).toBe('cors.header-not-allowed')
  })
})

describe('cors policy: actual requests', () => {
  it('adds Allow-Origin, Vary and Expose-Headers (always with Gatehouse-Decision and X-Request-Id) for an allowed origin', () => {
    const verdict: Allow = as(compile({ ...baseConfig, exposeHeaders: ['ETag', 'x-request-id'] })('POST', { origin: app }), 'allow')
    expect(verdict.responseHeaders).toEqual({
      'access-control-allow-origin': app,
      'access-control-expose-headers': 'ETag, x-request-id, Gatehouse-Decision',
      vary: 'Origin',
    })
  })

  it('adds Allow-Credentials for an allowed origin when credentials is on', () => {
    const verdict = as(compile({ origins: [app], credentials: true })('GET', { origin: app }), 'allow')
    expect(verdict.responseHeaders?.['access-control-allow-credentials']).toBe('true')
  })

  it('lets a request from an unlisted origin through without CORS headers, noting it in the trace', () => {
    const verdict = as(compile(baseConfig)('DELETE', { origin: 'https://evil.example' }), 'allow')
    expect(verdict.responseHeaders).toBeUndefined()
    expect(verdict.detail).toEqual({ origin: 'https://evil.example', allowed: false })
  })

  it('treats OPTIONS without Access-Control-Request-Method as an actual request', () => {
    const verdict = as(compile(baseConfig)('OPTIONS', { origin: app }), 'allow')
    expect(verdict.responseHeaders?.['access-control-allow-origin']).toBe(app)
  })

  it('passes requests without Origin untouched', () => {
    const evaluate = compile(baseConfig)
    const verdict = as(evaluate('OPTIONS', { 'access-control-request-method': 'PATCH' }), 'allow')
    expect(verdict).toEqual({ kind: 'allow' })
    expect(evaluate('POST', {})).toBe(verdict)
  })

  it('reuses one frozen verdict per allowed origin so the hot path allocates nothing', () => {
    const evaluate = compile(baseConfig)
    const first = as(evaluate('GET', { origin: app }), 'allow')
    expect(evaluate('GET', { origin: app })).toBe(first)
    expect(Object.isFrozen(first.responseHeaders)).toBe(true)
  })
})

describe('cors config', () => {
  it('spells its rule ids in rules.ts as cors.<rule>', () => {
    expect(Object.values(rules).map((r) => r.id)).toEqual(['cors.origin-not-allowed', 'cors.method-not-allowed', 'cors.header-not-allowed'])
    expect(corsPolicy.order).toBe(200)
  })

  it.each([
    [{ origins: ['*'], credentials: true }, ['credentials'], "credentials: true cannot be combined with origins: ['*']"],
    [{ origins: [app, '*'] }, ['origins', 1], "'*' already allows every origin"],
    [{ origins: ['https://app.example.com/'] }, ['origins', 0], "'https://app.example.com/' is not an origin: write scheme://host[:port] with no path, query or trailing slash, e.g. 'https://app.example.com'"],
    [{ origins: ['https://app.example.com/api'] }, ['origins', 0], "'https://app.example.com/api' is not an origin"],
    [{ origins: ['app.example.com'] }, ['origins', 0], "'app.example.com' is not an origin"],
    [{ origins: ['https://App.Example.com'] }, ['origins', 0], "'https://App.Example.com' never matches: browsers send this origin as 'https://app.example.com'"],
    [{ origins: ['https://app.example.com:443'] }, ['origins', 0], "browsers send this origin as 'https://app.example.com'"],
    [{ origins: ['https://*.example.com'] }, ['origins', 0], "'https://*.example.com' has a wildcard"],
    [{ origins: ['null'] }, ['origins', 0], "'null' is the origin of sandboxed iframes"],
    [{ origins: [] }, ['origins'], "List at least one origin, or '*' for any."],
    [{}, ['origins'], 'Invalid input: expected array, received undefined'],
    [{ origins: [app], methods: ['GET POST'] }, ['methods', 0], "'GET POST' is not an HTTP method name"],
    [{ origins: [app], headers: ['x-ok', 'x bad'] }, ['headers', 1], "'x bad' is not an HTTP header name"],
    [{ origins: [app], exposeHeaders: ['etag:'] }, ['exposeHeaders', 0], "'etag:' is not an HTTP header name"],
    [{ origins: [app], maxAgeSeconds: -1 }, ['maxAgeSeconds'], 'Too small: expected number to be >=0'],
    [{ origins: [app], maxAgeSeconds: 1.5 }, ['maxAgeSeconds'], 'Invalid input: expected int, received number'],
    [{ origins: [app], credentials: 'yes' }, ['credentials'], 'Invalid input: expected boolean, received string'],
    [{ origins: [app], allowOrigins: [app] }, [], 'Unrecognized key: "allowOrigins"'],
  ])('rejects config %j at path %j', (config, path, message) => {
    const result = CorsConfig.safeParse(config)
    expect(result.success).toBe(false)
    const issue = result.error?.issues[0]
    expect(issue?.path).toEqual(path)
    expect(issue?.message).toContain(message)
  })

  it.each([[['*']], [[app, 'http://localhost:3000']], [['capacitor://localhost']], [['http://[::1]:8080']]])('accepts origins %j', (origins) => {
    expect(CorsConfig.safeParse({ origins }).success).toBe(true)
  })
})
