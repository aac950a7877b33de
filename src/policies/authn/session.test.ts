import { describe, expect, it } from 'vitest'
import { hashKey } from '../../core/keys.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { authnPolicy } from './index.js'
import { AuthnConfig } from './schema.js'
import { signSession } from './session.js'
import { allowOf as allowed, denialOf as denied } from '../../testing/verdicts.js'

const SECRET = 'session-secret-for-tests-0123456789abc'
const OLD_SECRET = 'previous-session-secret-0123456789abcd'
const clock = fakeClock()
const NOW_S = Math.floor(clock.now() / 1000)

function makeDeps(): PolicyDeps {
  return {
    clock,
    consumers: [
      { name: 'user-42', tenant: 'acme', keyHashes: [], scopes: ['profile'] },
      { name: 'acme-app', keyHashes: [hashKey('acme-key')], scopes: [] },
    ],
    routeName: 'profile',
    shared: new Map(),
    env: { SESSION_SECRET: SECRET },
  }
}

const config = AuthnConfig.parse({ methods: ['session'], session: { secret: 'env:SESSION_SECRET', previousSecrets: [OLD_SECRET], maxAgeSeconds: 3600 } })
const evaluate = authnPolicy.compile(config, makeDeps())

function withCookie(value: string) {
  return makeContext({ headers: { cookie: `theme=dark; gh_session=${value}; lang=en` } })
}

describe('authn policy: signed session cookies', () => {
  it("allows a valid session as its subject, with method 'session' for the csrf layer", () => {
    const cookie = signSession({ sub: 'user-42', scopes: ['orders:read'], exp: NOW_S + 600 }, SECRET)
    const identity = allowed(evaluate(withCookie(cookie))).identity
    expect(identity).toMatchObject({ consumer: 'user-42', tenant: 'acme', method: 'session', claims: { sub: 'user-42', exp: NOW_S + 600 } })
    // Cookie scopes merge with the configured consumer's.
    expect([...(identity?.scopes ?? [])].sort()).toEqual(['orders:read', 'profile'])
  })

  it('takes the tenant from the cookie when the subject is not a configured consumer', () => {
    const identity = allowed(evaluate(withCookie(signSession({ sub: 'visitor', tenant: 'globex', exp: NOW_S + 60 }, SECRET)))).identity
    expect(identity).toMatchObject({ consumer: 'visitor', tenant: 'globex', scopes: [] })
  })

  it('answers a cookie it verified before from memory, until the session ends', () => {
    const local = fakeClock()
    const fresh = authnPolicy.compile(config, { ...makeDeps(), clock: local })
    const cookie = signSession({ sub: 'user-42', exp: NOW_S + 120 }, SECRET)
    const first = allowed(fresh(withCookie(cookie)))
    expect(allowed(fresh(withCookie(cookie)))).toBe(first)
    // Same signature, other payload: not the remembered cookie, so it is verified (and fails).
    const swapped = `${Buffer.from(JSON.stringify({ sub: 'admin', exp: NOW_S + 120 })).toString('base64url')}.${cookie.split('.')[1]}`
    expect(denied(fresh(withCookie(swapped))).rule).toBe('authn.session-invalid')
    local.advance(120_000)
    expect(denied(fresh(withCookie(cookie))).rule).toBe('authn.session-expired')
  })

  it('accepts cookies signed with a previous secret during a rotation', () => {
    expect(allowed(evaluate(withCookie(signSession({ sub: 'user-42', exp: NOW_S + 60 }, OLD_SECRET)))).identity?.consumer).toBe('user-42')
  })

  it('denies a cookie whose payload was edited with session-invalid', () => {
    const good = signSession({ sub: 'user-42', exp: NOW_S + 600 }, SECRET)
    const forged = `${Buffer.from(JSON.stringify({ sub: 'admin', exp: NOW_S + 600 })).toString('base64url')}.${good.split('.')[1]}`
    const denial = denied(evaluate(withCookie(forged)))
    expect(denial.rule).toBe('authn.session-invalid')
    expect(denial.status).toBe(401)
    expect(denial.detail?.reason).toBe('signature does not verify')
    expect(JSON.stringify(denial)).not.toContain(good.split('.')[1])
  })

  it.each([
    ['not <payload>.<signature>', 'abc'],
    ['not base64url', 'a+b.c/d'],
    ['signature is not HMAC-SHA256', 'eyJzdWIiOiJ4In0.c2hvcnQ'],
    ['sub is missing', signSession({ exp: NOW_S + 60 } as never, SECRET)],
    ['exp is missing', signSession({ sub: 'user-42' } as never, SECRET)],
  ])('denies a cookie that is %s with session-invalid', (reason, value) => {
    const denial = denied(evaluate(withCookie(value)))
    expect(denial.rule).toBe('authn.session-invalid')
    expect(denial.detail?.reason).toBe(reason)
  })

  it('denies an expired session with session-expired, saying how long ago', () => {
    const denial = denied(evaluate(withCookie(signSession({ sub: 'user-42', exp: NOW_S - 90 }, SECRET))))
    expect(denial.rule).toBe('authn.session-expired')
    expect(denial.status).toBe(401)
    expect(denial.detail).toMatchObject({ reason: 'exp', expiredSecondsAgo: 90 })
  })

  it('denies a session older than maxAgeSeconds even when its exp is later', () => {
    const denial = denied(evaluate(withCookie(signSession({ sub: 'user-42', iat: NOW_S - 4000, exp: NOW_S + 86_400 }, SECRET))))
    expect(denial.rule).toBe('authn.session-expired')
    expect(denial.detail).toMatchObject({ reason: 'max-age', expiredSecondsAgo: 400 })
  })

  it('sends a Session challenge when the session cookie is the only method', () => {
    const denial = denied(evaluate(makeContext({ headers: { cookie: 'theme=dark' } })))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.headers).toEqual({ 'www-authenticate': 'Session realm="gatehouse"' })
    expect(denial.message).toContain('a session cookie (gh_session)')
  })

  it('leaves the challenge to the HTTP schemes when there are others', () => {
    const both = AuthnConfig.parse({ methods: ['session', 'key'], session: { secret: SECRET } })
    const denial = denied(authnPolicy.compile(both, makeDeps())(withCookie('garbage')))
    expect(denial.rule).toBe('authn.session-invalid')
    expect(denial.headers).toEqual({ 'www-authenticate': 'ApiKey realm="gatehouse"' })
    expect(denial.detail?.attempts).toEqual([expect.objectContaining({ method: 'session', rule: 'authn.session-invalid' }), { method: 'key', result: 'missing' }])
  })
})

describe('session config', () => {
  it('fills defaults', () => {
    expect(AuthnConfig.parse({ methods: ['session'], session: { secret: 'env:S' } }).session).toEqual({ cookie: 'gh_session', secret: 'env:S', maxAgeSeconds: 86_400 })
  })

  it.each([
    [{ methods: ['session'] }, ['methods'], "methods includes 'session', so give session options"],
    [{ methods: ['session'], session: { secret: 'short' } }, ['session', 'secret'], 'at least 32 bytes'],
    [{ methods: ['session'], session: { secret: 'env:S', previousSecrets: ['short'] } }, ['session', 'previousSecrets', 0], 'at least 32 bytes'],
    [{ methods: ['session'], session: { secret: 'env:S', cookie: 'bad name' } }, ['session', 'cookie'], 'must be a cookie name'],
    [{ methods: ['session'], session: { secret: 'env:S', maxAgeSeconds: 10 } }, ['session', 'maxAgeSeconds'], 'Too small'],
  ])('refuses %j', (raw, path, message) => {
    const result = AuthnConfig.safeParse(raw)
    expect(result.success).toBe(false)
    const issue = result.error?.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path))
    expect(issue, JSON.stringify(result.error?.issues)).toBeDefined()
    expect(issue?.message).toContain(message)
  })
})
