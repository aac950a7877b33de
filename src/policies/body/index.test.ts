import type { IncomingHttpHeaders } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { RequestContext } from '../../gateway/context.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { bodyPolicy } from './index.js'
import { findJsonSyntaxError } from './json-error.js'
import { rules } from './rules.js'
import { BodyConfig } from './schema.js'
import { findInvalidUtf8Offset } from './utf8.js'
import { makeDeps } from '../../testing/make-deps.js'

const deps: PolicyDeps = makeDeps()

function evaluateFor(
  config: unknown,
  request: { method?: string; headers?: IncomingHttpHeaders; body?: RequestContext['body'] | Buffer | string },
): Verdict {
  const evaluate = bodyPolicy.compile(BodyConfig.parse(config), deps)
  const raw = request.body
  // makeContext's `body` type intersects to BodyState only, so text and bytes are wrapped here.
  const body: RequestContext['body'] | undefined =
    typeof raw === 'string' || Buffer.isBuffer(raw) ? { kind: 'buffered', bytes: Buffer.from(raw) } : raw
  return evaluate(makeContext({ method: request.method ?? 'POST', headers: request.headers, body })) as Verdict
}

function denialOf(verdict: Verdict): Deny['denial'] {
  if (verdict.kind !== 'deny') throw new Error(`expected a denial, got ${JSON.stringify(verdict)}`)
  return verdict.denial
}

function allowOf(verdict: Verdict): Allow {
  if (verdict.kind !== 'allow') throw new Error(`expected allow, got ${JSON.stringify(verdict)}`)
  return verdict
}

const json = { 'content-type': 'application/json' }

describe('body policy: size', () => {
  it('refuses a body the pipeline stopped reading with body.too-large (413) and both byte counts', () => {
    const denial = denialOf(evaluateFor({ maxBytes: 1024 }, { body: { kind: 'too-large', limitBytes: 1024, receivedBytes: 1500 } }))
    expect(denial.rule).toBe('body.too-large')
    expect(denial.status).toBe(413)
    expect(denial.detail).toMatchObject({ limitBytes: 1024, receivedBytes: 1500 })
    expect(denial.remediation).toContain('routes[orders-create].policies.body.maxBytes')
  })

  it('refuses a declared Content-Length over the limit before any byte is read', () => {
    const denial = denialOf(evaluateFor({ maxBytes: 1024 }, { headers: { 'content-length': '5000000000' } }))
    expect(denial.rule).toBe('body.too-large')
    expect(denial.detail).toEqual({ limitBytes: 1024, receivedBytes: 0, declaredBytes: 5000000000 })
    expect(denial.message).toContain('5000000000-byte body')
  })

  it('refuses an absurd Content-Length without turning it into a float', () => {
    const denial = denialOf(evaluateFor({}, { headers: { 'content-length': '9'.repeat(40) } }))
    expect(denial.detail?.declaredBytes).toBeNull()
  })

  it('refuses a buffered body over its own limit even when the pipeline buffered more for another layer', () => {
    const denial = denialOf(evaluateFor({ maxBytes: 10 }, { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(11) }))
    expect(denial.detail).toMatchObject({ limitBytes: 10, receivedBytes: 11 })
  })

  it('accepts a body of exactly maxBytes', () => {
    expect(evaluateFor({ maxBytes: 10 }, { headers: { 'content-length': '10', 'content-type': 'text/plain' }, body: 'x'.repeat(10) }).kind).toBe('allow')
  })

  it('tells the pipeline to buffer up to maxBytes', () => {
    expect(bodyPolicy.needsBody?.(BodyConfig.parse({}))).toBe(true)
    expect(bodyPolicy.bodyLimitBytes?.(BodyConfig.parse({}))).toBe(1_048_576)
    expect(bodyPolicy.bodyLimitBytes?.(BodyConfig.parse({ maxBytes: 2048 }))).toBe(2048)
  })
})

describe('body policy: media type', () => {
  const config = { types: ['application/json', 'text/*', 'application/*+json'] }

  it('refuses a type outside body.types with body.unsupported-type (415) naming the type and the list', () => {
    const denial = denialOf(evaluateFor(config, { headers: { 'content-type': 'application/xml; charset=utf-8' }, body: '<a/>' }))
    expect(denial.rule).toBe('body.unsupported-type')
    expect(denial.status).toBe(415)
    expect(denial.detail).toEqual({ type: 'application/xml', allowedTypes: config.types })
    expect(denial.remediation).toContain("Add 'application/xml' to routes[orders-create].policies.body.types")
  })

  it('refuses a body without Content-Type when types are configured', () => {
    const denial = denialOf(evaluateFor(config, { body: '{}' }))
    expect(denial.rule).toBe('body.unsupported-type')
    expect(denial.detail?.type).toBeNull()
    expect(denial.message).toContain('no Content-Type')
  })

  it('refuses a Content-Type that is not a media type', () => {
    expect(denialOf(evaluateFor(config, { headers: { 'content-type': 'json' }, body: '{}' })).detail?.type).toBe('json')
  })

  it.each([
    ['application/json', '{}'],
    ['Application/JSON; charset=UTF-8', '{}'],
    ['text/csv', 'a,b'],
    ['application/merge-patch+json', '{"a":null}'],
  ])('accepts %s', (contentType, body) => {
    expect(evaluateFor(config, { headers: { 'content-type': contentType }, body }).kind).toBe('allow')
  })

  it('does not let application/*+json match a bare application/+json', () => {
    expect(denialOf(evaluateFor({ types: ['application/*+json'] }, { headers: { 'content-type': 'application/+json' }, body: '{}' })).rule).toBe(
      'body.unsupported-type',
    )
  })

  it('lets requests without a body through whatever their method or Content-Type', () => {
    expect(evaluateFor(config, { method: 'GET' })).toEqual({ kind: 'allow' })
    expect(evaluateFor(config, { method: 'DELETE', headers: { 'content-type': 'application/xml' } }).kind).toBe('allow')
    expect(evaluateFor(config, { method: 'POST', headers: { 'content-length': '0' }, body: '' }).kind).toBe('allow')
  })

  it('accepts any type, or none, when types is not set', () => {
    expect(evaluateFor({}, { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0xff, 0x00]) }).kind).toBe('allow')
    expect(evaluateFor({}, { body: 'raw' }).kind).toBe('allow')
  })
})

describe('body policy: JSON', () => {
  it('hands on the parsed JSON for later layers', () => {
    const verdict = allowOf(evaluateFor({}, { headers: json, body: '{"order":{"qty":2}}' }))
    expect(verdict.json).toEqual({ order: { qty: 2 } })
  })

  it('refuses malformed JSON with body.malformed-json (400) giving the position, not the body', () => {
    const body = '{\n  "card": "4111111111111111",\n  "qty": 2,\n}'
    const denial = denialOf(evaluateFor({}, { headers: json, body }))
    expect(denial.rule).toBe('body.malformed-json')
    expect(denial.status).toBe(400)
    expect(denial.detail).toMatchObject({ line: 4, column: 1, position: body.length - 1, reason: 'trailing comma before the closing bracket' })
    expect(JSON.stringify(denial)).not.toContain('4111')
  })

  it('validates +json media types too', () => {
    expect(denialOf(evaluateFor({}, { headers: { 'content-type': 'application/vnd.api+json' }, body: '{' })).rule).toBe('body.malformed-json')
  })

  it('does not parse JSON when json is false', () => {
    const verdict = allowOf(evaluateFor({ json: false }, { headers: json, body: '{' }))
    expect(verdict.json).toBeUndefined()
  })

  it('does not parse bodies of other types', () => {
    expect(allowOf(evaluateFor({}, { headers: { 'content-type': 'text/plain' }, body: '{' })).json).toBeUndefined()
  })

  it('refuses JSON that is not valid UTF-8, giving the byte offset', () => {
    const body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])
    const denial = denialOf(evaluateFor({}, { headers: json, body }))
    expect(denial.rule).toBe('body.malformed-json')
    expect(denial.detail).toMatchObject({ byteOffset: 9, reason: 'invalid UTF-8 byte' })
  })

  it('reports character and byte positions separately after multi-byte text', () => {
    const denial = denialOf(evaluateFor({}, { headers: json, body: '{"name":"Zoë" "x"}' }))
    expect(denial.detail).toMatchObject({ position: 14, byteOffset: 15, column: 15 })
  })

  it('parses a body of exactly the 1 MiB default limit quickly', () => {
    const items: string[] = []
    for (let i = 0; items.length * 40 < 1_040_000; i++) items.push(JSON.stringify({ id: i, name: `item-${String(i).padStart(8, '0')}` }))
    const head = `{"items":[${items.join(',')}],"pad":"`
    const body = `${head}${'x'.repeat(1_048_576 - head.length - 2)}"}`
    expect(Buffer.byteLength(body)).toBe(1_048_576)
    const started = performance.now()
    const verdict = allowOf(evaluateFor({}, { headers: json, body }))
    expect(performance.now() - started).toBeLessThan(1000)
    expect((verdict.json as { items: unknown[] }).items.length).toBe(items.length)
  })
})

describe('findJsonSyntaxError', () => {
  it.each([
    ['', 0, 'the body is empty'],
    ['\ufeff{}', 0, 'the body starts with a byte order mark, which JSON does not allow'],
    ['{"a":1,}', 7, 'trailing comma before the closing bracket'],
    ['[1,]', 3, 'trailing comma before the closing bracket'],
    ['{"a":}', 5, 'unexpected character, expected a value'],
    ['{"a":1,"b":}', 11, 'unexpected character, expected a value'],
    ['{a:1}', 1, 'expected a double-quoted property name'],
    ["{'a':1}", 1, 'expected a double-quoted property name'],
    ["['a']", 1, 'strings must use double quotes'],
    ['{"a" 1}', 5, "expected ':' after the property name"],
    ['[1 2]', 3, "expected ',' or ']'"],
    ['[1,2', 4, "unexpected end of input, expected ',' or ']'"],
    ['"ab', 0, 'unterminated string'],
    ['"a\nb"', 2, 'control character inside a string (escape it, e.g. \\n)'],
    ['"\\x"', 1, 'invalid escape sequence in a string'],
    ['"\\u12G4"', 1, 'invalid \\u escape, expected four hex digits'],
    ['{"a":01}', 6, 'numbers may not have leading zeros'],
    ['-', 1, "expected a digit after '-'"],
    ['1.', 2, "expected a digit after '.'"],
    ['1e+', 3, 'expected a digit in the exponent'],
    ['tru', 3, "unexpected end of input inside 'true'"],
    ['nul1', 3, "invalid literal, expected 'null'"],
    ['{} x', 3, 'unexpected data after the JSON value'],
  ])('locates the error in %j at %i: %s', (text, position, reason) => {
    expect(() => JSON.parse(text)).toThrow()
    expect(findJsonSyntaxError(text)).toMatchObject({ position, reason })
  })

  it.each(['{}', '[]', '0', '-1.5e+10', '"\\u00e9\\n"', ' {"a":[1,{"b":null}],"c":true} ', '[[[[[]]]]]'])('finds nothing wrong in %j', (text) => {
    expect(findJsonSyntaxError(text)).toBeUndefined()
  })

  it('handles deep nesting without recursion', () => {
    const deep = '['.repeat(100_000)
    expect(findJsonSyntaxError(deep)).toMatchObject({ position: 100_000, reason: 'unexpected end of input, expected a value' })
  })
})

describe('findInvalidUtf8Offset', () => {
  it.each([
    [[0x61, 0xc3, 0xa9], -1],
    [[0xf0, 0x9f, 0x98, 0x80], -1],
    [[0x61, 0xc0, 0xaf], 1],
    [[0xed, 0xa0, 0x80], 0],
    [[0xe2, 0x82], 0],
    [[0xf4, 0x90, 0x80, 0x80], 0],
    [[0x61, 0x62, 0xff], 2],
  ])('finds the bad byte in %j at %i', (bytes, offset) => {
    expect(findInvalidUtf8Offset(Uint8Array.from(bytes))).toBe(offset)
  })
})

describe('body config', () => {
  it('spells its rule ids in rules.ts as body.<rule>', () => {
    expect(Object.values(rules).map((r) => [r.id, r.status])).toEqual([
      ['body.too-large', 413],
      ['body.unsupported-type', 415],
      ['body.malformed-json', 400],
    ])
    expect(bodyPolicy.order).toBe(300)
  })

  it('defaults to 1 MiB, any type, JSON checked', () => {
    expect(BodyConfig.parse({})).toEqual({ maxBytes: 1_048_576, json: true })
  })

  it.each([
    [{ maxBytes: -1 }, ['maxBytes'], 'Too small: expected number to be >=0'],
    [{ maxBytes: 1.5 }, ['maxBytes'], 'Invalid input: expected int, received number'],
    [{ maxBytes: 1e9 }, ['maxBytes'], 'Too big: expected number to be <=104857600'],
    [{ maxBytes: '1mb' }, ['maxBytes'], 'Invalid input: expected number, received string'],
    [{ types: ['application/json', 'json'] }, ['types', 1], "'json' is not a media type"],
    [{ types: ['*/json'] }, ['types', 0], "'*/json' is not a media type"],
    [{ types: ['application/json; charset=utf-8'] }, ['types', 0], "'application/json; charset=utf-8' has parameters"],
    [{ json: 'yes' }, ['json'], 'Invalid input: expected boolean, received string'],
    [{ maxBodyBytes: 10 }, [], 'Unrecognized key: "maxBodyBytes"'],
  ])('rejects config %j at path %j', (config, path, message) => {
    const result = BodyConfig.safeParse(config)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(result.error?.issues[0].message).toContain(message)
  })
})
