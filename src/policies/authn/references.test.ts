import { describe, expect, it } from 'vitest'
import { checkAuthnReferences } from './references.js'

describe('auth references checked against the whole file', () => {
  const consumers = new Set(['acme-app', 'ops'])

  it('names consumers that do not exist, wherever a method maps to one', () => {
    const auth = {
      methods: ['basic', 'hmac', 'mtls'],
      basic: { users: [{ username: 'a', password: 'x', consumer: 'acme-ap' }] },
      hmac: { keys: [{ id: 'k', secret: 'literal-secret-long-enough-for-hmac-000', consumer: 'ops' }] },
      mtls: { consumers: [{ subject: 'CN=x', consumer: 'ghost' }] },
    }
    expect(checkAuthnReferences(auth, consumers, {})).toEqual([
      { path: ['basic', 'users', 0, 'consumer'], message: "unknown consumer 'acme-ap'; defined consumers: acme-app, ops" },
      { path: ['mtls', 'consumers', 0, 'consumer'], message: "unknown consumer 'ghost'; defined consumers: acme-app, ops" },
    ])
  })

  it('names env:NAME secrets whose variable is not set', () => {
    const auth = {
      methods: ['session', 'introspection', 'jwt'],
      session: { secret: 'env:SESSION_SECRET', previousSecrets: ['env:OLD_SESSION'] },
      introspection: { url: 'https://id.example.com/i', clientId: 'gh', clientSecret: 'env:INTROSPECT' },
      jwt: { secret: 'env:JWT_SECRET' },
    }
    expect(checkAuthnReferences(auth, consumers, { SESSION_SECRET: 's', INTROSPECT: 'i' }).map((p) => p.path.join('.'))).toEqual(['session.previousSecrets.0', 'jwt.secret'])
  })

  it('ignores blocks too broken to read', () => {
    expect(checkAuthnReferences({ basic: { users: 'nope' }, hmac: null }, consumers, {})).toEqual([])
    expect(checkAuthnReferences('auth', consumers, {})).toEqual([])
  })
})
