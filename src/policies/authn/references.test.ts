import { describe, expect, it } from 'vitest'
import { formatProblem, loadConfigText } from '../../config/load.js'
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

describe('gatehouse check on auth references', () => {
  it('reports them with file:line:col before the gateway ever starts', () => {
    const text = [
      'upstreams: { app: { targets: [ "http://127.0.0.1:9" ] } }',
      'consumers:',
      '  - { name: partner }',
      'routes:',
      '  - name: signed',
      '    match: { path: /signed }',
      '    upstream: app',
      '    policies:',
      '      auth:',
      '        methods: [ hmac ]',
      '        hmac: { keys: [ { id: k1, secret: "env:UNSET_HMAC", consumer: partnr } ] }',
      '',
    ].join('\n')
    const result = loadConfigText(text, 'g.yaml', {})
    expect(result.ok).toBe(false)
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^g\.yaml:11:\d+ routes\[0\]\.policies\.auth\.hmac\.keys\[0\]\.secret: environment variable UNSET_HMAC is not set/),
      expect.stringMatching(/^g\.yaml:11:\d+ routes\[0\]\.policies\.auth\.hmac\.keys\[0\]\.consumer: unknown consumer 'partnr'; defined consumers: partner$/),
    ])
  })
})
