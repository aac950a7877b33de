import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { formatProblem, loadConfigText } from './load.js'

const keyHash = createHash('sha256').update('secret-key-1').digest('hex')

const valid = `
listen: 127.0.0.1:8080
explain: consumer
upstreams:
  orders: { targets: [ "http://127.0.0.1:3001" ], balance: round-robin }
consumers:
  - name: acme-app
    tenant: acme
    keys: [ "sha256:${keyHash}" ]
    scopes: [ "orders:read" ]
routes:
  - name: orders-create
    match: { methods: [ POST ], path: /orders }
    upstream: orders
    policies:
      ip: { allow: [ "127.0.0.0/8", "::1" ] }
      body: { maxBytes: 1048576, types: [ application/json ] }
      auth: { methods: [ key ] }
      scopes: [ "orders:write" ]
`

function problemsOf(text: string, env: Record<string, string> = {}) {
  const result = loadConfigText(text, 'g.yaml', env)
  if (result.ok) return []
  return result.problems.map(formatProblem)
}

describe('config loading', () => {
  it('accepts the SPEC example and applies defaults', () => {
    const result = loadConfigText(valid, 'g.yaml', {})
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.config.store).toBe('sqlite:./data/gatehouse.db')
    expect(result.config.upstreams.orders.connectTimeoutMs).toBe(5000)
    expect(Object.isFrozen(result.config.routes[0])).toBe(true)
  })

  it('interpolates ${ENV} and ${ENV:-default} in values', () => {
    const text = valid.replace('listen: 127.0.0.1:8080', 'listen: ${HOST:-127.0.0.1}:${PORT}')
    const result = loadConfigText(text, 'g.yaml', { PORT: '9999' })
    expect(result.ok && result.config.listen).toBe('127.0.0.1:9999')
  })

  it.each([
    ['an unknown upstream', valid.replace('upstream: orders', 'upstream: ordrs'), "g.yaml:14:15 routes[0].upstream: unknown upstream 'ordrs'; defined upstreams: orders"],
    ['a bad CIDR', valid.replace('"::1"', '"10.0.0.0/33"'), "g.yaml:16:37 routes[0].policies.ip.allow[1]:"],
    ['an unknown policy', valid.replace('scopes: [ "orders:write" ]', 'scopez: [ "orders:write" ]'), "g.yaml:19:7 routes[0].policies.scopez: unknown policy 'scopez'; known policies: ip, cors, body,"],
    ['a wrong type', valid.replace('maxBytes: 1048576', 'maxBytes: lots'), 'g.yaml:17:25 routes[0].policies.body.maxBytes: expected number, got string "lots"'],
    ['an unknown top-level key', `${valid}\nlisten_port: 3\n`, "g.yaml:21:1 listen_port: unknown key 'listen_port'"],
    ['a bad enum', valid.replace('explain: consumer', 'explain: everything'), 'g.yaml:3:10 explain: expected one of "public", "consumer", "full"'],
    ['a missing env var', valid.replace('listen: 127.0.0.1:8080', 'listen: ${NOPE}'), 'g.yaml:2:9 environment variable NOPE is not set'],
    ['a bad key reference', valid.replace(`sha256:${keyHash}`, 'sha256:abc'), 'g.yaml:9:13 consumers[0].keys[0]:'],
    ['a YAML syntax error', 'routes: [ {', 'g.yaml:1:'],
  ])('reports %s with file:line:col and the key path', (_name, text, expected) => {
    const problems = problemsOf(text)
    expect(problems.length).toBeGreaterThan(0)
    expect(problems.join('\n')).toContain(expected)
  })

  it('lists every problem, not just the first', () => {
    const text = valid.replace('upstream: orders', 'upstream: nope').replace('maxBytes: 1048576', 'maxBytes: -1').replace('"::1"', '"bad-ip"')
    const problems = problemsOf(text)
    expect(problems).toHaveLength(3)
  })

  it('warns when a route requires scopes but has no auth', () => {
    const result = loadConfigText(valid.replace('      auth: { methods: [ key ] }\n', ''), 'g.yaml', {})
    expect(result.ok).toBe(true)
    if (result.ok) expect(result.warnings.map(formatProblem).join()).toContain('routes[0].policies.scopes: warning:')
  })

  it('refuses duplicate route names and the same key given to two consumers', () => {
    const dup = valid.replace('routes:\n', `routes:\n  - name: orders-create\n    match: { path: /other }\n    upstream: orders\n`)
    expect(problemsOf(dup).join()).toContain("duplicate route name 'orders-create'")
    const twoOwners = valid.replace('routes:\n', `  - name: other\n    keys: [ "sha256:${keyHash}" ]\nroutes:\n`)
    expect(problemsOf(twoOwners).join()).toContain("the same key is also given to consumer 'acme-app'")
  })

  it('never throws on garbage', () => {
    for (const junk of ['', '42', '- a\n- b', '\u0000\u0001', 'a: [', ':::', 'routes: 7', 'upstreams: { a: 1 }']) {
      expect(() => loadConfigText(junk, 'g.yaml', {})).not.toThrow()
    }
  })
})
