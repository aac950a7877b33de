import { describe, expect, it } from 'vitest'
import { hashKey } from '../../core/keys.js'
import type { Identity } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { PolicyDeps, Verdict } from '../define.js'
import { authnPolicy } from '../authn/index.js'
import { AuthnConfig } from '../authn/schema.js'
import { authzPolicy } from './index.js'
import { AuthzConfig } from './schema.js'
import { makeDeps } from '../../testing/make-deps.js'

const deps: PolicyDeps = makeDeps()

function evaluateWith(required: unknown, identity: Identity | undefined): Verdict {
  const evaluate = authzPolicy.compile(AuthzConfig.parse(required), deps)
  const verdict = evaluate(makeContext({ method: 'POST', url: '/orders', identity }))
  if (verdict instanceof Promise) throw new Error('authz must answer synchronously')
  return verdict
}

const acme: Identity = { consumer: 'acme-app', tenant: 'acme', method: 'key', scopes: ['orders:read'], claims: { keyId: 'ab12cd34' } }

describe('authz policy', () => {
  it('lets a consumer holding every required scope through', () => {
    expect(evaluateWith(['orders:read'], acme)).toEqual({ kind: 'allow' })
    expect(evaluateWith(['orders:read', 'orders:write'], { ...acme, scopes: ['orders:write', 'profile', 'orders:read'] }).kind).toBe('allow')
  })

  it('denies a missing scope with 403 and names it', () => {
    const verdict = evaluateWith(['orders:write'], acme)
    if (verdict.kind !== 'deny') throw new Error('expected a denial')
    const { denial } = verdict
    expect(denial.rule).toBe('authz.missing-scope')
    expect(denial.status).toBe(403)
    expect(denial.message).toBe("Route 'orders-create' needs scope 'orders:write'.")
    expect(denial.remediation).toBe("Grant the consumer 'acme-app' scope 'orders:write' (consumers[].scopes) or issue a token with that scope.")
    expect(denial.detail).toMatchObject({ required: ['orders:write'], granted: ['orders:read'], missing: ['orders:write'] })
    // An API-key caller gets no bearer challenge.
    expect(denial.headers).toBeUndefined()
  })

  it('lists every missing scope, and only those', () => {
    const verdict = evaluateWith(['orders:read', 'orders:write', 'orders:delete'], acme)
    expect(verdict.kind === 'deny' && verdict.denial.detail?.missing).toEqual(['orders:write', 'orders:delete'])
    expect(verdict.kind === 'deny' && verdict.denial.message).toBe("Route 'orders-create' needs scopes 'orders:write', 'orders:delete'.")
  })

  it('compares scopes exactly, not by prefix or case', () => {
    expect(evaluateWith(['orders:write'], { ...acme, scopes: ['orders:writer', 'ORDERS:WRITE', 'orders'] }).kind).toBe('deny')
  })

  it('tells a bearer-token caller which scope to request (RFC 6750 insufficient_scope)', () => {
    const verdict = evaluateWith(['orders:write'], { consumer: 'mobile', method: 'jwt', scopes: [] })
    expect(verdict.kind === 'deny' && verdict.denial.headers).toEqual({
      'www-authenticate': 'Bearer realm="gatehouse", error="insufficient_scope", scope="orders:write"',
    })
  })

  it('answers 401 unauthenticated when no authn layer set an identity', () => {
    const verdict = evaluateWith(['orders:write'], undefined)
    if (verdict.kind !== 'deny') throw new Error('expected a denial')
    expect(verdict.denial.rule).toBe('authz.unauthenticated')
    expect(verdict.denial.status).toBe(401)
    expect(verdict.denial.remediation).toContain("add an 'auth' policy")
    expect(verdict.denial.headers?.['www-authenticate']).toBeDefined()
  })

  it.each([
    [[], [], "list at least one scope, or remove 'scopes' from the route"],
    ['orders:write', [], 'expected array'],
    [['orders write'], [0], 'a scope is one word of printable ASCII'],
    [['orders"write'], [0], 'a scope is one word of printable ASCII'],
    [[''], [0], 'a scope cannot be empty'],
  ])('refuses the config %j', (raw, path, message) => {
    const result = AuthzConfig.safeParse(raw)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(result.error?.issues[0].message).toContain(message)
  })
})

describe('401 versus 403 across authn and authz', () => {
  const chainDeps: PolicyDeps = {
    ...deps,
    consumers: [{ name: 'acme-app', keyHashes: [hashKey('acme-key')], scopes: ['orders:read'] }],
  }
  const authn = authnPolicy.compile(AuthnConfig.parse({ methods: ['key'] }), chainDeps)
  const authz = authzPolicy.compile(AuthzConfig.parse(['orders:write']), chainDeps)

  // Runs the two layers the way the pipeline does: authn's identity feeds authz.
  async function status(headers: Record<string, string>): Promise<number> {
    const ctx = makeContext({ method: 'POST', url: '/orders', headers })
    const first = await authn(ctx)
    if (first.kind === 'deny') return first.denial.status
    ctx.identity = first.kind === 'allow' ? first.identity : undefined
    const second = await authz(ctx)
    return second.kind === 'deny' ? second.denial.status : 200
  }

  it('answers 401 to an unknown caller and 403 to a known one without the scope', async () => {
    expect(await status({})).toBe(401)
    expect(await status({ 'x-api-key': 'wrong' })).toBe(401)
    expect(await status({ 'x-api-key': 'acme-key' })).toBe(403)
  })
})
