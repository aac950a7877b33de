import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { bodyDigest, buildSigningString, parseSignatureParams, signRequest } from './hmac.js'
import { authnPolicy } from './index.js'
import { AuthnConfig } from './schema.js'
import { allowOf as allowed, denialOf as denied } from '../../testing/verdicts.js'

const SECRET = 'hmac-secret-for-tests-0123456789abcdef'
const clock = fakeClock()
const DATE = new Date(clock.now()).toUTCString()

function makeDeps(): PolicyDeps {
  return {
    clock,
    consumers: [{ name: 'billing', tenant: 'acme', keyHashes: [], scopes: ['invoices:write'] }],
    routeName: 'invoices',
    shared: new Map(),
    env: { BILLING_HMAC: SECRET },
  }
}

const config = AuthnConfig.parse({ methods: ['hmac'], hmac: { keys: [{ id: 'billing-1', secret: 'env:BILLING_HMAC', consumer: 'billing' }] } })
const evaluate = authnPolicy.compile(config, makeDeps())

interface SignedRequest {
  method?: string
  url?: string
  headers?: Record<string, string>
  body?: string
  signed?: string[]
  secret?: string
  keyId?: string
}

/** Builds a signed request context; overrides let a test break exactly one thing. */
function signed(input: SignedRequest = {}) {
  const method = input.method ?? 'POST'
  const url = input.url ?? '/invoices?draft=1'
  const headers: Record<string, string> = { host: 'gateway.test', date: DATE, ...(input.body === undefined ? {} : { digest: bodyDigest(input.body) }), ...input.headers }
  const names = input.signed ?? ['(request-target)', 'host', 'date', ...(input.body === undefined ? [] : ['digest'])]
  const authorization = signRequest({ method, target: url, headers, keyId: input.keyId ?? 'billing-1', secret: input.secret ?? SECRET, signedHeaders: names })
  const all: Record<string, string> = { ...headers, authorization }
  return { method, url, headers: all, body: input.body ?? '' }
}

describe('authn policy: HMAC-signed requests', () => {
  it('allows a signed POST with a Digest of its body, synchronously, as the key’s consumer', () => {
    const verdict = allowed(evaluate(makeContext(signed({ body: '{"amount":12}' }))))
    expect(verdict.identity).toEqual({ consumer: 'billing', tenant: 'acme', method: 'hmac', scopes: ['invoices:write'], claims: { keyId: 'billing-1' } })
  })

  it('accepts a Content-Digest (RFC 9530) and the parameters in a Signature header', () => {
    const body = 'amount=12'
    const contentDigest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
    const request = signed({ body, headers: { 'content-digest': contentDigest }, signed: ['(request-target)', 'host', 'date', 'content-digest'] })
    expect(allowed(evaluate(makeContext(request))).identity?.method).toBe('hmac')
    const { authorization, ...rest } = request.headers
    const viaSignatureHeader = { ...request, headers: { ...rest, signature: authorization.slice('Signature '.length) } }
    expect(allowed(evaluate(makeContext(viaSignatureHeader))).identity?.consumer).toBe('billing')
  })

  it('allows a signed GET without a body and without a digest', () => {
    expect(allowed(evaluate(makeContext(signed({ method: 'GET', url: '/invoices' })))).identity?.consumer).toBe('billing')
  })

  it('offers a Signature challenge naming the headers to sign', () => {
    const denial = denied(evaluate(makeContext()))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.headers).toEqual({ 'www-authenticate': 'Signature realm="gatehouse",headers="(request-target) host date"' })
  })

  it.each([
    ['keyId is missing', 'Signature algorithm="hmac-sha256",signature="abc="'],
    ['signature is missing', 'Signature keyId="billing-1"'],
    ['unterminated quoted value', 'Signature signature="x",keyId="billing-1'],
    ["algorithm 'rsa-sha256' is not supported; use hmac-sha256", `Signature keyId="billing-1",algorithm="rsa-sha256",signature="${Buffer.alloc(32).toString('base64')}"`],
    ['signature is not an HMAC-SHA256 value (32 bytes)', 'Signature keyId="billing-1",signature="AAAA"'],
    ["parameter 'keyid' given twice", 'Signature keyId="a",keyId="b",signature="x"'],
  ])('denies parameters where %s with hmac-malformed', (reason, authorization) => {
    const denial = denied(evaluate(makeContext({ headers: { authorization, date: DATE } })))
    expect(denial.rule).toBe('authn.hmac-malformed')
    expect(denial.status).toBe(401)
    expect(denial.detail?.reason).toBe(reason)
  })

  it('recognises an RFC 9421 signature and says it is not the supported kind', () => {
    const headers = { date: DATE, signature: 'sig1=:AAAA:', 'signature-input': 'sig1=("@method");keyid="billing-1"' }
    const denial = denied(evaluate(makeContext({ headers })))
    expect(denial.rule).toBe('authn.hmac-malformed')
    expect(String(denial.detail?.reason)).toContain('RFC 9421 signatures (Signature-Input) are not supported')
  })

  it('denies an unknown key id with hmac-unknown-key', () => {
    const denial = denied(evaluate(makeContext(signed({ keyId: 'billing-9' }))))
    expect(denial.rule).toBe('authn.hmac-unknown-key')
    expect(denial.detail?.keyId).toBe('billing-9')
  })

  it('denies a signature that does not cover a required header', () => {
    const denial = denied(evaluate(makeContext(signed({ signed: ['(request-target)', 'host'] }))))
    expect(denial.rule).toBe('authn.hmac-missing-header')
    expect(denial.detail).toMatchObject({ header: 'date', reason: 'not-signed' })
  })

  it('denies a request with a body whose signature covers no digest', () => {
    const denial = denied(evaluate(makeContext(signed({ body: '{}', signed: ['(request-target)', 'host', 'date'] }))))
    expect(denial.rule).toBe('authn.hmac-missing-header')
    expect(denial.detail).toMatchObject({ header: 'digest', reason: 'not-signed' })
  })

  it('denies a signature over a header the request no longer carries', () => {
    const request = signed({ headers: { 'x-tenant': 'acme' }, signed: ['(request-target)', 'host', 'date', 'x-tenant'] })
    const { 'x-tenant': _dropped, ...headers } = request.headers
    const denial = denied(evaluate(makeContext({ ...request, headers })))
    expect(denial.rule).toBe('authn.hmac-missing-header')
    expect(denial.detail).toMatchObject({ header: 'x-tenant', reason: 'absent' })
  })

  it('denies a wrong secret and a changed path with hmac-bad-signature, never echoing the signature', () => {
    const wrong = signed({ secret: 'another-secret-that-is-long-enough-000' })
    const denial = denied(evaluate(makeContext(wrong)))
    expect(denial.rule).toBe('authn.hmac-bad-signature')
    expect(denial.detail?.signedHeaders).toEqual(['(request-target)', 'host', 'date'])
    const signature = /signature="([^"]+)"/.exec(wrong.headers.authorization)?.[1] ?? 'missing'
    expect(JSON.stringify(denial)).not.toContain(signature)
    expect(JSON.stringify(denial)).not.toContain(SECRET)
    const moved = { ...signed(), url: '/invoices?draft=0' }
    expect(denied(evaluate(makeContext(moved))).rule).toBe('authn.hmac-bad-signature')
  })

  it('denies a correctly signed request whose Date is too old with hmac-clock-skew', () => {
    const old = new Date(clock.now() - 600_000).toUTCString()
    const denial = denied(evaluate(makeContext(signed({ headers: { date: old } }))))
    expect(denial.rule).toBe('authn.hmac-clock-skew')
    expect(denial.detail).toMatchObject({ skewSeconds: -600, allowedSeconds: 300 })
  })

  it('denies a correctly signed request whose body was changed with hmac-digest-mismatch', () => {
    const request = signed({ body: '{"amount":12}' })
    const denial = denied(evaluate(makeContext({ ...request, body: '{"amount":1200}' })))
    expect(denial.rule).toBe('authn.hmac-digest-mismatch')
    expect(denial.detail).toMatchObject({ header: 'digest', reason: 'sha-256 differs' })
  })

  it('cannot vouch for a body the gateway could not read in full', () => {
    const request = signed({ body: '{"amount":12}' })
    const denial = denied(evaluate(makeContext({ ...request, body: { kind: 'too-large', limitBytes: 4, receivedBytes: 13 } })))
    expect(denial.rule).toBe('authn.hmac-digest-mismatch')
    expect(denial.detail?.reason).toBe('the body could not be read in full')
  })

  it('asks the pipeline for the body only when hmac is configured', () => {
    expect(authnPolicy.needsBody?.(config)).toBe(true)
    expect(authnPolicy.needsBody?.(AuthnConfig.parse({ methods: ['key'] }))).toBe(false)
  })
})

describe('hmac signing string', () => {
  it('lists one "name: value" line per signed header, with the lower-case request target', () => {
    const built = buildSigningString('POST', '/a?b=1', { host: 'x.test', date: DATE }, ['(request-target)', 'host', 'date'])
    expect(built).toEqual({ ok: true, text: `(request-target): post /a?b=1\nhost: x.test\ndate: ${DATE}` })
  })

  it('parses quoted and bare parameters without regex backtracking', () => {
    const parsed = parseSignatureParams('keyId="k", created=1402170695, headers="date"')
    expect(parsed.ok && Object.fromEntries(parsed.params)).toEqual({ keyid: 'k', created: '1402170695', headers: 'date' })
    const long = parseSignatureParams(`keyId="${'a'.repeat(9000)}"`)
    expect(long).toEqual({ ok: false, reason: 'parameters too long' })
  })
})

describe('hmac config', () => {
  const key = { id: 'k1', secret: 'env:HMAC_K1', consumer: 'billing' }
  it('fills defaults', () => {
    const parsed = AuthnConfig.parse({ methods: ['hmac'], hmac: { keys: [key] } })
    expect(parsed.hmac).toMatchObject({ clockSkewSeconds: 300, requiredHeaders: ['(request-target)', 'host', 'date'] })
  })

  it.each([
    [{ methods: ['hmac'] }, ['methods'], "methods includes 'hmac', so give hmac options"],
    [{ methods: ['hmac'], hmac: { keys: [{ ...key, secret: 'short' }] } }, ['hmac', 'keys', 0, 'secret'], 'at least 32 bytes'],
    [{ methods: ['hmac'], hmac: { keys: [key, key] } }, ['hmac', 'keys', 1, 'id'], "key id 'k1' is listed twice"],
    [{ methods: ['hmac'], hmac: { keys: [key], requiredHeaders: ['host'] } }, ['hmac', 'requiredHeaders'], "must include 'date'"],
    [{ methods: ['hmac'], hmac: { keys: [key], requiredHeaders: ['date', 'bad header'] } }, ['hmac', 'requiredHeaders', 1], "must be a header name or '(request-target)'"],
    [{ methods: ['hmac'], hmac: { keys: [key], clockSkewSeconds: 0 } }, ['hmac', 'clockSkewSeconds'], 'Too small'],
  ])('refuses %j', (raw, path, message) => {
    const result = AuthnConfig.safeParse(raw)
    expect(result.success).toBe(false)
    const issue = result.error?.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path))
    expect(issue, JSON.stringify(result.error?.issues)).toBeDefined()
    expect(issue?.message).toContain(message)
  })

  it('refuses to load when the key secret variable is unset', () => {
    const parsed = AuthnConfig.parse({ methods: ['hmac'], hmac: { keys: [key] } })
    expect(() => authnPolicy.compile(parsed, makeDeps())).toThrow(/HMAC_K1 \(hmac\.keys\[0\]\.secret\) is not set/)
  })
})

describe('hmac parsing of hostile input', () => {
  it('never throws and always answers for arbitrary Signature parameters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const parsed = parseSignatureParams(text)
        expect(typeof parsed.ok).toBe('boolean')
        const verdict = evaluate(makeContext({ headers: { authorization: `Signature ${text}`, date: DATE } }))
        expect(verdict).not.toBeInstanceOf(Promise)
        expect((verdict as Verdict).kind).toBe('deny')
      }),
      { numRuns: 300 },
    )
  })

  it('parses a long run of separators in linear time', () => {
    const started = performance.now()
    expect(parseSignatureParams(`${', '.repeat(4000)}`).ok).toBe(true)
    expect(parseSignatureParams(`a=${'"'.repeat(8000)}`).ok).toBe(false)
    expect(performance.now() - started).toBeLessThan(200)
  })
})
