import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Denial } from '../core/denial.js'
import type { JsonObject, JsonValue } from '../core/json.js'
import { makeContext } from '../testing/make-context.js'
import type { Identity } from './context.js'
import { renderProblem, type ExplainLevel } from './respond.js'

// Every caller-hidden fact carries this marker, so a leak is a substring search away.
const secret = 'S3CRET-'
const hidden = fc.string({ maxLength: 30 }).map((s) => `${secret}${s}`)

const jsonLeaf: fc.Arbitrary<JsonValue> = fc.oneof(hidden, fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
const detail: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.string({ maxLength: 10 }).map((k) => `${secret}${k}`),
  fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 5 }), jsonLeaf, { maxKeys: 3 })),
  { maxKeys: 5 },
)
const ruleWord = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/)

const denial: fc.Arbitrary<Denial> = fc.record({
  layer: ruleWord,
  rule: fc.tuple(ruleWord, ruleWord, fc.option(ruleWord, { nil: undefined })).map(([a, b, c]) => (c ? `${a}.${b}.${c}` : `${a}.${b}`)),
  status: fc.integer({ min: 400, max: 599 }),
  title: fc.string({ maxLength: 40 }),
  message: hidden,
  remediation: hidden,
  publicRemedy: fc.string({ maxLength: 40 }).filter((s) => !s.includes(secret)),
  detail: fc.option(detail, { nil: undefined }),
  headers: fc.constant(undefined),
}).map((d) => {
  // createDenial derives the layer from the rule id; keep the pair consistent the same way.
  const dot = d.rule.indexOf('.')
  return { ...d, layer: d.rule.slice(0, dot), title: d.title.replaceAll(secret, '') }
})

const level = fc.constantFrom<ExplainLevel>('public', 'consumer', 'full')
const requestId = fc.oneof(fc.constant('01TESTREQUEST0000000000000'), fc.string({ unit: fc.constantFrom(...'AZaz09._:-'), minLength: 1, maxLength: 128 }))
const routeName = fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), { nil: undefined })
const identity = fc.option(fc.constant<Identity>({ consumer: 'acme-app', tenant: 'acme', method: 'key', scopes: ['orders:read'] }), { nil: undefined })

const runs = { numRuns: 600 }

describe('renderProblem on arbitrary denials', () => {
  it('always yields JSON with type, title, status, layer, rule and requestId', () => {
    fc.assert(fc.property(denial, level, requestId, routeName, identity, (d, lvl, id, route, who) => {
      const ctx = makeContext({ id, routeName: route, identity: who })
      const text = JSON.stringify(renderProblem(d, ctx, lvl))
      const body = JSON.parse(text) as Record<string, unknown>
      expect(body.type).toBe(`/problems/${d.layer}/${d.rule.slice(d.rule.indexOf('.') + 1)}`)
      expect(body.title).toBe(d.title)
      expect(body.status).toBe(d.status)
      expect(body.layer).toBe(d.layer)
      expect(body.rule).toBe(d.rule.slice(d.rule.indexOf('.') + 1))
      expect(body.requestId).toBe(id)
      expect(typeof body.detail).toBe('string')
      expect(typeof body.remedy).toBe('string')
      if (route !== undefined) expect(body.route).toBe(route)
    }), runs)
  })

  it('never shows the message, the remediation or stored facts at explain: public', () => {
    fc.assert(fc.property(denial, requestId, identity, (d, id, who) => {
      const ctx = makeContext({ id, identity: who })
      const text = JSON.stringify(renderProblem(d, ctx, 'public'))
      expect(text).not.toContain(secret)
      expect(JSON.parse(text)).not.toHaveProperty('trace')
    }), runs)
  })

  it('shows the specific message at consumer level only to an identified caller, and facts only at full', () => {
    fc.assert(fc.property(denial, identity, (d, who) => {
      const ctx = makeContext({ identity: who })
      const consumer = renderProblem(d, ctx, 'consumer')
      expect(consumer.detail === d.message).toBe(who !== undefined)
      expect(consumer).not.toHaveProperty('trace')
      expect(consumer.remedy).toBe(d.publicRemedy)
      const full = renderProblem(d, ctx, 'full')
      expect(full.remedy).toBe(d.remediation)
      if (d.detail) expect(full.trace).toEqual(d.detail)
    }), runs)
  })
})
