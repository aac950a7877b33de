import { randomBytes, scryptSync } from 'node:crypto'
import { generateKeyPair, exportSPKI, exportJWK, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { hashKey, keyFingerprint } from '../../core/keys.js'
import type { RequestContext } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { authnPolicy } from './index.js'
import { AuthnConfig } from './schema.js'
import { signSession } from './session.js'
import { allowOf as allowed, denialOf as denied } from '../../testing/verdicts.js'

const SECRET = 'test-secret-that-is-long-enough-for-hs256!!'
const ACME_KEY = 'gh_acme_0a1b2c3d4e5f'

function makeDeps(overrides: Partial<PolicyDeps> = {}): PolicyDeps {
  return {
    clock: fakeClock(),
    consumers: [
      { name: 'acme-app', tenant: 'acme', keyHashes: [hashKey(ACME_KEY)], scopes: ['orders:read'] },
      { name: 'globex', keyHashes: [hashKey('gh_globex_99')], scopes: ['orders:write'] },
    ],
    routeName: 'orders-create',
    shared: new Map(),
    env: process.env,
    ...overrides,
  }
}

function compile(raw: unknown, deps = makeDeps()) {
  const config = AuthnConfig.parse(raw)
  return authnPolicy.compile(config, deps)
}

async function run(evaluate: (ctx: RequestContext) => Verdict | Promise<Verdict>, headers: Record<string, string>): Promise<Verdict> {
  return evaluate(makeContext({ method: 'POST', url: '/orders', headers }))
}

async function hsToken(claims: Record<string, unknown>, clock = fakeClock()): Promise<string> {
  const now = Math.floor(clock.now() / 1000)
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(Buffer.from(SECRET))
}

describe('authn policy: API keys', () => {
  const evaluate = compile({ methods: ['key'] })

  it('accepts a consumer key in X-API-Key and returns its identity synchronously', () => {
    const verdict = evaluate(makeContext({ headers: { 'X-API-Key': ACME_KEY } }))
    expect(verdict).not.toBeInstanceOf(Promise)
    expect(allowed(verdict as Verdict).identity).toEqual({
      consumer: 'acme-app',
      tenant: 'acme',
      method: 'key',
      scopes: ['orders:read'],
      claims: { keyId: keyFingerprint(hashKey(ACME_KEY)) },
    })
    // What the stored trace shows for this layer: who, and by which key, never the key.
    expect((verdict as Allow).detail).toEqual({ method: 'key', consumer: 'acme-app', keyId: keyFingerprint(hashKey(ACME_KEY)) })
  })

  it('accepts a key as Authorization: ApiKey, with the scheme in any case', async () => {
    expect(allowed(await run(evaluate, { authorization: `ApiKey ${ACME_KEY}` })).identity?.consumer).toBe('acme-app')
    expect(allowed(await run(evaluate, { authorization: `apikey ${ACME_KEY}` })).identity?.consumer).toBe('acme-app')
  })

  it('accepts a key as Authorization: Bearer when jwt is not configured (OpenAI-style clients)', async () => {
    expect(allowed(await run(evaluate, { authorization: 'Bearer gh_globex_99' })).identity?.consumer).toBe('globex')
  })

  it('reads the key from a configured header instead', async () => {
    const custom = compile({ methods: ['key'], key: { header: 'X-Gatehouse-Key' } })
    expect(allowed(await run(custom, { 'x-gatehouse-key': ACME_KEY })).identity?.consumer).toBe('acme-app')
    expect(denied(await run(custom, { 'x-api-key': ACME_KEY })).rule).toBe('authn.missing-credentials')
  })

  it('denies a request without credentials with 401 and an ApiKey challenge', async () => {
    const denial = denied(await run(evaluate, {}))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.status).toBe(401)
    expect(denial.headers).toEqual({ 'www-authenticate': 'ApiKey realm="gatehouse"' })
    expect(denial.detail).toEqual({ attempts: [{ method: 'key', result: 'missing' }] })
  })

  it('denies a wrong key with key-invalid, naming the key only by fingerprint', async () => {
    const denial = denied(await run(evaluate, { 'x-api-key': 'gh_acme_wrong' }))
    expect(denial.rule).toBe('authn.key-invalid')
    expect(denial.status).toBe(401)
    expect(denial.detail?.keyId).toBe(keyFingerprint(hashKey('gh_acme_wrong')))
    expect(denial.headers?.['www-authenticate']).toBe('ApiKey realm="gatehouse"')
    expect(JSON.stringify(denial)).not.toContain('gh_acme_wrong')
  })

  it('names the Authorization header as the source of a wrong ApiKey', async () => {
    const denial = denied(await run(evaluate, { authorization: 'ApiKey wrong' }))
    expect(denial.rule).toBe('authn.key-invalid')
    expect(denial.detail?.source).toBe('Authorization')
  })

  it('denies an empty key as invalid rather than missing', async () => {
    const denial = denied(await run(evaluate, { 'x-api-key': '' }))
    expect(denial.rule).toBe('authn.key-invalid')
    expect(denial.detail?.reason).toBe('empty')
  })

  it('tells a caller using an unsupported scheme which ones work', async () => {
    const denial = denied(await run(evaluate, { authorization: 'Basic dXNlcjpwYXNz' }))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.detail?.unsupportedScheme).toBe('Basic')
    expect(denial.message).toContain("'Basic' authorization scheme is not accepted")
  })

  it('lets a good ApiKey through even when the key header holds a stale key', async () => {
    const verdict = await run(evaluate, { 'x-api-key': 'old-key', authorization: `ApiKey ${ACME_KEY}` })
    expect(allowed(verdict).identity?.consumer).toBe('acme-app')
  })
})

describe('authn policy: key and jwt together', () => {
  const deps = makeDeps()
  const evaluate = compile({ methods: ['key', 'jwt'], jwt: { secret: SECRET } }, deps)

  it('offers one challenge per method when nothing was sent', async () => {
    const denial = denied(await run(evaluate, {}))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.headers?.['www-authenticate']).toBe('ApiKey realm="gatehouse", Bearer realm="gatehouse"')
    expect(denial.detail?.attempts).toEqual([
      { method: 'key', result: 'missing' },
      { method: 'jwt', result: 'missing' },
    ])
  })

  it('treats Authorization: Bearer as a JWT, not a key, when jwt is configured', async () => {
    const denial = denied(await run(evaluate, { authorization: `Bearer ${ACME_KEY}` }))
    expect(denial.rule).toBe('authn.jwt-malformed')
    expect(denial.headers?.['www-authenticate']).toBe(
      'ApiKey realm="gatehouse", Bearer realm="gatehouse", error="invalid_token", error_description="The token is malformed"',
    )
  })

  it('accepts either credential', async () => {
    expect(allowed(await run(evaluate, { 'x-api-key': ACME_KEY })).identity?.method).toBe('key')
    const token = await hsToken({ sub: 'acme-app', scope: 'orders:write' })
    const identity = allowed(await run(evaluate, { authorization: `Bearer ${token}` })).identity
    expect(identity).toMatchObject({ consumer: 'acme-app', tenant: 'acme', method: 'jwt' })
    // Token scopes merge with the configured consumer's.
    expect(identity?.scopes.sort()).toEqual(['orders:read', 'orders:write'])
  })

  it('denies once with the most specific failure and lists every attempt', async () => {
    const expired = await new SignJWT({ sub: 'acme-app' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(deps.clock.now() / 1000) - 3600)
      .sign(Buffer.from(SECRET))
    const denial = denied(await run(evaluate, { 'x-api-key': 'wrong', authorization: `Bearer ${expired}` }))
    expect(denial.rule).toBe('authn.jwt-expired')
    expect(denial.status).toBe(401)
    expect(denial.detail?.attempts).toEqual([
      expect.objectContaining({ method: 'key', result: 'invalid', rule: 'authn.key-invalid' }),
      expect.objectContaining({ method: 'jwt', result: 'invalid', rule: 'authn.jwt-expired' }),
    ])
    expect(denial.headers?.['www-authenticate']).toBe(
      'ApiKey realm="gatehouse", Bearer realm="gatehouse", error="invalid_token", error_description="The token has expired"',
    )
  })

  it('prefers a wrong key over a token that is not even a JWT', async () => {
    const denial = denied(await run(evaluate, { 'x-api-key': 'wrong', authorization: 'Bearer not-a-jwt' }))
    expect(denial.rule).toBe('authn.key-invalid')
    expect(denial.detail?.attempts).toEqual([
      expect.objectContaining({ method: 'key', rule: 'authn.key-invalid' }),
      expect.objectContaining({ method: 'jwt', rule: 'authn.jwt-malformed' }),
    ])
  })

  it('lists a method that was not tried as missing', async () => {
    const denial = denied(await run(evaluate, { 'x-api-key': 'wrong' }))
    expect(denial.rule).toBe('authn.key-invalid')
    expect(denial.detail?.attempts).toEqual([expect.objectContaining({ method: 'key', result: 'invalid' }), { method: 'jwt', result: 'missing' }])
    expect(denial.headers?.['www-authenticate']).toBe('ApiKey realm="gatehouse", Bearer realm="gatehouse"')
  })

  it('keeps tokens and keys out of every denial', async () => {
    const token = await hsToken({ sub: 'acme-app', iss: 'elsewhere' })
    const strict = compile({ methods: ['key', 'jwt'], jwt: { secret: SECRET, issuer: 'https://id.example.com' } })
    const denial = denied(await run(strict, { 'x-api-key': 'sk-live-very-secret', authorization: `Bearer ${token}` }))
    expect(denial.rule).toBe('authn.jwt-wrong-issuer')
    const text = JSON.stringify(denial)
    expect(text).not.toContain('sk-live-very-secret')
    expect(text).not.toContain(token.split('.')[2])
    expect(text).not.toContain(SECRET)
  })
})

describe('authn policy: JWT identity', () => {
  it('takes the consumer from a configured claim, scopes from scp and the tenant from a claim', async () => {
    const evaluate = compile({ methods: ['jwt'], jwt: { secret: SECRET, consumerClaim: 'client_id', tenantClaim: 'org' } })
    const token = await hsToken({ sub: 'user-1', client_id: 'mobile', org: 'initech', scp: ['orders:read', 'profile'] })
    const identity = allowed(await run(evaluate, { authorization: `Bearer ${token}` })).identity
    expect(identity).toEqual({
      consumer: 'mobile',
      tenant: 'initech',
      method: 'jwt',
      scopes: ['orders:read', 'profile'],
      claims: { sub: 'user-1', exp: expect.any(Number) },
    })
  })

  it('denies a verified token that does not name its consumer', async () => {
    const evaluate = compile({ methods: ['jwt'], jwt: { secret: SECRET } })
    const denial = denied(await run(evaluate, { authorization: `Bearer ${await hsToken({ scope: 'a' })}` }))
    expect(denial.rule).toBe('authn.jwt-missing-claim')
    expect(denial.status).toBe(401)
    expect(denial.detail?.claim).toBe('sub')
  })

  it('reads an HMAC secret from env:NAME at load time', async () => {
    process.env.GATEHOUSE_TEST_JWT_SECRET = SECRET
    try {
      const evaluate = compile({ methods: ['jwt'], jwt: { secret: 'env:GATEHOUSE_TEST_JWT_SECRET' } })
      const verdict = await run(evaluate, { authorization: `Bearer ${await hsToken({ sub: 'acme-app' })}` })
      expect(allowed(verdict).identity?.consumer).toBe('acme-app')
    } finally {
      delete process.env.GATEHOUSE_TEST_JWT_SECRET
    }
  })

  it('refuses to load when the env secret is missing, naming the variable', () => {
    expect(() => compile({ methods: ['jwt'], jwt: { secret: 'env:GATEHOUSE_TEST_UNSET_SECRET' } })).toThrow(/GATEHOUSE_TEST_UNSET_SECRET/)
  })
})

describe('authn config', () => {
  it('fills defaults', () => {
    const config = AuthnConfig.parse({ methods: ['key', 'jwt'], key: {}, jwt: { jwksUrl: 'https://id.example.com/jwks.json' } })
    expect(config.key?.header).toBe('x-api-key')
    expect(config.jwt).toMatchObject({ clockSkewSeconds: 30, jwksCacheSeconds: 600, jwksCooldownSeconds: 30, scopesClaim: 'scope', consumerClaim: 'sub', requireExpiration: true })
  })

  it('accepts a public key as PEM or as JWK JSON', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true })
    const pem = await exportSPKI(publicKey)
    const jwk = JSON.stringify(await exportJWK(publicKey))
    expect(AuthnConfig.safeParse({ methods: ['jwt'], jwt: { publicKey: pem } }).success).toBe(true)
    expect(AuthnConfig.safeParse({ methods: ['jwt'], jwt: { publicKey: jwk, algorithms: ['ES256'] } }).success).toBe(true)
  })

  it('marks the HMAC secret as secret for redaction', () => {
    const secret = AuthnConfig.shape.jwt.unwrap().shape.secret
    expect(secret.meta()?.secret).toBe(true)
  })

  it.each([
    [{}, ['methods'], 'expected array'],
    [{ methods: [] }, ['methods'], "list at least one method: 'key', 'jwt', 'basic'"],
    [{ methods: ['password'] }, ['methods', 0], 'Invalid option'],
    [{ methods: ['key', 'key'] }, ['methods'], 'each method may be listed once'],
    [{ methods: ['key'], extra: 1 }, [], 'Unrecognized key: "extra"'],
    [{ methods: ['key'], key: { header: 'x api key' } }, ['key', 'header'], 'must be an HTTP header name'],
    [{ methods: ['key'], key: { headr: 'x' } }, ['key'], 'Unrecognized key: "headr"'],
    [{ methods: ['key'], jwt: { secret: SECRET } }, ['jwt'], "jwt options are set but methods does not include 'jwt'"],
    [{ methods: ['jwt'] }, ['methods'], 'give exactly one of jwt.secret, jwt.publicKey or jwt.jwksUrl'],
    [{ methods: ['jwt'], jwt: {} }, ['jwt'], 'give exactly one of jwt.secret, jwt.publicKey or jwt.jwksUrl'],
    [{ methods: ['jwt'], jwt: { secret: SECRET, jwksUrl: 'https://a.example/jwks' } }, ['jwt'], 'not jwt.secret and jwt.jwksUrl'],
    [{ methods: ['jwt'], jwt: { secret: 'short' } }, ['jwt', 'secret'], 'at least 32 bytes'],
    [{ methods: ['jwt'], jwt: { secret: SECRET, algorithms: ['RS256'] } }, ['jwt', 'algorithms', 0], "'RS256' cannot be verified with jwt.secret"],
    [{ methods: ['jwt'], jwt: { jwksUrl: 'https://a.example/jwks', algorithms: ['HS256'] } }, ['jwt', 'algorithms', 0], "'HS256' cannot be verified with jwt.jwksUrl"],
    [{ methods: ['jwt'], jwt: { secret: SECRET, algorithms: ['none'] } }, ['jwt', 'algorithms', 0], 'Invalid option'],
    [{ methods: ['jwt'], jwt: { publicKey: 'not a key' } }, ['jwt', 'publicKey'], 'not a readable public key'],
    [{ methods: ['jwt'], jwt: { publicKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' } }, ['jwt', 'publicKey'], 'this is a private key'],
    [{ methods: ['jwt'], jwt: { jwksUrl: 'http://id.example.com/jwks' } }, ['jwt', 'jwksUrl'], 'must be https'],
    [{ methods: ['jwt'], jwt: { jwksUrl: 'jwks.json' } }, ['jwt', 'jwksUrl'], 'must be an absolute URL'],
    [{ methods: ['jwt'], jwt: { secret: SECRET, clockSkewSeconds: -1 } }, ['jwt', 'clockSkewSeconds'], 'Too small'],
    [{ methods: ['jwt'], jwt: { secret: SECRET, audience: [] } }, ['jwt', 'audience'], 'Too small: expected array to have >=1 items'],
  ])('refuses %j', (raw, path, message) => {
    const result = AuthnConfig.safeParse(raw)
    expect(result.success).toBe(false)
    const issue = result.error?.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path))
    expect(issue, JSON.stringify(result.error?.issues)).toBeDefined()
    expect(issue?.message).toContain(message)
  })

  it('accepts plain http only for loopback JWKS URLs', () => {
    expect(AuthnConfig.safeParse({ methods: ['jwt'], jwt: { jwksUrl: 'http://127.0.0.1:9000/jwks' } }).success).toBe(true)
    expect(AuthnConfig.safeParse({ methods: ['jwt'], jwt: { jwksUrl: 'http://localhost/jwks' } }).success).toBe(true)
  })
})

describe('authn policy: several methods failing at once', () => {
  const SESSION_SECRET = 'session-secret-for-index-tests-0123456'
  const HMAC_SECRET = 'hmac-secret-for-index-tests-0123456789'
  const passwordHash = (password: string) => {
    const salt = randomBytes(16)
    return `scrypt$1024$8$1$${salt.toString('base64')}$${scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`
  }
  const raw = {
    methods: ['key', 'basic', 'hmac', 'session'],
    basic: { users: [{ username: 'alice', password: passwordHash('wonderland'), consumer: 'acme-app' }] },
    hmac: { keys: [{ id: 'k1', secret: HMAC_SECRET, consumer: 'globex' }] },
    session: { secret: SESSION_SECRET },
  }
  const deps = makeDeps()
  const evaluate = compile(raw, deps)
  const nowS = Math.floor(deps.clock.now() / 1000)
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

  it('offers every HTTP challenge when nothing is sent', async () => {
    const denial = denied(await run(evaluate, {}))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.headers?.['www-authenticate']).toBe(
      'ApiKey realm="gatehouse", Basic realm="gatehouse", charset="UTF-8", Signature realm="gatehouse",headers="(request-target) host date"',
    )
    expect(denial.detail?.attempts).toEqual(raw.methods.map((method) => ({ method, result: 'missing' })))
  })

  it('names the most specific failure and lists every attempt in config order', async () => {
    const expired = signSession({ sub: 'acme-app', exp: nowS - 10 }, SESSION_SECRET)
    const denial = denied(await run(evaluate, { authorization: basic('alice', 'wrong'), cookie: `gh_session=${expired}`, 'x-api-key': 'nope' }))
    expect(denial.rule).toBe('authn.session-expired')
    expect(denial.detail?.attempts).toEqual([
      expect.objectContaining({ method: 'key', rule: 'authn.key-invalid' }),
      expect.objectContaining({ method: 'basic', rule: 'authn.basic-invalid', reason: 'wrong-password' }),
      { method: 'hmac', result: 'missing' },
      expect.objectContaining({ method: 'session', rule: 'authn.session-expired' }),
    ])
  })

  it('prefers a wrong password over an unknown signing key, and keeps every secret out', async () => {
    const signature = Buffer.alloc(32, 7).toString('base64')
    const denial = denied(await run(evaluate, { authorization: basic('alice', 'hunter2-secret'), signature: `keyId="k9",signature="${signature}"` }))
    expect(denial.rule).toBe('authn.basic-invalid')
    expect(denial.detail?.attempts).toEqual([
      { method: 'key', result: 'missing' },
      expect.objectContaining({ method: 'basic', rule: 'authn.basic-invalid' }),
      expect.objectContaining({ method: 'hmac', rule: 'authn.hmac-unknown-key' }),
      { method: 'session', result: 'missing' },
    ])
    const text = JSON.stringify(denial)
    for (const secret of ['hunter2-secret', signature, HMAC_SECRET, SESSION_SECRET]) expect(text).not.toContain(secret)
  })

  it('lets the first method that proves the caller win over failures of others', async () => {
    const good = signSession({ sub: 'acme-app', exp: nowS + 60 }, SESSION_SECRET)
    const verdict = await run(evaluate, { authorization: basic('alice', 'wrong'), cookie: `gh_session=${good}` })
    expect(allowed(verdict).identity?.method).toBe('session')
  })

  it('breaks a tie between equally specific failures by the order of auth.methods', async () => {
    const forged = `${Buffer.from('{"sub":"x","exp":1}').toString('base64url')}.${Buffer.alloc(32).toString('base64url')}`
    const headers = { authorization: basic('alice', 'wrong'), cookie: `gh_session=${forged}` }
    const basicFirst = compile({ ...raw, methods: ['basic', 'session'], hmac: undefined }, deps)
    const sessionFirst = compile({ ...raw, methods: ['session', 'basic'], hmac: undefined }, deps)
    expect(denied(await run(basicFirst, headers)).rule).toBe('authn.basic-invalid')
    expect(denied(await run(sessionFirst, headers)).rule).toBe('authn.session-invalid')
  })

  it('still accepts a good password next to a bad cookie', async () => {
    const verdict = await run(evaluate, { authorization: basic('alice', 'wonderland'), cookie: 'gh_session=broken' })
    expect(allowed(verdict).identity).toMatchObject({ consumer: 'acme-app', method: 'basic' })
  })
})

describe('authn config warnings', () => {
  const lint = (raw: unknown, policies: Record<string, unknown> = {}) => authnPolicy.lint?.(AuthnConfig.parse(raw), { name: 'r', policies }) ?? []

  it('warns when session cookies authenticate a route without the csrf layer', () => {
    const raw = { methods: ['key', 'session'], session: { secret: 'env:S' } }
    expect(lint(raw)).toEqual([{ path: ['methods', 1], message: expect.stringContaining("no 'csrf' policy") }])
    expect(lint(raw, { csrf: { origins: ['https://app.example.com'] } })).toEqual([])
  })

  it('warns when signatures need not cover the request target or host', () => {
    const raw = { methods: ['hmac'], hmac: { keys: [{ id: 'k', secret: 'env:K', consumer: 'c' }], requiredHeaders: ['date'] } }
    expect(lint(raw).map((f) => f.message)).toEqual([expect.stringContaining("'(request-target)'"), expect.stringContaining("'host'")])
    expect(lint({ methods: ['hmac'], hmac: { keys: [{ id: 'k', secret: 'env:K', consumer: 'c' }] } })).toEqual([])
  })
})
