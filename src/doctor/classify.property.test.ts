import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { classify } from './classify.js'
import type { Exchange } from './types.js'

const layers = ['waf', 'cdn', 'ip-filter', 'server-config', 'authn', 'authz', 'csrf', 'cors', 'rate-limit', 'gateway', 'geo', 'upstream', 'unknown']

const casesDir = join(fileURLToPath(new URL('.', import.meta.url)), 'cases')
// Recorded real-world exchanges are the seeds: mutating them reaches deep into the
// fingerprint matchers, which random objects never do.
const recorded: Exchange[] = readdirSync(casesDir, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(join(casesDir, name), 'utf8')) as Exchange)
  .filter((c) => c.request !== undefined && c.response !== undefined)

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', 'cloudflare', 'cf-ray', 'AWS', 'x-amzn-RequestId', 'Request blocked.',
  'error code: 1020', 'CSRF verification failed', 'Forbidden', '<html>', '{"message":', 'null', '\u0000', '\uD800', 'é'.repeat(50)))
const headers = fc.dictionary(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('server', 'Server', 'content-type', 'cf-ray', 'via',
  'x-cache', 'www-authenticate', 'gatehouse-decision', 'x-request-id', 'retry-after', '__proto__', 'constructor')), text, { maxKeys: 8 })

const randomExchange: fc.Arbitrary<Exchange> = fc.record({
  request: fc.record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'OPTIONS'), fc.string({ maxLength: 10 })),
    url: fc.oneof(fc.webUrl(), fc.string({ maxLength: 60 })),
    headers,
    body: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
  }),
  response: fc.record({
    status: fc.oneof(fc.constantFrom(401, 403, 404, 405, 429, 502, 503), fc.integer({ min: -5, max: 1200 }), fc.constantFrom(Number.NaN, 1e308)),
    headers,
    body: fc.option(fc.oneof(fc.string({ maxLength: 400 }), fc.constant('<html>'.repeat(20_000))), { nil: undefined }),
  }),
})

const mutatedRecorded: fc.Arbitrary<Exchange> = fc.tuple(fc.constantFrom(...recorded), headers, fc.nat(), fc.nat({ max: 200 }), text, fc.integer({ min: 100, max: 599 }))
  .map(([base, extra, at, cut, insert, status]) => {
    const body = base.response.body ?? ''
    const i = at % (body.length + 1)
    return {
      request: base.request,
      response: {
        status: at % 3 === 0 ? status : base.response.status,
        headers: { ...base.response.headers, ...extra },
        body: body.slice(0, i) + insert + body.slice(i + cut),
      },
    }
  })

// Values a hand-written or truncated replay file can hold despite the type.
const malformed = fc.constantFrom<unknown>(
  {}, { request: null, response: null }, { request: {}, response: {} },
  { request: { method: 'GET', url: 'x', headers: null }, response: { status: '403', headers: ['a'], body: 42 } },
  { request: { method: 1, url: {}, headers: { a: 1 } }, response: { status: 403, headers: { server: null }, body: null } },
)

function expectSound(diagnoses: ReturnType<typeof classify>): void {
  expect(diagnoses.length).toBeGreaterThanOrEqual(1)
  for (const d of diagnoses) {
    expect(d.confidence).toBeGreaterThanOrEqual(0)
    expect(d.confidence).toBeLessThanOrEqual(1)
    expect(layers).toContain(d.layer)
    expect(d.producer).toMatch(/^[a-z0-9-]+$/)
    expect(Array.isArray(d.evidence) && Array.isArray(d.remedies)).toBe(true)
  }
  // Ranked best first; the trailing `unknown` entry may sit lower or first when evidence is thin.
  const known = diagnoses.filter((d) => d.producer !== 'unknown')
  for (let i = 1; i < known.length; i++) expect(known[i - 1].confidence).toBeGreaterThanOrEqual(known[i].confidence)
}

describe('classify on arbitrary exchanges', () => {
  it('never throws and returns ranked diagnoses with confidence in [0, 1] for random exchanges', () => {
    fc.assert(fc.property(randomExchange, (exchange) => {
      expectSound(classify(exchange))
    }), { numRuns: 200 })
  })

  it('never throws on mutated real-world exchanges', () => {
    fc.assert(fc.property(mutatedRecorded, (exchange) => {
      expectSound(classify(exchange))
    }), { numRuns: 300 })
  })

  it('never throws on replay files that do not match the Exchange type', () => {
    fc.assert(fc.property(malformed, (value) => {
      expectSound(classify(value as Exchange))
    }), { numRuns: 20 })
  })
})
