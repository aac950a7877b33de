import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { resolveRequestId, resolveTraceparent } from './request-id.js'

// Ids end up in response headers, log lines and SQL rows: whatever a caller sends, what comes
// out must be a short token with nothing that splits a header or a log line.
const safeId = /^[A-Za-z0-9._:-]{1,128}$/
const traceparent = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/

const incoming = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
  fc.constantFrom('a\r\nSet-Cookie: x=1', 'id with space', '', '\u0000', 'x'.repeat(129), '01J0000000000000000000000\n'),
)

describe('request ids and trace context from hostile headers', () => {
  it('always yields a safe request id, keeping the caller\'s only when it is already safe', () => {
    fc.assert(fc.property(incoming, (value) => {
      const id = resolveRequestId(value)
      expect(id).toMatch(safeId)
      if (typeof value === 'string' && safeId.test(value)) expect(id).toBe(value)
      else expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    }), { numRuns: 2000 })
  })

  it('always yields a valid traceparent whose trace id it reports', () => {
    const nearMiss = fc.tuple(fc.constantFrom('00', '01', 'ff', '0'), fc.stringMatching(/^[0-9a-fA-F]{30,34}$/), fc.stringMatching(/^[0-9a-f]{15,17}$/), fc.constantFrom('01', '00', 'zz'))
      .map(([v, t, p, f]) => `${v}-${t}-${p}-${f}`)
    fc.assert(fc.property(fc.oneof(incoming, nearMiss), (value) => {
      const out = resolveTraceparent(value)
      expect(out.traceparent).toMatch(traceparent)
      expect(out.traceparent.slice(3, 35)).toBe(out.traceId)
      expect(out.traceId).not.toBe('0'.repeat(32))
      if (typeof value === 'string' && out.traceparent === value) expect(value).toMatch(traceparent)
    }), { numRuns: 2000 })
  })

  it('issues distinct ids under load', () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => resolveRequestId(undefined)))
    expect(ids.size).toBe(20_000)
  })
})
