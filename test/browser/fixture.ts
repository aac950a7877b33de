import { createHash } from 'node:crypto'
import { request } from 'undici'
import { startUpstream, type TestUpstream } from '../../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../../src/testing/start-gateway.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

export const tokens = {
  admin: 'console-admin-token-0123456789',
  acme: 'console-acme-admin-token-01234',
  viewer: 'console-viewer-token-012345678',
} as const

/** Each consumer's key is `<name>-key`. */
export const keyOf = (consumer: string) => `${consumer}-key`

const consumer = (name: string, tenant: string, scopes: string[]) =>
  `  - { name: ${name}, tenant: ${tenant}, keys: [ "sha256:${sha(keyOf(name))}" ], scopes: [ ${scopes.map((s) => `"${s}"`).join(', ')} ] }`

/**
 * A gateway for the console: an admin, a tenant admin of acme and a viewer token; tenant acme
 * publishes orders-api (subscription required); acme-app and acme-reader are subscribed,
 * acme-new is not; globex-app belongs to another tenant.
 */
export function consoleConfig(upstreamUrl: string, extra = ''): string {
  return `
explain: consumer${extra}
admin:
  tokens:
    - { token: "${tokens.admin}", role: admin, name: ops }
    - { token: "${tokens.acme}", role: tenant-admin, tenant: acme, name: alice@acme }
    - { token: "${tokens.viewer}", role: viewer, name: dashboards }
upstreams:
  orders: { targets: [ "${upstreamUrl}" ] }
tenants:
  - { name: acme }
  - { name: globex }
apis:
  - name: orders-api
    tenant: acme
    description: "Create and list orders of your tenant."
    routes: [ orders-list, orders-create ]
    subscription: required
consumers:
${consumer('acme-app', 'acme', ['orders:read', 'orders:write'])}
${consumer('acme-reader', 'acme', ['orders:read'])}
${consumer('acme-new', 'acme', ['orders:read', 'orders:write'])}
${consumer('globex-app', 'globex', ['orders:read'])}
subscriptions:
  - { id: 1, consumer: acme-app, api: orders-api, state: approved }
  - { id: 2, consumer: acme-reader, api: orders-api, state: approved }
routes:
  - name: orders-list
    match: { methods: [ GET ], path: /orders }
    upstream: orders
    policies: { auth: { methods: [ key ] }, subscription: {}, scopes: [ "orders:read" ] }
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies: { auth: { methods: [ key ] }, subscription: {}, scopes: [ "orders:write" ] }
  - name: reports
    match: { methods: [ GET ], path: /reports/* }
    upstream: orders
    policies: { auth: { methods: [ key ] }, rateLimit: { limit: 5, window: 60s, by: consumer } }
  - name: search
    match: { path: /search }
    upstream: orders
    policies: { waf: { mode: block, paranoia: 1 } }
`
}

export interface ConsoleFixture {
  gateway: TestGateway
  upstream: TestUpstream
  /** The admin listener's URL: the console, the portal and their APIs. */
  consoleUrl: string
  /** Sends a call to the gateway with a consumer's key (a name, or an issued `gh_` key itself; none for anonymous); returns its status. */
  call(method: 'GET' | 'POST', path: string, consumer?: string, requestId?: string): Promise<number>
  close(): Promise<void>
}

/** `extra`: top-level YAML added to the config (the screenshots turn on `alerts:`). */
export async function startConsoleFixture(extra = ''): Promise<ConsoleFixture> {
  const upstream = await startUpstream()
  const gateway = await startTestGateway(consoleConfig(upstream.url, extra))
  if (!gateway.adminUrl) throw new Error('the fixture gateway has no admin listener')
  const call = async (method: 'GET' | 'POST', path: string, consumer?: string, requestId?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (consumer) headers['x-api-key'] = consumer.startsWith('gh_') ? consumer : keyOf(consumer)
    if (requestId) headers['x-request-id'] = requestId
    const res = await request(`${gateway.url}${path}`, { method, headers, body: method === 'POST' ? '{}' : undefined })
    await res.body.dump()
    return res.statusCode
  }
  return {
    gateway,
    upstream,
    consoleUrl: gateway.adminUrl,
    call,
    close: async () => {
      await gateway.close(100)
      await upstream.close()
    },
  }
}

/** A mix of allowed and denied calls, so the dashboard and the call list have something to show. */
export async function seedTraffic(fixture: ConsoleFixture): Promise<void> {
  const { call } = fixture
  for (let i = 0; i < 6; i++) await call('GET', '/orders', 'acme-app')
  for (let i = 0; i < 3; i++) await call('POST', '/orders', 'acme-app')
  for (let i = 0; i < 3; i++) await call('POST', '/orders', 'acme-reader')
  for (let i = 0; i < 2; i++) await call('GET', '/orders', 'acme-new')
  await call('GET', '/orders', 'globex-app')
  for (let i = 0; i < 3; i++) await call('GET', '/orders')
  for (let i = 0; i < 8; i++) await call('GET', '/reports/daily', 'acme-reader')
  await call('GET', "/search?q=1'%20OR%20'1'%3D'1")
  await fixture.gateway.store!.flush()
}
