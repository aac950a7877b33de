import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import { startUpstream, type TestUpstream } from '../../testing/start-upstream.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { authnPolicy } from './index.js'
import { IntrospectionClient, looksLikeJwt } from './introspection.js'
import { AuthnConfig } from './schema.js'
import { allowOf as allowed, denialOf as denied } from '../../testing/verdicts.js'

const CLIENT_SECRET = 'gateway-client-secret'
const JWT_SECRET = 'jwt-secret-for-introspection-tests-0123'
const clock = fakeClock()
const NOW_S = Math.floor(clock.now() / 1000)

/** Token → answer the fake authorization server gives; anything else is inactive. */
const answers: Record<string, Record<string, unknown>> = {
  'opaque-alice': { active: true, sub: 'acme-app', scope: 'orders:write profile', client_id: 'mobile', exp: NOW_S + 3600 },
  'opaque-client': { active: true, client_id: 'batch-job', scope: 'reports:read' },
  'opaque-soon': { active: true, sub: 'acme-app', exp: NOW_S + 20 },
}

let server: TestUpstream
let introspectUrl: string

function makeDeps(): PolicyDeps {
  return {
    clock,
    consumers: [{ name: 'acme-app', tenant: 'acme', keyHashes: [], scopes: ['orders:read'] }],
    routeName: 'orders',
    shared: new Map(),
    env: { INTROSPECT_SECRET: CLIENT_SECRET },
  }
}

function compile(extra: Record<string, unknown> = {}, methods = ['introspection'], deps = makeDeps()) {
  const config = AuthnConfig.parse({
    methods,
    introspection: { url: introspectUrl, clientId: 'gatehouse', clientSecret: 'env:INTROSPECT_SECRET', ...extra },
    ...(methods.includes('jwt') ? { jwt: { secret: JWT_SECRET } } : {}),
  })
  return { evaluate: authnPolicy.compile(config, deps), deps }
}

function bearer(token: string) {
  return makeContext({ headers: { authorization: `Bearer ${token}` } })
}

beforeAll(async () => {
  server = await startUpstream((_req, res, body) => {
    const token = new URLSearchParams(body.toString('utf8')).get('token') ?? ''
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(answers[token] ?? { active: false }))
  })
  introspectUrl = `${server.url}/oauth2/introspect`
})
afterAll(() => server.close())
beforeEach(() => {
  server.requests.length = 0
})

describe('authn policy: token introspection (RFC 7662)', () => {
  it('allows an active token as its sub, with its scopes, after a form POST with client credentials', async () => {
    const { evaluate } = compile()
    const verdict = allowed(await evaluate(bearer('opaque-alice')))
    expect(verdict.identity).toMatchObject({ consumer: 'acme-app', tenant: 'acme', method: 'introspection', claims: { sub: 'acme-app', client_id: 'mobile' } })
    expect(verdict.identity?.scopes.sort()).toEqual(['orders:read', 'orders:write', 'profile'])
    const sent = server.requests[0]
    expect(sent.method).toBe('POST')
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from(`gatehouse:${CLIENT_SECRET}`).toString('base64')}`)
    expect(new URLSearchParams(sent.body.toString()).get('token')).toBe('opaque-alice')
  })

  it('falls back to client_id when the answer has no sub', async () => {
    const { evaluate } = compile()
    expect(allowed(await evaluate(bearer('opaque-client'))).identity).toMatchObject({ consumer: 'batch-job', scopes: ['reports:read'] })
  })

  it('denies an inactive token with token-inactive and an invalid_token challenge, without the token', async () => {
    const { evaluate } = compile()
    const denial = denied(await evaluate(bearer('revoked-token-123')))
    expect(denial.rule).toBe('authn.token-inactive')
    expect(denial.status).toBe(401)
    expect(denial.detail?.reason).toBe('active is false')
    expect(denial.headers).toEqual({ 'www-authenticate': 'Bearer realm="gatehouse", error="invalid_token", error_description="The token is not active"' })
    expect(JSON.stringify(denial)).not.toContain('revoked-token-123')
  })

  it('caches active and inactive answers, answering synchronously, until cacheSeconds pass', async () => {
    const { evaluate } = compile({ cacheSeconds: 30 })
    await evaluate(bearer('opaque-client'))
    await evaluate(bearer('nope'))
    expect(server.requests).toHaveLength(2)
    const hot = evaluate(bearer('opaque-client'))
    expect(hot).not.toBeInstanceOf(Promise)
    expect(allowed(hot as Verdict).identity?.consumer).toBe('batch-job')
    expect(denied(evaluate(bearer('nope')) as Verdict).rule).toBe('authn.token-inactive')
    expect(server.requests).toHaveLength(2)
    clock.advance(31_000)
    await evaluate(bearer('opaque-client'))
    expect(server.requests).toHaveLength(3)
  })

  it('never keeps an active answer past the token’s exp', async () => {
    const { evaluate } = compile({ cacheSeconds: 600 })
    const start = clock.now()
    clock.set(NOW_S * 1000)
    try {
      expect(allowed(await evaluate(bearer('opaque-soon'))).identity?.consumer).toBe('acme-app')
      clock.advance(25_000)
      const denial = denied(await evaluate(bearer('opaque-soon')))
      expect(denial.rule).toBe('authn.token-inactive')
      expect(denial.detail?.reason).toBe('its exp is past')
      expect(server.requests).toHaveLength(2)
    } finally {
      clock.set(start)
    }
  })

  it('shares one introspection call among concurrent requests with the same token', async () => {
    const { evaluate, deps } = compile()
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => evaluate(bearer('opaque-alice'))))
    expect(verdicts.every((v) => v.kind === 'allow')).toBe(true)
    expect(server.requests).toHaveLength(1)
    const client = [...deps.shared.values()].find((v) => v instanceof IntrospectionClient)
    expect(client?.requestCount).toBe(1)
  })

  it('fails closed with 503 introspection-unavailable when the endpoint is down', async () => {
    const down = await startUpstream()
    const url = `${down.url}/introspect`
    await down.close()
    const { evaluate } = compile({ url })
    const denial = denied(await evaluate(bearer('opaque-alice')))
    expect(denial.rule).toBe('authn.introspection-unavailable')
    expect(denial.status).toBe(503)
    expect(denial.headers).toEqual({ 'retry-after': '5' })
    expect(String(denial.detail?.reason)).toMatch(/^unreachable/)
  })

  it('fails closed when the endpoint refuses the gateway’s credentials or answers garbage', async () => {
    const angry = await startUpstream((req, res) => {
      if (req.url === '/401') {
        res.statusCode = 401
        return res.end('{"error":"invalid_client"}')
      }
      res.end('<html>maintenance</html>')
    })
    try {
      const refused = denied(await compile({ url: `${angry.url}/401` }).evaluate(bearer('t1')))
      expect(refused.rule).toBe('authn.introspection-unavailable')
      expect(refused.detail?.reason).toBe("answered HTTP 401 (the gateway's client credentials were refused)")
      const garbage = denied(await compile({ url: `${angry.url}/html` }).evaluate(bearer('t1')))
      expect(garbage.detail?.reason).toBe('the answer is not JSON')
    } finally {
      await angry.close()
    }
  })

  it('fails fast for a second after a failure instead of calling a broken server for every token', async () => {
    const broken = await startUpstream((_req, res) => {
      res.statusCode = 500
      res.end()
    })
    try {
      const { evaluate } = compile({ url: `${broken.url}/introspect` })
      expect(denied(await evaluate(bearer('token-a'))).detail?.reason).toBe('answered HTTP 500')
      const fast = evaluate(bearer('token-b'))
      expect(fast).not.toBeInstanceOf(Promise)
      expect(denied(fast as Verdict).detail?.reason).toBe('answered HTTP 500 (not retried for 1000 ms)')
      expect(broken.requests).toHaveLength(1)
      clock.advance(1000)
      await evaluate(bearer('token-b'))
      expect(broken.requests).toHaveLength(2)
    } finally {
      await broken.close()
    }
  })

  it('fails closed when the endpoint does not answer within timeoutMs', async () => {
    const silent: Server = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const port = (silent.address() as AddressInfo).port
      const denial = denied(await compile({ url: `http://127.0.0.1:${port}/introspect`, timeoutMs: 50 }).evaluate(bearer('t2')))
      expect(denial.rule).toBe('authn.introspection-unavailable')
      expect(denial.detail?.reason).toBe('no answer within 50 ms')
    } finally {
      silent.closeAllConnections()
      await new Promise((resolve) => silent.close(resolve))
    }
  })

  it('sends JWT-shaped tokens to jwt and opaque ones to introspection when both are configured', async () => {
    const { evaluate } = compile({}, ['jwt', 'introspection'])
    const jwt = await new SignJWT({ sub: 'acme-app' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(NOW_S + 300).sign(Buffer.from(JWT_SECRET))
    expect(allowed(await evaluate(bearer(jwt))).identity?.method).toBe('jwt')
    expect(server.requests).toHaveLength(0)
    expect(allowed(await evaluate(bearer('opaque-alice'))).identity?.method).toBe('introspection')
    const missing = denied(await evaluate(makeContext()))
    expect(missing.headers).toEqual({ 'www-authenticate': 'Bearer realm="gatehouse"' })
    expect(missing.detail?.attempts).toEqual([
      { method: 'jwt', result: 'missing' },
      { method: 'introspection', result: 'missing' },
    ])
  })

  it('recognises the compact JWT shape', () => {
    expect(looksLikeJwt('a.b.c')).toBe(true)
    expect(looksLikeJwt('opaque')).toBe(false)
    expect(looksLikeJwt('a..c')).toBe(false)
    expect(looksLikeJwt('a.b.c.d')).toBe(false)
  })
})

describe('introspection config', () => {
  const base = { url: 'https://id.example.com/introspect', clientId: 'gh', clientSecret: 'env:X' }
  it('fills defaults', () => {
    expect(AuthnConfig.parse({ methods: ['introspection'], introspection: base }).introspection).toMatchObject({ cacheSeconds: 60, timeoutMs: 2000 })
  })

  it.each([
    [{ methods: ['introspection'] }, ['methods'], "methods includes 'introspection', so give introspection options"],
    [{ methods: ['introspection'], introspection: { ...base, url: 'http://id.example.com/introspect' } }, ['introspection', 'url'], 'must be https'],
    [{ methods: ['introspection'], introspection: { ...base, url: 'introspect' } }, ['introspection', 'url'], 'must be an absolute URL'],
    [{ methods: ['introspection'], introspection: { ...base, timeoutMs: 10 } }, ['introspection', 'timeoutMs'], 'Too small'],
    [{ methods: ['introspection'], introspection: { url: base.url, clientId: 'gh' } }, ['introspection', 'clientSecret'], 'expected string'],
  ])('refuses %j', (raw, path, message) => {
    const result = AuthnConfig.safeParse(raw)
    expect(result.success).toBe(false)
    const issue = result.error?.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path))
    expect(issue, JSON.stringify(result.error?.issues)).toBeDefined()
    expect(issue?.message).toContain(message)
  })
})
