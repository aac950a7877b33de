import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { loadConfigText, type LoadResult } from './load.js'

const env = { GATEHOUSE_ADMIN_TOKEN: 'token-for-tests', SET: 'value' }

/** Every problem must point somewhere a user can look: a 1-based line and column. */
function expectLocatedProblems(result: LoadResult, text: string): void {
  const lineCount = text.split(/\r\n|\r|\n/).length
  const problems = result.ok ? result.warnings : result.problems
  if (!result.ok) expect(problems.length).toBeGreaterThan(0)
  for (const problem of problems) {
    expect(Number.isInteger(problem.line) && problem.line >= 1).toBe(true)
    expect(Number.isInteger(problem.col) && problem.col >= 1).toBe(true)
    expect(problem.line).toBeLessThanOrEqual(lineCount + 1)
    expect(typeof problem.message).toBe('string')
    expect(problem.message.length).toBeGreaterThan(0)
  }
}

function load(text: string): LoadResult {
  const result = loadConfigText(text, 'gatehouse.yaml', env, '/tmp')
  expectLocatedProblems(result, text)
  return result
}

// YAML tokens that exercise anchors, aliases, merge keys, tags, flow collections, env
// interpolation and indentation errors far more often than random text does.
const token = fc.constantFrom(
  'listen: ', 'routes:', 'upstreams:', 'consumers:', 'policies:', 'match:', 'path: ', 'name: ', 'upstream: ', 'targets: ',
  'ip: ', 'allow: ', 'deny: ', 'explain: ', 'store: ', 'admin: ', '\n', '\n  ', '\n    ', '\n- ', '  - ', '- ', '\t', ': ',
  '&a ', '*a', '*b', '<<: *a', '!!binary ', '!!str ', '!custom ', '? ', '{', '}', '[', ']', ',', '"', "'", '|', '>', '#',
  '---\n', '...\n', '${SET}', '${UNSET}', '${UNSET:-x}', '${', '%YAML 1.2\n', '/admin/*', '127.0.0.1:0', 'http://127.0.0.1:1',
  '0.0.0.0/0', 'public', 'full', 'null', '~', '1e999', '-1', '0x1F', '.inf', 'true', '__proto__', 'constructor', 'é', '\u0000', '\r\n',
)
const yamlSoup = fc.array(fc.oneof({ weight: 4, arbitrary: token }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), { maxLength: 60 })
  .map((parts) => parts.join(''))

// Structures close to a real config, with random values dropped into random places.
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
const junk = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 }))
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: junk })
const route = fc.record({
  name: maybe(fc.constantFrom('a', 'b', 'orders')),
  match: maybe(fc.record({ path: maybe(fc.constantFrom('/a', '/admin/*', '/x/:id', 'no-slash')), methods: maybe(fc.constant(['GET', 'POST'])) }, { requiredKeys: [] })),
  upstream: maybe(fc.constantFrom('app', 'missing')),
  policies: maybe(fc.record({
    ip: maybe(fc.record({ allow: maybe(fc.array(fc.constantFrom('10.0.0.0/8', '::1', 'not-an-ip', '300.1.1.1'), { maxLength: 3 })) }, { requiredKeys: [] })),
    body: maybe(fc.record({ maxBytes: maybe(fc.integer({ min: -10, max: 1e7 })) }, { requiredKeys: [] })),
    rateLimit: maybe(fc.record({ limit: maybe(fc.integer()), window: maybe(fc.constantFrom('60s', '1m', 'soon', '')) }, { requiredKeys: [] })),
  }, { requiredKeys: [] })),
}, { requiredKeys: [] })
const configLike = fc.record({
  listen: maybe(fc.constantFrom('127.0.0.1:8080', ':0', 'nope')),
  explain: maybe(fc.constantFrom('public', 'consumer', 'full', 'verbose')),
  store: maybe(fc.constantFrom('off', 'sqlite:./x.db', 'mysql://x')),
  upstreams: maybe(fc.record({ app: maybe(fc.record({ targets: maybe(fc.array(fc.constantFrom('http://127.0.0.1:1', 'ftp://x', ''), { maxLength: 2 })) }, { requiredKeys: [] })) }, { requiredKeys: [] })),
  routes: maybe(fc.array(route, { maxLength: 3 })),
  extra: fc.option(junk, { nil: undefined }),
}, { requiredKeys: [] })

const runs = { numRuns: 400 }

describe('loadConfigText on hostile input', () => {
  it('never throws on arbitrary text, and locates every problem at line >= 1, col >= 1', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      load(text)
    }), runs)
  })

  it('never throws on YAML token soup (anchors, aliases, merge keys, tags, env placeholders)', () => {
    fc.assert(fc.property(yamlSoup, (text) => {
      load(text)
    }), runs)
  })

  it('never throws on config-shaped structures with wrong values in random places', () => {
    fc.assert(fc.property(configLike, (config) => {
      load(stringify(config))
    }), runs)
  })

  it('never throws on arbitrary JSON values written as YAML', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      load(stringify(value))
    }), runs)
  })

  it('refuses an alias bomb with a located problem instead of expanding it', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`)
    const text = lines.join('\n')
    const started = performance.now()
    const result = load(text)
    expect(result.ok).toBe(false)
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
