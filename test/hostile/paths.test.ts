import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { TestGateway } from '../../src/testing/start-gateway.js'
import type { TestUpstream } from '../../src/testing/start-upstream.js'
import { problemOf, sendRaw, useHostileGateway } from './raw-http.js'

// `/admin` and `/admin/*` deny every client by ip; `/public/*` has no policy. A path trick
// that slipped past the router would show up as an upstream request that a permissive
// server (one that decodes twice, folds `\` into `/`, strips `;params`, ignores case)
// would serve as /admin.

let upstream: TestUpstream
let gateway: TestGateway

useHostileGateway((started) => ({ gateway, upstream } = started), { checkAfterEach: true })

/** How the most permissive upstream could read a path it receives. */
function permissiveReading(url: string): string {
  let path = url.split('?')[0]
  for (let k = 0; k < 3; k++) {
    try {
      path = decodeURIComponent(path)
    } catch {
      // Old decoders map overlong forms like %c0%ae to '.': emulate that before giving up.
      path = path.replace(/%c0%ae/gi, '.').replace(/%c0%af/gi, '/')
    }
  }
  path = path.replace(/\\/g, '/').replace(/\0.*$/, '').toLowerCase()
  const out: string[] = []
  for (const raw of path.split('/')) {
    const segment = raw.split(';')[0]
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  return `/${out.join('/')}`
}

const tricks = [
  '/%2e%2e/admin',
  '/public/%2e%2e/admin',
  '/public/.%2e/admin',
  '/public/%2E%2E/admin/x',
  '//admin',
  '//admin/x',
  '/admin/.',
  '/admin/./x',
  '/public/../admin',
  '/public/x/../../admin/x',
  '/ADMIN',
  '/Admin/x',
  '/public/../ADMIN/x',
  '/%61dmin/x',
  '/public/..%2Fadmin',
  '/public/..%2fadmin',
  '/public%2F..%2Fadmin',
  '/public/%2e%2e%2fadmin',
  '/admin%2Fx',
  '/public/..%5Cadmin',
  '/public/..\\admin',
  '/public\\..\\admin',
  '/admin;x=1',
  '/admin;/x',
  '/public;/../admin',
  '/public/..;/admin',
  '/public/x/..;/..;/admin',
  '/public/%3b/../admin',
  '/public/%c0%ae%c0%ae/admin',
  '/public/%c0%ae%c0%ae%c0%afadmin',
  '/public/%e0%80%ae%e0%80%ae/admin',
  '/public/%ff/../admin',
  '/public/%252e%252e/admin',
  '/public/%252e%252e%252fadmin',
  '/public/%25%32%65%25%32%65/admin',
  '/public/%00/../admin',
  '/admin%00',
  '/public/x%00/../../admin',
  '/admin%20',
  '/admin%09',
  '/public/#/../../admin',
  '/admin#/public/x',
  'http://evil.example/admin',
  'http://evil.example/public/../admin/x',
  'https://evil.example//admin',
  '*',
  '/public/x?/../../admin',
]

describe('path tricks never reach the upstream as /admin without the admin policies', () => {
  it.each(tricks)('%s', async (target) => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1 })
    const response = out.responses[0]
    const forwarded = upstream.requests.slice(before)
    for (const request of forwarded) {
      expect(permissiveReading(request.url), `upstream got ${request.url}`).not.toMatch(/^\/admin(\/|$)/)
    }
    if (response.status === 200) {
      expect(forwarded).toHaveLength(1)
      expect(response.headers['gatehouse-decision']).toBe('allow')
      return
    }
    // Refused: by the admin policy (ip 403), as malformed (400), or because no route has it (404).
    expect(forwarded).toHaveLength(0)
    const problem = problemOf(response)
    expect([`${problem.layer}:${problem.rule}`]).toContainEqual(expect.stringMatching(/^(ip:denied|gateway:bad-path|gateway:no-route|gateway:malformed-request)$/))
    if (permissiveReading(target.replace(/^https?:\/\/[^/]*/, '')).match(/^\/admin(\/|$)/) && response.status !== 403) {
      // Meant for /admin but not denied by its policy: it must be refused as malformed or unrouted.
      expect([400, 404]).toContain(response.status)
    }
  })

  it('resolves dot segments and encoded dots into the admin route, which denies them', async () => {
    for (const target of ['/public/%2e%2e/admin', '/public/.%2e/admin', '//admin', '/admin/.', 'http://evil.example/public/../admin/x']) {
      const out = await sendRaw(gateway.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1 })
      expect(out.responses[0].status, target).toBe(403)
      expect(problemOf(out.responses[0])).toMatchObject({ layer: 'ip', rule: 'denied' })
    }
  })

  it.each([
    ['/public/..%2Fadmin', "'/'"],
    ['/public/..%5Cadmin', 'backslash'],
    ['/public/..\\admin', 'backslash'],
    ['/public/..;/admin', 'path parameter'],
    ['/admin;x=1', 'path parameter'],
    ['/public/%252e%252e/admin', 'double-encoded'],
    ['/public/x%00', 'control character'],
    ['/public/%c0%ae%c0%ae/admin', 'not valid UTF-8'],
    ['/public/%ff', 'not valid UTF-8'],
    ['/%2e%2e/admin', 'climbs above the root'],
    ['*', 'must start with /'],
  ])('refuses %s with 400 gateway.bad-path naming the reason', async (target, reason) => {
    const out = await sendRaw(gateway.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1 })
    expect(out.responses[0].status).toBe(400)
    expect(out.responses[0].headers['gatehouse-decision']).toBe('gateway;rule=bad-path')
    const problem = problemOf(out.responses[0])
    expect(problem).toMatchObject({ status: 400, layer: 'gateway', rule: 'bad-path' })
    // explain: public hides the specific reason from the caller; the call log keeps it.
    expect(String(problem.detail)).not.toContain(reason)
  })

  it('keeps paths that only look odd: encoded UTF-8, encoded spaces and a literal %25', async () => {
    const before = upstream.requests.length
    for (const target of ['/public/caf%C3%A9', '/public/a%20b', '/public/100%25', '/public/%e2%82%ac?x=%ff%00']) {
      const out = await sendRaw(gateway.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1 })
      expect(out.responses[0].status, target).toBe(200)
    }
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['/public/caf%C3%A9', '/public/a%20b', '/public/100%25', '/public/%E2%82%AC?x=%ff%00'])
  })

  it('passes an invalid UTF-8 query through byte for byte: the query is the upstream\'s to judge', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'GET /public/q?a=%ff%fe&b=%c0%ae&c=%2e%2e%2fadmin HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    expect(upstream.requests[before].url).toBe('/public/q?a=%ff%fe&b=%c0%ae&c=%2e%2e%2fadmin')
  })

  it('answers OPTIONS * with 400 instead of routing it', async () => {
    const out = await sendRaw(gateway.port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 })
    expect(out.responses[0].status).toBe(400)
    expect(problemOf(out.responses[0]).rule).toBe('bad-path')
  })

  it('routes an absolute-form target by its path, not by the host it names', async () => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, 'GET http://evil.example/public/abs HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 })
    expect(out.responses[0].status).toBe(200)
    expect(upstream.requests[before].url).toBe('/public/abs')
  })

  it('holds for generated combinations of the tricks (property, against the real gateway)', async () => {
    // Shaped like an attack: start inside the open prefix, climb with some spelling of `..`
    // and of `/`, aim at /admin.
    const dots = fc.constantFrom('..', '.', '%2e%2e', '.%2E', '%252e%252e', '%c0%ae%c0%ae', '..;', '..%00', 'x', '%2e')
    const slash = fc.constantFrom('/', '//', '%2f', '%2F', '%5c', '\\', ';/', '%c0%af', '%252f', '/./', '/;x/')
    const target = fc.tuple(fc.constantFrom('/public/', '/', '/public/x/', '//public/'), fc.array(fc.tuple(dots, slash), { minLength: 1, maxLength: 3 }),
      fc.constantFrom('admin', 'admin/x', 'ADMIN', 'admin;x', 'admin%00', ''))
      .map(([start, steps, end]) => `${start}${steps.map(([d, s]) => d + s).join('')}${end}`)
    await fc.assert(fc.asyncProperty(target, async (path) => {
      const before = upstream.requests.length
      const out = await sendRaw(gateway.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1 })
      const forwarded = upstream.requests.slice(before)
      for (const request of forwarded) {
        expect(permissiveReading(request.url), `${path} reached the upstream as ${request.url}`).not.toMatch(/^\/admin(\/|$)/)
      }
      expect(forwarded.length).toBe(out.responses[0].status === 200 ? 1 : 0)
    }), { numRuns: 200 })
  })
})
