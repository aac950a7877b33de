import { describe, expect, it } from 'vitest'
import type { Identity } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import type { ConsumerRecord, Deny, Verdict } from '../define.js'
import { authzRulesPolicy } from './index.js'
import { AuthzRulesConfig } from './schema.js'

const consumers: ConsumerRecord[] = [
  { name: 'acme-app', tenant: 'acme', keyHashes: [], scopes: ['orders:read'], roles: ['orders-reader'], attributes: { region: 'eu', level: 3 } },
  { name: 'acme-admin', tenant: 'acme', keyHashes: [], scopes: [], roles: ['admin', 'orders-writer'] },
  { name: 'globex-app', tenant: 'globex', keyHashes: [], scopes: [], roles: ['orders-writer'] },
]
const identities: Record<string, Identity> = {
  'acme-app': Object.freeze({ consumer: 'acme-app', tenant: 'acme', method: 'key', scopes: ['orders:read'], claims: { keyId: 'ab12cd34' } }),
  'acme-admin': { consumer: 'acme-admin', tenant: 'acme', method: 'key', scopes: [] },
  'globex-app': { consumer: 'globex-app', tenant: 'globex', method: 'key', scopes: [] },
  token: { consumer: 'mobile', method: 'jwt', scopes: [], claims: { sub: 'mobile', roles: ['orders-writer'] } },
}

// 2026-01-05 is a Monday; 03:30 UTC.
const monday0330 = Date.UTC(2026, 0, 5, 3, 30)

function compile(raw: unknown, clock = fakeClock(monday0330)) {
  const evaluate = authzRulesPolicy.compile(AuthzRulesConfig.parse(raw), makeDeps({ consumers, clock }))
  return (who: string | undefined, request: Parameters<typeof makeContext>[0] = {}): Verdict => {
    const verdict = evaluate(makeContext({ method: 'POST', url: '/tenants/acme/orders', params: { tenant: 'acme' }, identity: who === undefined ? undefined : identities[who], ...request }))
    if (verdict instanceof Promise) throw new Error('authz rules must answer synchronously')
    return verdict
  }
}

function denial(verdict: Verdict): Deny['denial'] {
  if (verdict.kind !== 'deny') throw new Error(`expected a denial, got ${verdict.kind}`)
  return verdict.denial
}

describe('authz roles', () => {
  const run = compile({ roles: ['admin', 'orders-writer'] })

  it('lets a caller holding any listed role through', () => {
    expect(run('acme-admin')).toEqual({ kind: 'allow' })
    expect(run('globex-app').kind).toBe('allow')
  })

  it('takes roles from a token claim for callers without a consumer entry', () => {
    expect(run('token').kind).toBe('allow')
  })

  it('denies a caller without any of the roles, with required and granted in the detail', () => {
    const d = denial(run('acme-app'))
    expect([d.rule, d.status]).toEqual(['authz.role-missing', 403])
    expect(d.detail).toMatchObject({ required: ['admin', 'orders-writer'], granted: ['orders-reader'] })
    expect(d.remediation).toBe("Grant consumer 'acme-app' one of the roles 'admin', 'orders-writer' (consumers[].roles), or issue a token carrying it.")
  })

  it('answers 401 when no authn layer set an identity', () => {
    const d = denial(run(undefined))
    expect([d.rule, d.status]).toEqual(['authz.unauthenticated', 401])
    expect(d.headers?.['www-authenticate']).toBeDefined()
  })
})

describe('authz permissions', () => {
  const run = compile({
    permissions: [
      { role: 'orders-writer', methods: ['POST', 'PUT'], paths: ['/orders/*', '/tenants/:tenant/orders'] },
      { role: 'orders-reader', methods: ['GET'], paths: ['/orders', '/orders/:id'] },
    ],
  })

  it('allows a method and path some permission of a held role covers', () => {
    expect(run('globex-app', { method: 'PUT', url: '/orders/12' }).kind).toBe('allow')
    expect(run('globex-app', { method: 'POST', url: '/tenants/acme/orders' }).kind).toBe('allow')
    expect(run('acme-app', { method: 'GET', url: '/orders/12' }).kind).toBe('allow')
    // GET permissions cover HEAD.
    expect(run('acme-app', { method: 'HEAD', url: '/orders' }).kind).toBe('allow')
  })

  it.each([
    ['a method the role lacks', 'acme-app', 'DELETE', '/orders/12'],
    ['a path below an exact pattern', 'acme-app', 'GET', '/orders/12/items'],
    ['the prefix itself for a /* pattern', 'globex-app', 'POST', '/orders'],
    ['an empty :param segment', 'globex-app', 'POST', '/tenants//orders'],
    ['a permission of a role not held', 'acme-app', 'POST', '/orders/12'],
  ])('denies %s', (_name, who, method, url) => {
    const d = denial(run(who, { method, url }))
    expect([d.rule, d.status]).toEqual(['authz.permission-denied', 403])
    expect(d.detail).toMatchObject({ method, path: url })
  })

  it('lists the permissions of the caller’s roles it considered', () => {
    const d = denial(run('acme-app', { method: 'DELETE', url: '/orders/12' }))
    expect(d.detail?.considered).toEqual(['orders-reader: GET /orders /orders/:id'])
    expect(d.message).toBe("None of your roles may DELETE /orders/12 on route 'orders-create'.")
  })
})

describe('authz attribute rules (CEL)', () => {
  it('allows when an allow rule holds and names the values it saw when it does not', () => {
    const run = compile({ rules: [{ name: 'own-tenant-only', allow: 'identity.tenant == params.tenant' }] })
    expect(run('acme-app').kind).toBe('allow')
    const d = denial(run('globex-app'))
    expect([d.rule, d.status]).toEqual(['authz.rule-denied', 403])
    expect(d.detail).toEqual({
      rule: 'own-tenant-only',
      allow: 'identity.tenant == params.tenant',
      saw: { 'identity.tenant': 'globex', 'params.tenant': 'acme' },
    })
    expect(d.message).toBe("Refused by access rule 'own-tenant-only'.")
  })

  it('denies when a deny rule holds, using the clock in UTC', () => {
    const clock = fakeClock(monday0330)
    const run = compile({ rules: [{ name: 'business-hours', deny: 'time.hour < 6 || time.weekday == 0', message: 'Orders are accepted from 06:00 UTC.' }] }, clock)
    const d = denial(run('acme-app'))
    expect(d.rule).toBe('authz.rule-denied')
    expect(d.message).toBe('Orders are accepted from 06:00 UTC.')
    expect(d.detail?.saw).toEqual({ 'time.hour': 3, 'time.weekday': 1 })
    clock.set(Date.UTC(2026, 0, 5, 9, 0))
    expect(run('acme-app').kind).toBe('allow')
  })

  it('reads request headers, query, body, client ip and consumer attributes', () => {
    const run = compile({
      rules: [
        { name: 'json-client', allow: 'request.headers["x-client"] == "web" && request.query.page == "2"' },
        { name: 'small-orders', allow: 'body.items.all(i, i.qty <= 10) && body.total < 100.5' },
        { name: 'local', allow: 'client.ip.startsWith("10.")' },
        { name: 'eu-only', allow: 'identity.attributes.region == "eu" && "orders-reader" in identity.roles' },
      ],
    })
    const request = { url: '/orders?page=2&page=3', headers: { 'x-client': 'web' }, json: { items: [{ qty: 2 }, { qty: 10 }], total: 42 }, clientIp: '10.0.0.7' }
    expect(run('acme-app', request).kind).toBe('allow')
    const d = denial(run('acme-app', { ...request, json: { items: [{ qty: 11 }], total: 42 } }))
    expect(d.detail).toMatchObject({ rule: 'small-orders', saw: { 'body.items': [{ qty: 11 }], 'body.total': 42 } })
  })

  it('never shows credentials to rules: authorization, cookie and key headers are absent', () => {
    const run = compile({ rules: [{ name: 'no-secrets', deny: '["authorization", "cookie", "x-api-key", "x-custom-token"].exists(h, h in request.headers) || !("x-client" in request.headers)' }] })
    const headers = { authorization: 'Bearer abc', cookie: 'sid=1', 'x-api-key': 'secret', 'x-custom-token': 't', 'x-client': 'web' }
    expect(run('acme-app', { headers }).kind).toBe('allow')
  })

  it('redacts secret-looking values it saw', () => {
    const run = compile({ rules: [{ name: 'no-default-password', deny: 'body.password == "changeme"' }] })
    const d = denial(run('acme-app', { json: { password: 'changeme' } }))
    expect(d.detail?.saw).toEqual({ 'body.password': '[redacted]' })
  })

  it('fails closed with rule-error on a missing field, naming the error and what was absent', () => {
    const run = compile({ rules: [{ name: 'region', allow: 'params.region == "eu"' }] })
    const d = denial(run('acme-app'))
    expect([d.rule, d.status]).toEqual(['authz.rule-error', 403])
    expect(d.detail).toMatchObject({ rule: 'region', error: 'No such key: region', absent: ['params.region'], saw: {} })
    expect(d.remediation).toContain('has(...)')
  })

  it('fails closed with rule-error on a wrong type or a non-boolean result', () => {
    expect(denial(compile({ rules: [{ name: 'typed', allow: 'body.total > 5' }] })('acme-app', { json: { total: 'lots' } })).rule).toBe('authz.rule-error')
    const d = denial(compile({ rules: [{ name: 'not-bool', allow: 'body.flag' }] })('acme-app', { json: { flag: 'yes' } }))
    expect(d.detail).toMatchObject({ rule: 'not-bool', error: 'the expression gave string, not true or false' })
    // No parsed body: body is null, and has() guards work.
    expect(compile({ rules: [{ name: 'guarded', allow: 'body == null || body.total > 5' }] })('acme-app').kind).toBe('allow')
  })

  it('runs roles, then permissions, then rules, stopping at the first failure', () => {
    const run = compile({ roles: ['orders-writer'], rules: [{ name: 'never', allow: 'false' }] })
    expect(denial(run('acme-app')).rule).toBe('authz.role-missing')
    expect(denial(run('globex-app')).rule).toBe('authz.rule-denied')
  })
})

describe('authz config', () => {
  it.each([
    [{}, [], 'give roles, permissions or rules'],
    [{ roles: [] }, ['roles'], 'list at least one role'],
    [{ roles: ['bad role'] }, ['roles', 0], 'role names use letters'],
    [{ permissions: [{ role: 'a', paths: ['orders'] }] }, ['permissions', 0, 'paths', 0], 'a path starts with /'],
    [{ permissions: [{ role: 'a', paths: ['/orders/*/x'] }] }, ['permissions', 0, 'paths', 0], "paths are '/orders' (exact)"],
    [{ permissions: [{ role: 'a', methods: ['post'], paths: ['/x'] }] }, ['permissions', 0, 'methods', 0], 'upper-case'],
    [{ permissions: [{ role: 'a', paths: ['/x'], scope: 'y' }] }, ['permissions', 0], 'Unrecognized key'],
    [{ rules: [{ name: 'r', allow: 'true', deny: 'false' }] }, ['rules', 0], "exactly one of 'allow' or 'deny'"],
    [{ rules: [{ name: 'r' }] }, ['rules', 0], "exactly one of 'allow' or 'deny'"],
    [{ rules: [{ name: 'r', allow: 'identity.tenant ==' }] }, ['rules', 0, 'allow'], 'not a valid CEL expression'],
    [{ rules: [{ name: 'r', allow: 'user.admin' }] }, ['rules', 0, 'allow'], 'Unknown variable: user'],
    [{ rules: [{ name: 'r', allow: '1 + 2' }] }, ['rules', 0, 'allow'], 'must be true or false, but it gives int'],
    [{ rules: [{ name: 'r', allow: 'request.path.matches("^/(a+)+$")' }] }, ['rules', 0, 'allow'], "'matches' is not available"],
    [{ rules: [{ name: 'r', allow: 'body.a.all(x, body.b.exists(y, x == y))' }] }, ['rules', 0, 'allow'], 'loops cannot be nested'],
    [{ rules: [{ name: 'r', deny: `request.path == "${'a'.repeat(1100)}"` }] }, ['rules', 0, 'deny'], 'at most 1024 characters'],
    [{ rules: [{ name: 'r', allow: 'true' }, { name: 'r', deny: 'false' }] }, ['rules', 1, 'name'], "duplicate rule name 'r'"],
  ])('refuses %j', (raw, path, message) => {
    const result = AuthzRulesConfig.safeParse(raw)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(result.error?.issues[0].message).toContain(message)
  })

  it('warns when the route has no auth policy', () => {
    expect(authzRulesPolicy.lint?.({ roles: ['admin'] }, { name: 'x', policies: { authz: {} } })).toHaveLength(1)
    expect(authzRulesPolicy.lint?.({ roles: ['admin'] }, { name: 'x', policies: { authz: {}, auth: {} } })).toEqual([])
  })
})
