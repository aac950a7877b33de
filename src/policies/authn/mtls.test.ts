import { describe, expect, it } from 'vitest'
import { hashKey } from '../../core/keys.js'
import type { ClientCertificate } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { authnPolicy } from './index.js'
import { parseDistinguishedName } from './mtls.js'
import { AuthnConfig } from './schema.js'
import { allowOf as allowed, denialOf as denied } from '../../testing/verdicts.js'

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':')

function makeDeps(): PolicyDeps {
  return {
    clock: fakeClock(),
    consumers: [
      { name: 'orders-svc', tenant: 'acme', keyHashes: [], scopes: ['orders:write'] },
      { name: 'billing-svc', keyHashes: [], scopes: ['invoices:read'] },
      { name: 'pinned', keyHashes: [], scopes: [] },
      { name: 'acme-app', keyHashes: [hashKey('acme-key')], scopes: [] },
    ],
    routeName: 'internal',
    shared: new Map(),
    env: {},
  }
}

const config = AuthnConfig.parse({
  methods: ['mtls'],
  mtls: {
    consumers: [
      { subject: 'CN=orders,O=Acme', consumer: 'orders-svc' },
      { san: 'URI:spiffe://example.org/ns/prod/sa/billing', consumer: 'billing-svc' },
      { fingerprint256: FINGERPRINT.toLowerCase(), consumer: 'pinned' },
    ],
  },
})
const evaluate = authnPolicy.compile(config, makeDeps())

function cert(overrides: Partial<ClientCertificate> = {}): ClientCertificate {
  return {
    subject: 'CN=someone,O=Elsewhere',
    issuer: 'CN=Test CA',
    fingerprint256: '00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
    serialNumber: '01',
    validTo: 'Jan  1 00:00:00 2030 GMT',
    authorized: true,
    ...overrides,
  }
}

function tls(clientCert?: ClientCertificate) {
  return makeContext({ secure: true, clientCert })
}

describe('authn policy: mTLS client certificates', () => {
  it('maps a verified certificate by subject attributes, ignoring ones the entry does not list', () => {
    const identity = allowed(evaluate(tls(cert({ subject: 'CN=orders,OU=Platform,O=Acme' })))).identity
    expect(identity).toMatchObject({ consumer: 'orders-svc', tenant: 'acme', method: 'mtls', scopes: ['orders:write'] })
    expect(denied(evaluate(tls(cert({ subject: 'CN=orders,O=Other' })))).rule).toBe('authn.mtls-unknown-certificate')
  })

  it('maps by SPIFFE URI subject alternative name', () => {
    const san = 'DNS:billing.internal, URI:spiffe://example.org/ns/prod/sa/billing'
    expect(allowed(evaluate(tls(cert({ subjectAltName: san })))).identity?.consumer).toBe('billing-svc')
  })

  it('maps by SHA-256 fingerprint, whatever its case', () => {
    expect(allowed(evaluate(tls(cert({ fingerprint256: FINGERPRINT })))).identity?.consumer).toBe('pinned')
  })

  it('denies a certificate that failed verification with mtls-untrusted and the reason', () => {
    const denial = denied(evaluate(tls(cert({ subject: 'CN=orders,O=Acme', authorized: false, authorizationError: 'CERT_HAS_EXPIRED' }))))
    expect(denial.rule).toBe('authn.mtls-untrusted')
    expect(denial.status).toBe(401)
    expect(denial.detail?.authorizationError).toBe('CERT_HAS_EXPIRED')
    expect(denial.headers).toEqual({ 'www-authenticate': 'Mutual realm="gatehouse"' })
  })

  it('denies a verified certificate no entry matches with mtls-unknown-certificate, naming it', () => {
    const denial = denied(evaluate(tls(cert())))
    expect(denial.rule).toBe('authn.mtls-unknown-certificate')
    expect(denial.detail).toMatchObject({ subject: 'CN=someone,O=Elsewhere', issuer: 'CN=Test CA' })
    // The same certificate again: answered from the per-certificate memo, same result.
    expect(denied(evaluate(tls(cert()))).rule).toBe('authn.mtls-unknown-certificate')
  })

  it('denies TLS without a certificate, and plain HTTP, with mtls-missing-certificate', () => {
    const none = denied(evaluate(tls()))
    expect(none.rule).toBe('authn.mtls-missing-certificate')
    expect(none.detail?.reason).toBe('no-certificate')
    expect(none.headers).toEqual({ 'www-authenticate': 'Mutual realm="gatehouse"' })
    const plain = denied(evaluate(makeContext({ clientCert: cert({ subject: 'CN=orders,O=Acme' }) })))
    expect(plain.rule).toBe('authn.mtls-missing-certificate')
    expect(plain.detail?.reason).toBe('not-tls')
  })

  it('lets another method in when no certificate is presented', () => {
    const mixed = authnPolicy.compile(AuthnConfig.parse({ methods: ['mtls', 'key'], mtls: config.mtls }), makeDeps())
    expect(allowed(mixed(makeContext({ headers: { 'x-api-key': 'acme-key' } }))).identity?.method).toBe('key')
    const denial = denied(mixed(makeContext()))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.headers).toEqual({ 'www-authenticate': 'ApiKey realm="gatehouse"' })
  })

  it('reads distinguished names as Node prints them', () => {
    expect(parseDistinguishedName('CN=a, O=Acme Corp')).toEqual([
      ['CN', 'a'],
      ['O', 'Acme Corp'],
    ])
    expect(parseDistinguishedName('C=US\nCN=b')).toEqual([
      ['C', 'US'],
      ['CN', 'b'],
    ])
  })

  it('refuses to load when an entry names an unknown consumer', () => {
    const bad = AuthnConfig.parse({ methods: ['mtls'], mtls: { consumers: [{ subject: 'CN=x', consumer: 'ghost' }] } })
    expect(() => authnPolicy.compile(bad, makeDeps())).toThrow(/mtls\.consumers\[0\]\.consumer names consumer 'ghost'/)
  })
})

describe('mtls config', () => {
  it.each([
    [{ methods: ['mtls'] }, ['methods'], "methods includes 'mtls', so give mtls options"],
    [{ methods: ['mtls'], mtls: { consumers: [{ consumer: 'a' }] } }, ['mtls', 'consumers', 0], 'give at least one of subject, fingerprint256 or san'],
    [{ methods: ['mtls'], mtls: { consumers: [{ fingerprint256: 'AB:CD', consumer: 'a' }] } }, ['mtls', 'consumers', 0, 'fingerprint256'], 'must be a SHA-256 fingerprint'],
    [{ methods: ['mtls'], mtls: { consumers: [{ san: 'spiffe://x', consumer: 'a' }] } }, ['mtls', 'consumers', 0, 'san'], 'must start with DNS:, URI:'],
    [{ methods: ['mtls'], mtls: { consumers: [{ subject: 'orders', consumer: 'a' }] } }, ['mtls', 'consumers', 0, 'subject'], "must look like 'CN=name'"],
    [{ methods: ['key'], mtls: { consumers: [{ subject: 'CN=a', consumer: 'a' }] } }, ['mtls'], "mtls options are set but methods does not include 'mtls'"],
  ])('refuses %j', (raw, path, message) => {
    const result = AuthnConfig.safeParse(raw)
    expect(result.success).toBe(false)
    const issue = result.error?.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path))
    expect(issue, JSON.stringify(result.error?.issues)).toBeDefined()
    expect(issue?.message).toContain(message)
  })
})
