import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestContext } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import { startUpstream, type TestUpstream } from '../../testing/start-upstream.js'
import type { Deny, PolicyDeps, Verdict } from '../define.js'
import { authnPolicy } from './index.js'
import { AuthnConfig } from './schema.js'

const START = Date.UTC(2026, 0, 1)
const NOW_S = START / 1000

function makeDeps(clock = fakeClock(START), shared = new Map<string, unknown>()): PolicyDeps & { clock: ReturnType<typeof fakeClock> } {
  return { clock, consumers: [{ name: 'acme-app', tenant: 'acme', keyHashes: [], scopes: ['orders:read'] }], routeName: 'orders-create', shared, env: process.env }
}

function compile(jwt: Record<string, unknown>, deps: PolicyDeps = makeDeps()) {
  return authnPolicy.compile(AuthnConfig.parse({ methods: ['jwt'], jwt }), deps)
}

function bearer(token: string): RequestContext {
  return makeContext({ method: 'POST', url: '/orders', headers: { authorization: `Bearer ${token}` } })
}

function denial(verdict: Verdict): Deny['denial'] {
  if (verdict.kind !== 'deny') throw new Error(`expected a denial, got ${JSON.stringify(verdict)}`)
  return verdict.denial
}

interface SignOptions {
  alg: string
  key: CryptoKey | Uint8Array
  kid?: string
  claims?: Record<string, unknown>
  exp?: number | null
  nbf?: number
}

function sign({ alg, key, kid, claims = {}, exp = NOW_S + 300, nbf }: SignOptions): Promise<string> {
  const jwt = new SignJWT({ sub: 'acme-app', ...claims }).setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
  if (exp !== null) jwt.setExpirationTime(exp)
  if (nbf !== undefined) jwt.setNotBefore(nbf)
  return jwt.sign(key)
}

describe('jwt: algorithm families', () => {
  it.each(['HS256', 'HS384', 'HS512'])('verifies %s with a shared secret', async (alg) => {
    const secret = 'a-shared-secret-of-more-than-64-bytes-so-that-every-hmac-size-is-ok!!'
    const evaluate = compile({ secret })
    const token = await sign({ alg, key: Buffer.from(secret) })
    const verdict = await evaluate(bearer(token))
    expect(verdict).toMatchObject({ kind: 'allow', identity: { consumer: 'acme-app', method: 'jwt', tenant: 'acme' } })
  })

  it.each(['RS256', 'RS512', 'PS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA'])('verifies %s with a public key PEM', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
    const evaluate = compile({ publicKey: await exportSPKI(publicKey) })
    const verdict = await evaluate(bearer(await sign({ alg, key: privateKey })))
    expect(verdict).toMatchObject({ kind: 'allow', identity: { consumer: 'acme-app', method: 'jwt' } })
  })

  it('verifies with a public key given as JWK JSON', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const evaluate = compile({ publicKey: JSON.stringify(await exportJWK(publicKey)) })
    expect((await evaluate(bearer(await sign({ alg: 'ES256', key: privateKey })))).kind).toBe('allow')
  })

  it('denies a token signed by another key with jwt-bad-signature', async () => {
    const trusted = await generateKeyPair('ES256', { extractable: true })
    const forger = await generateKeyPair('ES256')
    const evaluate = compile({ publicKey: await exportSPKI(trusted.publicKey) })
    const d = denial(await evaluate(bearer(await sign({ alg: 'ES256', key: forger.privateKey }))))
    expect(d.rule).toBe('authn.jwt-bad-signature')
    expect(d.status).toBe(401)
    expect(d.headers?.['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_token", error_description="The token signature is invalid"')
  })

  it('denies a token whose payload was altered after signing', async () => {
    const secret = 'tamper-test-secret-with-more-than-32-bytes'
    const evaluate = compile({ secret })
    const token = await sign({ alg: 'HS256', key: Buffer.from(secret) })
    const [h, , s] = token.split('.')
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', exp: NOW_S + 300 })).toString('base64url')
    expect(denial(await evaluate(bearer(`${h}.${forged}.${s}`))).rule).toBe('authn.jwt-bad-signature')
  })

  it('refuses HS256 signed with the public key text (algorithm confusion) before any crypto', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = await exportSPKI(publicKey)
    const evaluate = compile({ publicKey: pem })
    const token = await sign({ alg: 'HS256', key: Buffer.from(pem) })
    const verdict = evaluate(bearer(token))
    expect(verdict).not.toBeInstanceOf(Promise)
    const d = denial(verdict as Verdict)
    expect(d.rule).toBe('authn.jwt-algorithm-not-allowed')
    expect(d.detail?.alg).toBe('HS256')
  })

  it('refuses unsigned tokens (alg none)', async () => {
    const evaluate = compile({ secret: 'x'.repeat(40) })
    const token = new UnsecuredJWT({ sub: 'acme-app' }).setExpirationTime(NOW_S + 60).encode()
    // An unsecured JWT has an empty signature part, which is not a signed JWT at all.
    const d = denial(await evaluate(bearer(token)))
    expect(d.rule).toBe('authn.jwt-malformed')
    expect(d.detail?.reason).toBe('a part is empty or not base64url')
    const withSignature = denial(await evaluate(bearer(`${token}c2ln`)))
    expect(withSignature.rule).toBe('authn.jwt-algorithm-not-allowed')
    expect(withSignature.detail?.alg).toBe('none')
  })

  it('refuses an algorithm left out of jwt.algorithms', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    const evaluate = compile({ publicKey: await exportSPKI(publicKey), algorithms: ['PS256'] })
    const d = denial(await evaluate(bearer(await sign({ alg: 'RS256', key: privateKey }))))
    expect(d.rule).toBe('authn.jwt-algorithm-not-allowed')
    expect(d.detail?.allowedAlgorithms).toEqual(['PS256'])
  })
})

describe('jwt: shape and claims', () => {
  const secret = 'shape-and-claims-secret-with-32-plus-bytes'
  const key = Buffer.from(secret)

  it.each([
    ['garbage', 'not three dot-separated parts'],
    ['a.b', 'not three dot-separated parts'],
    ['a.b.c.d', 'not three dot-separated parts'],
    ['a..c', 'a part is empty or not base64url'],
    [`${Buffer.from('not json').toString('base64url')}.e30.c2ln`, 'the header is not JSON'],
    [`${Buffer.from('{"typ":"JWT"}').toString('base64url')}.e30.c2ln`, 'the header has no alg'],
  ])('answers %s with jwt-malformed synchronously', (token, reason) => {
    const verdict = compile({ secret })(bearer(token))
    expect(verdict).not.toBeInstanceOf(Promise)
    const d = denial(verdict as Verdict)
    expect(d.rule).toBe('authn.jwt-malformed')
    expect(d.detail?.reason).toBe(reason)
  })

  it('denies claims of the wrong type as malformed', async () => {
    const claims: Record<string, unknown> = { sub: 'acme-app', exp: 'tomorrow' }
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key)
    expect(denial(await compile({ secret })(bearer(token))).rule).toBe('authn.jwt-malformed')
  })

  it('requires exp unless requireExpiration is false', async () => {
    const token = await sign({ alg: 'HS256', key, exp: null })
    const d = denial(await compile({ secret })(bearer(token)))
    expect(d.rule).toBe('authn.jwt-malformed')
    expect(d.detail?.reason).toContain('no exp claim')
    expect((await compile({ secret, requireExpiration: false })(bearer(token))).kind).toBe('allow')
  })

  describe('exp and nbf with a 30 s clock skew', () => {
    it('accepts a token that expired 29 s ago and refuses one that expired 30 s ago', async () => {
      const evaluate = compile({ secret })
      expect((await evaluate(bearer(await sign({ alg: 'HS256', key, exp: NOW_S - 29 })))).kind).toBe('allow')
      const d = denial(await evaluate(bearer(await sign({ alg: 'HS256', key, exp: NOW_S - 30 }))))
      expect(d.rule).toBe('authn.jwt-expired')
      expect(d.status).toBe(401)
      expect(d.detail?.expiredSecondsAgo).toBe(30)
      expect(d.headers?.['www-authenticate']).toContain('error_description="The token has expired"')
    })

    it('expires a token as the clock moves on', async () => {
      const deps = makeDeps()
      const evaluate = compile({ secret }, deps)
      const token = await sign({ alg: 'HS256', key, exp: NOW_S + 60 })
      expect((await evaluate(bearer(token))).kind).toBe('allow')
      deps.clock.advance(89_000)
      expect((await evaluate(bearer(token))).kind).toBe('allow')
      deps.clock.advance(1_000)
      expect(denial(await evaluate(bearer(token))).rule).toBe('authn.jwt-expired')
    })

    it('accepts nbf up to 30 s ahead and refuses 31 s ahead', async () => {
      const evaluate = compile({ secret })
      expect((await evaluate(bearer(await sign({ alg: 'HS256', key, nbf: NOW_S + 30 })))).kind).toBe('allow')
      const d = denial(await evaluate(bearer(await sign({ alg: 'HS256', key, nbf: NOW_S + 31 }))))
      expect(d.rule).toBe('authn.jwt-not-yet-valid')
      expect(d.detail?.validInSeconds).toBe(31)
    })

    it('honours a configured skew of 0', async () => {
      const evaluate = compile({ secret, clockSkewSeconds: 0 })
      expect(denial(await evaluate(bearer(await sign({ alg: 'HS256', key, exp: NOW_S })))).rule).toBe('authn.jwt-expired')
      expect(denial(await evaluate(bearer(await sign({ alg: 'HS256', key, nbf: NOW_S + 1 })))).rule).toBe('authn.jwt-not-yet-valid')
    })
  })

  it('checks the issuer against one or several trusted ones', async () => {
    const evaluate = compile({ secret, issuer: ['https://id.example.com', 'https://login.example.com'] })
    expect((await evaluate(bearer(await sign({ alg: 'HS256', key, claims: { iss: 'https://login.example.com' } })))).kind).toBe('allow')
    const wrong = denial(await evaluate(bearer(await sign({ alg: 'HS256', key, claims: { iss: 'https://evil.example' } }))))
    expect(wrong.rule).toBe('authn.jwt-wrong-issuer')
    expect(wrong.detail?.iss).toBe('https://evil.example')
    expect(wrong.remediation).toContain("'https://id.example.com', 'https://login.example.com'")
    const missing = denial(await evaluate(bearer(await sign({ alg: 'HS256', key }))))
    expect(missing.rule).toBe('authn.jwt-wrong-issuer')
    expect(missing.detail?.iss).toBe(null)
  })

  it('checks that the token names this API among its audiences', async () => {
    const evaluate = compile({ secret, audience: 'orders-api' })
    expect((await evaluate(bearer(await sign({ alg: 'HS256', key, claims: { aud: ['billing-api', 'orders-api'] } })))).kind).toBe('allow')
    const d = denial(await evaluate(bearer(await sign({ alg: 'HS256', key, claims: { aud: 'billing-api' } }))))
    expect(d.rule).toBe('authn.jwt-wrong-audience')
    expect(d.detail?.aud).toBe('billing-api')
  })

  it('keeps only non-secret registered claims in the identity', async () => {
    const evaluate = compile({ secret, issuer: 'https://id.example.com', audience: 'orders-api' })
    const token = await sign({ alg: 'HS256', key, kid: 'k1', claims: { iss: 'https://id.example.com', aud: 'orders-api', email: 'a@b.c', scope: 'orders:write' } })
    const verdict = await evaluate(bearer(token))
    expect(verdict).toMatchObject({
      kind: 'allow',
      identity: { claims: { iss: 'https://id.example.com', sub: 'acme-app', aud: 'orders-api', exp: NOW_S + 300, kid: 'k1' } },
    })
    expect(verdict.kind === 'allow' && Object.keys(verdict.identity?.claims ?? {}).sort()).toEqual(['aud', 'exp', 'iss', 'kid', 'sub'])
  })
})

describe('jwt: JWKS over HTTP', () => {
  interface Signer { kid: string; jwk: JWK; privateKey: CryptoKey }
  let server: TestUpstream
  let served: { status: number; body: string }
  let signers: Signer[]

  async function makeSigner(kid: string, alg = 'RS256'): Promise<Signer> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
    return { kid, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, privateKey }
  }

  function serve(...keys: Signer[]): void {
    served = { status: 200, body: JSON.stringify({ keys: keys.map((k) => k.jwk) }) }
  }

  function token(signer: Signer, withKid = true): Promise<string> {
    // Valid for a day, so tests that move the clock past the cache lifetime still hold a live token.
    return sign({ alg: signer.jwk.alg ?? 'RS256', key: signer.privateKey, kid: withKid ? signer.kid : undefined, exp: NOW_S + 86_400 })
  }

  function setup(extra: Record<string, unknown> = {}, deps = makeDeps()) {
    server.requests.length = 0
    return { deps, evaluate: compile({ jwksUrl: `${server.url}/.well-known/jwks.json`, ...extra }, deps) }
  }

  beforeAll(async () => {
    signers = [await makeSigner('k1'), await makeSigner('k2'), await makeSigner('k3', 'ES256')]
    server = await startUpstream((_req, res) => {
      res.writeHead(served.status, { 'content-type': 'application/json' })
      res.end(served.body)
    })
  })
  afterAll(() => server.close())

  it('fetches the key set once and serves later tokens from the cache until it expires', async () => {
    serve(signers[0])
    const { deps, evaluate } = setup()
    for (let i = 0; i < 5; i++) expect((await evaluate(bearer(await token(signers[0])))).kind).toBe('allow')
    expect(server.requests).toHaveLength(1)
    expect(server.requests[0].url).toBe('/.well-known/jwks.json')
    deps.clock.advance(599_000)
    await evaluate(bearer(await token(signers[0])))
    expect(server.requests).toHaveLength(1)
    deps.clock.advance(1_000)
    expect((await evaluate(bearer(await token(signers[0])))).kind).toBe('allow')
    expect(server.requests).toHaveLength(2)
  })

  it('shares one fetch between concurrent requests', async () => {
    serve(signers[0])
    const { evaluate } = setup()
    const t = await token(signers[0])
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => evaluate(bearer(t))))
    expect(verdicts.every((v) => v.kind === 'allow')).toBe(true)
    expect(server.requests).toHaveLength(1)
  })

  it('picks up a rotated key with one refetch, at most once per cooldown', async () => {
    serve(signers[0])
    const { deps, evaluate } = setup()
    expect((await evaluate(bearer(await token(signers[0])))).kind).toBe('allow')
    serve(signers[1])
    // Within the cooldown after the last fetch, an unknown kid does not trigger a fetch.
    deps.clock.advance(10_000)
    const early = denial(await evaluate(bearer(await token(signers[1]))))
    expect(early.rule).toBe('authn.jwt-unknown-key')
    expect(early.detail?.jwksRefetched).toBe(false)
    expect(server.requests).toHaveLength(1)
    deps.clock.advance(20_000)
    expect((await evaluate(bearer(await token(signers[1])))).kind).toBe('allow')
    expect(server.requests).toHaveLength(2)
    // The old key is gone from the issuer's set now.
    expect(denial(await evaluate(bearer(await token(signers[0])))).rule).toBe('authn.jwt-unknown-key')
    expect(server.requests).toHaveLength(2)
  })

  it('denies a kid still unknown after the refetch with jwt-unknown-key', async () => {
    serve(signers[0])
    const { deps, evaluate } = setup()
    await evaluate(bearer(await token(signers[0])))
    deps.clock.advance(30_000)
    const d = denial(await evaluate(bearer(await token(signers[1]))))
    expect(d.rule).toBe('authn.jwt-unknown-key')
    expect(d.status).toBe(401)
    expect(d.detail).toMatchObject({ kid: 'k2', jwksRefetched: true, keysInSet: 1 })
    expect(server.requests).toHaveLength(2)
    // A burst of random kids costs no further fetches.
    for (let i = 0; i < 5; i++) await evaluate(bearer(await token(signers[1])))
    expect(server.requests).toHaveLength(2)
  })

  it('tries every matching key for a token without kid', async () => {
    serve(signers[0], signers[1], signers[2])
    const { evaluate } = setup()
    expect((await evaluate(bearer(await token(signers[1], false)))).kind).toBe('allow')
    expect((await evaluate(bearer(await token(signers[2], false)))).kind).toBe('allow')
    const stranger = await makeSigner('k9')
    expect(denial(await evaluate(bearer(await token(stranger, false)))).rule).toBe('authn.jwt-bad-signature')
  })

  it('fails closed with 503 jwks-unavailable when the JWKS cannot be fetched, and recovers', async () => {
    served = { status: 500, body: 'oops' }
    const { deps, evaluate } = setup()
    const d = denial(await evaluate(bearer(await token(signers[0]))))
    expect(d.rule).toBe('authn.jwks-unavailable')
    expect(d.status).toBe(503)
    expect(d.headers).toEqual({ 'retry-after': '5' })
    expect(d.detail?.jwksError).toBe('answered HTTP 500')
    // Requests during the retry pause fail fast without dialling the issuer.
    await evaluate(bearer(await token(signers[0])))
    expect(server.requests).toHaveLength(1)
    serve(signers[0])
    deps.clock.advance(5_000)
    expect((await evaluate(bearer(await token(signers[0])))).kind).toBe('allow')
    expect(server.requests).toHaveLength(2)
  })

  it('answers 503 when the JWKS server is down', async () => {
    const gone = await startUpstream()
    const url = `${gone.url}/jwks.json`
    await gone.close()
    const evaluate = compile({ jwksUrl: url })
    const d = denial(await evaluate(bearer(await token(signers[0]))))
    expect(d.rule).toBe('authn.jwks-unavailable')
    expect(d.status).toBe(503)
    expect(String(d.detail?.jwksError)).toMatch(/^unreachable/)
  })

  it('answers 503 for a document that is not a key set', async () => {
    served = { status: 200, body: '<html>login</html>' }
    const { evaluate } = setup()
    const d = denial(await evaluate(bearer(await token(signers[0]))))
    expect(d.rule).toBe('authn.jwks-unavailable')
    expect(d.detail?.jwksError).toBe('the document is not JSON')
  })

  it('keeps verifying with the last good key set while a refresh fails', async () => {
    serve(signers[0])
    const { deps, evaluate } = setup()
    await evaluate(bearer(await token(signers[0])))
    served = { status: 502, body: '' }
    deps.clock.advance(600_000)
    const verdict = await evaluate(bearer(await token(signers[0])))
    expect(verdict.kind).toBe('allow')
    expect(server.requests).toHaveLength(2)
  })

  it('keeps the fetched keys across a config reload', async () => {
    serve(signers[0])
    const deps = makeDeps()
    const first = setup({}, deps).evaluate
    await first(bearer(await token(signers[0])))
    const reloaded = compile({ jwksUrl: `${server.url}/.well-known/jwks.json`, audience: undefined }, deps)
    expect((await reloaded(bearer(await token(signers[0])))).kind).toBe('allow')
    expect(server.requests).toHaveLength(1)
  })

  it('refuses a JWKS key whose algorithm the route does not allow', async () => {
    serve(signers[2])
    const { evaluate } = setup({ algorithms: ['RS256'] })
    const d = denial(await evaluate(bearer(await token(signers[2]))))
    expect(d.rule).toBe('authn.jwt-algorithm-not-allowed')
    expect(server.requests).toHaveLength(0)
  })
})
