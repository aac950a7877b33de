import { describe, expect, it } from 'vitest'
import { loadConfigText } from '../../config/load.js'
import type { Identity, RequestContext } from '../../gateway/context.js'
import { makeContext } from '../../testing/make-context.js'
import { makeDeps } from '../../testing/make-deps.js'
import type { Allow } from '../define.js'
import { transformPolicy } from './index.js'
import { TransformConfig } from './schema.js'

const acme: Identity = { consumer: 'acme-app', tenant: 'acme', method: 'key', scopes: [] }

function transform(raw: unknown, request: Parameters<typeof makeContext>[0] = {}): Allow {
  const evaluate = transformPolicy.compile(TransformConfig.parse(raw), makeDeps())
  const verdict = evaluate(makeContext({ method: 'POST', url: '/v1/orders?x=1', ...request }))
  if (verdict instanceof Promise || verdict.kind !== 'allow') throw new Error('transform must allow synchronously')
  return verdict
}

/** What the proxy would send upstream for these client headers (same merge as the pipeline). */
function forwarded(verdict: Allow, ctx: RequestContext): Record<string, unknown> {
  const headers: Record<string, unknown> = { ...ctx.headers }
  for (const name of verdict.dropUpstreamHeaders ?? []) delete headers[name]
  return { ...headers, ...verdict.upstreamHeaders }
}

describe('transform: request headers', () => {
  it('sets, adds, removes and renames headers', () => {
    const raw = {
      request: {
        set: { 'X-Gateway': 'gatehouse' },
        add: { 'x-tier': 'free' },
        remove: ['x-debug'],
        rename: { 'x-old-id': 'x-new-id' },
      },
    }
    const ctx = makeContext({ headers: { 'x-debug': '1', 'x-old-id': 'abc', 'x-tier': 'gold' } })
    const verdict = transform(raw, ctx)
    const sent = forwarded(verdict, ctx)
    expect(sent['x-gateway']).toBe('gatehouse')
    expect(sent['x-debug']).toBeUndefined()
    expect(sent['x-old-id']).toBeUndefined()
    expect(sent['x-new-id']).toBe('abc')
    // add keeps what the client sent; it only fills a gap.
    expect(sent['x-tier']).toBe('gold')
    expect(forwarded(transform(raw), makeContext())['x-tier']).toBe('free')
  })

  it('replaces a client-sent header of the same name, so identity headers cannot be spoofed', () => {
    const raw = { request: { set: { 'x-consumer': '${consumer}', 'x-tenant': '${tenant}' } } }
    const ctx = makeContext({ identity: acme, headers: { 'x-consumer': 'admin', 'X-Tenant': 'other' } })
    const sent = forwarded(transform(raw, ctx), ctx)
    expect(sent['x-consumer']).toBe('acme-app')
    expect(sent['x-tenant']).toBe('acme')
  })

  it('sends no identity header at all for an anonymous caller (never the spoofed one)', () => {
    const ctx = makeContext({ headers: { 'x-consumer': 'admin' } })
    const verdict = transform({ request: { set: { 'x-consumer': '${consumer}' } } }, ctx)
    expect(forwarded(verdict, ctx)['x-consumer']).toBeUndefined()
  })

  it('fills ${requestId} and ${clientIp}, mixed with text', () => {
    const ctx = makeContext({ id: '01JDREQ', clientIp: '203.0.113.9' })
    const verdict = transform({ request: { set: { 'x-trace': 'req=${requestId} ip=${clientIp}' } } }, ctx)
    expect(verdict.upstreamHeaders).toEqual({ 'x-trace': 'req=01JDREQ ip=203.0.113.9' })
  })

  it('drops a value that would not be a legal header (no header injection through a token subject)', () => {
    const ctx = makeContext({ identity: { ...acme, consumer: 'evil\r\nx-admin: 1' } })
    expect(transform({ request: { set: { 'x-consumer': '${consumer}' } } }, ctx).upstreamHeaders).toBeUndefined()
  })

  it('returns one shared verdict when nothing depends on the request', () => {
    const evaluate = transformPolicy.compile(TransformConfig.parse({ request: { set: { 'x-a': '1' }, remove: ['x-b'] } }), makeDeps())
    expect(evaluate(makeContext())).toBe(evaluate(makeContext({ url: '/other' })))
  })

  it('lists header names, never values, in the trace', () => {
    const ctx = makeContext({ identity: acme, headers: { authorization: 'Bearer secret-token' } })
    const verdict = transform({ request: { rename: { authorization: 'x-original-auth' }, set: { 'x-consumer': '${consumer}' } } }, ctx)
    expect(verdict.detail).toEqual({ set: ['x-original-auth', 'x-consumer'], dropped: ['authorization', 'x-consumer'] })
    expect(JSON.stringify(verdict.detail)).not.toContain('secret-token')
  })
})

describe('transform: path rewrite and response edits', () => {
  it('rewrites the upstream path with RE2 capture groups, leaving the query to the proxy', () => {
    const verdict = transform({ rewrite: { from: '^/v1/(.*)$', to: '/api/$1' } }, { url: '/v1/orders/42?x=1' })
    expect(verdict.upstreamPath).toBe('/api/orders/42')
  })

  it('supports named groups and leaves non-matching paths alone', () => {
    expect(transform({ rewrite: { from: '^/v(?P<version>[0-9]+)/(?P<rest>.*)$', to: '/$<rest>' } }, { url: '/v2/x/y' }).upstreamPath).toBe('/x/y')
    expect(transform({ rewrite: { from: '^/v1/(.*)$', to: '/$1' } }, { url: '/health' }).upstreamPath).toBeUndefined()
  })

  it('edits response headers, with placeholders', () => {
    const verdict = transform({ response: { set: { 'x-request-id-echo': '${requestId}', 'cache-control': 'no-store' }, remove: ['Server', 'x-powered-by'] } }, { id: 'R1' })
    expect(verdict.responseHeaderEdits).toEqual({ set: { 'x-request-id-echo': 'R1', 'cache-control': 'no-store' }, remove: ['server', 'x-powered-by'] })
  })
})

describe('transform config', () => {
  it.each([
    [{ rewrite: { from: '^/v1/(?=x)', to: '/' } }, ['rewrite', 'from'], 'not a valid RE2 pattern'],
    [{ rewrite: { from: '^(a)\\1$', to: '/' } }, ['rewrite', 'from'], 'not a valid RE2 pattern'],
    [{ rewrite: { from: '^/v1/(.*)$', to: '/$2' } }, ['rewrite', 'to'], "'$2' refers to a capture group"],
    [{ rewrite: { from: '^/v1/(.*)$', to: '/a b' } }, ['rewrite', 'to'], 'no spaces'],
    [{ request: { set: { 'x-a': 'line\r\nx-b: 1' } } }, ['request', 'set', 'x-a'], 'line breaks'],
    [{ request: { set: { 'x-a': '${user}' } } }, ['request', 'set', 'x-a'], "unknown placeholder '${user}'"],
    [{ request: { add: { 'x-consumer': '${consumer}' } } }, ['request', 'add', 'x-consumer'], 'placeholders are not allowed in add'],
    [{ request: { set: { 'content-length': '1' } } }, ['request', 'set', 'content-length'], 'frames the message'],
    [{ request: { remove: ['bad header'] } }, ['request', 'remove', 0], 'is not an HTTP header name'],
    [{ request: { delete: ['x'] } }, ['request'], 'delete'],
  ])('refuses %j', (raw, path, message) => {
    const result = TransformConfig.safeParse(raw)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(JSON.stringify(result.error?.issues[0])).toContain(message)
  })
})

describe('transform lint (via the config loader)', () => {
  const configWith = (policies: string) => `
upstreams: { orders: { targets: [ "http://127.0.0.1:3001" ] } }
routes:
  - name: orders
    match: { path: /orders }
    upstream: orders
    policies:
${policies}
`
  function warningsOf(policies: string): string[] {
    const result = loadConfigText(configWith(policies), 'g.yaml', {})
    if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('\n'))
    return result.warnings.map((w) => `${w.line}:${w.col} ${w.path}: ${w.message}`)
  }

  it('warns when a transform removes a credential header the upstream may check', () => {
    const warnings = warningsOf('      transform: { request: { remove: [ x-trace, Authorization ] } }')
    expect(warnings).toEqual([
      "8:50 routes[0].policies.transform.request.remove[1]: removes 'authorization' before the upstream; if the upstream checks it, every call will be refused there (403/401 from the upstream)",
    ])
  })

  it('warns when a transform renames the cookie or the csrf token header configured on the route', () => {
    const warnings = warningsOf(`      csrf: { token: { header: X-XSRF-Token } }
      transform: { request: { rename: { cookie: x-cookie, x-xsrf-token: x-token } } }`)
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toContain("renames 'cookie' to 'x-cookie'")
    expect(warnings[1]).toContain("renames 'x-xsrf-token' to 'x-token'")
  })

  it('keeps ${consumer} for the request instead of reading it from the environment', () => {
    const result = loadConfigText(configWith("      transform: { request: { set: { x-consumer: '${consumer}' } } }"), 'g.yaml', {})
    const policies = result.ok ? (result.config.routes[0].policies as { transform?: TransformConfig }) : undefined
    expect(policies?.transform?.request?.set).toEqual({ 'x-consumer': '${consumer}' })
  })

  it('refuses a rewrite RE2 cannot compile, with its location', () => {
    const result = loadConfigText(configWith("      transform: { rewrite: { from: '^/(?!admin)', to: '/' } }"), 'g.yaml', {})
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.problems[0].path).toBe('routes[0].policies.transform.rewrite.from')
  })
})
