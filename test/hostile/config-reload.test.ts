import { describe, expect, it } from 'vitest'
import type { TestGateway } from '../../src/testing/start-gateway.js'
import type { TestUpstream } from '../../src/testing/start-upstream.js'
import { expectStillServing, useHostileGateway } from './raw-http.js'

// A config edit is input too: a broken or hostile file must be refused with located
// problems while the running gateway keeps its last good config (SPEC §1).

let upstream: TestUpstream
let gateway: TestGateway

useHostileGateway((started) => ({ gateway, upstream } = started))

const aliasBomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 11 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n')

describe('hot reload of hostile config files', () => {
  it.each([
    ['an alias without its anchor', `listen: 127.0.0.1:0\nroutes: *missing\n`, 2],
    ['an alias bomb', aliasBomb, 2],
    ['a merge key pointing nowhere', `upstreams:\n  app:\n    <<: *nothing\n`, 3],
    ['a binary blob', '\u0000\u0001\u00ff{[', 1],
  ])('refuses %s with a located problem and keeps serving', async (_name, text, line) => {
    gateway.writeConfig(text)
    const result = await gateway.reload()
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.problems.length).toBeGreaterThan(0)
      expect(result.problems[0].line).toBeGreaterThanOrEqual(1)
      expect(result.problems[0].line).toBeLessThanOrEqual(line)
      expect(result.problems[0].col).toBeGreaterThanOrEqual(1)
    }
    expect(gateway.runtime().routes.map((r) => r.name)).toContain('public')
    await expectStillServing(gateway.url, upstream)
  })
})
