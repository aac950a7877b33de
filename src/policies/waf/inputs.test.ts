import { describe, expect, it } from 'vitest'
import { makeContext } from '../../testing/make-context.js'
import { routerFor } from './engine.js'
import { addressOf, collectInputs, decodePercent, isInert, isPlainPath, quietAddressOf } from './inputs.js'
import { parseMultipart } from './multipart.js'
import { scanXml } from './xml.js'

function fieldsOf(inputs: ReturnType<typeof collectInputs>, address: string): Record<string, unknown> {
  return Object.assign({}, ...(inputs.payloads.get('')?.[address] ?? []))
}

describe('collectInputs', () => {
  it('flattens JSON bodies to field paths and keeps names apart', () => {
    const ctx = makeContext({ method: 'POST', url: '/x', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: { line1: "1 O'Connell St (rear)" }, items: [{ note: 'gift wrap, and a card' }], plain: 'blue shirts' }) })
    const inputs = collectInputs(ctx, true)
    // Plain words with no keyword ("blue shirts") cannot carry syntax and are not inspected.
    expect(fieldsOf(inputs, addressOf.body)).toEqual({ 'json.address.line1': "1 O'Connell St (rear)", 'json.items[0].note': 'gift wrap, and a card' })
    expect(fieldsOf(inputs, addressOf.keys)).toEqual({})
  })

  it('sends plain values that open no gate to the quiet address, and the rest to the usual one', () => {
    const body = { comment: "I'll update my order and select a new size if needed.", note: 'Handle with care & pack well', html: '<b>bold</b>', union: '1 union select password', fr: 'crème brûlée, s’il vous plaît' }
    const ctx = makeContext({ method: 'POST', url: '/x?q=red+shoes+or+boots', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const inputs = collectInputs(ctx, true, undefined, undefined, routerFor(1))
    expect(fieldsOf(inputs, quietAddressOf.body)).toEqual({ 'json.comment': body.comment, 'json.note': body.note })
    // Markup, an open gate (union ... select) and non-ASCII text keep every signature.
    expect(fieldsOf(inputs, addressOf.body)).toEqual({ 'json.html': body.html, 'json.union': body.union, 'json.fr': body.fr })
    expect(fieldsOf(inputs, quietAddressOf.query)).toEqual({ 'query.q': 'red shoes or boots' })
  })

  it('decodes query arguments once, reads the referer query and cookies, and copies file-like parameters', () => {
    const ctx = makeContext({
      url: '/a/b%20c?q=red+shoes+or+boots&file=..%2Fx&plain=abc&words=red+shoes',
      headers: { referer: 'https://example.com/p?page=..%2Fy', cookie: 'session=abc; pref="dark mode or light"', 'user-agent': 'Mozilla/5.0 (X11)' },
    })
    const inputs = collectInputs(ctx, false)
    expect(fieldsOf(inputs, addressOf.query)).toEqual({ 'query.q': 'red shoes or boots', 'query.file': '../x' })
    expect(fieldsOf(inputs, addressOf.file)).toEqual({ 'query.file': '../x', 'header.referer.page': '../y' })
    expect(fieldsOf(inputs, addressOf.cookie)).toEqual({ 'cookie.pref': 'dark mode or light' })
    expect(fieldsOf(inputs, addressOf.path)).toEqual({ path: '/a/b c' })
    expect(fieldsOf(inputs, addressOf.ua)).toEqual({ 'header.user-agent': 'Mozilla/5.0 (X11)' })
  })

  it('flags NUL bytes, overlong UTF-8 and a body that is not its declared type', () => {
    const ctx = makeContext({ method: 'POST', url: '/x?a=%00&b=%c0%af', headers: { 'content-type': 'application/json' }, body: 'a=1' })
    expect(collectInputs(ctx, true).findings.map((f) => `${f.check}@${f.field}`)).toEqual(['nul-byte@query.a', 'overlong-utf8@query.b', 'type-mismatch@body'])
  })

  it('bounds what it inspects: 64 KiB per value, 1 MiB in total', () => {
    const ctx = makeContext({ method: 'POST', url: '/x', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Array.from({ length: 40 }, () => 'a;b'.repeat(30_000))) })
    const inputs = collectInputs(ctx, true)
    expect(inputs.inspectedChars).toBe(1024 * 1024)
    expect(inputs.truncated).toBe(true)
  })
})

describe('decoding helpers', () => {
  it('keeps invalid UTF-8 escapes as written', () => {
    expect(decodePercent('%2e%2e%2f', false).text).toBe('../')
    expect(decodePercent('a+b%20c', true).text).toBe('a b c')
    expect(decodePercent('..%c0%af', false)).toEqual({ text: '..%c0%af', invalid: true, overlong: true })
    expect(decodePercent('caf%e9', false)).toEqual({ text: 'caf%e9', invalid: true, overlong: false })
  })

  it('treats only plain tokens as inert', () => {
    expect(isInert('SKU-123_a.b@example.com')).toBe(true)
    expect(isInert('1 or 1=1')).toBe(false)
    expect(isInert("'Brien")).toBe(false)
  })
})

describe('scanXml', () => {
  it('gives element text and attributes by path and decodes only predefined entities', () => {
    const xml = scanXml('<?xml version="1.0"?><order id="7"><note>a &lt;b&gt; &amp; &custom;</note><items><item sku="x"/></items></order>')
    expect(xml?.fields).toEqual([
      ['xml.order@id', '7'],
      ['xml.order.note', 'a <b> & &custom;'],
      ['xml.order.items.item@sku', 'x'],
    ])
  })

  it('returns the DOCTYPE as text without expanding its entities', () => {
    const xml = scanXml('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    expect(xml?.doctype).toContain('<!ENTITY x SYSTEM')
    expect(xml?.fields).toEqual([['xml.r', '&x;']])
  })

  it('refuses a body that is not XML', () => {
    expect(scanXml('{"a":1}')).toBeUndefined()
  })
})

describe('parseMultipart', () => {
  it('reads names, file names and text parts, and skips binary contents', () => {
    const body = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nHello\r\n'),
      Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'),
      Buffer.from([0x89, 0x50, 0x00, 0x01]),
      Buffer.from('\r\n--b--\r\n'),
    ])
    expect(parseMultipart(body, 'multipart/form-data; boundary=b')).toEqual([
      { name: 'title', filename: undefined, text: 'Hello' },
      { name: 'file', filename: 'a.png' },
    ])
    expect(parseMultipart(body, 'multipart/form-data')).toBeUndefined()
  })
})

describe('isInert: values that cannot carry attack syntax are not inspected', () => {
  it.each(['blue shirts', 'SPRING-2024', 'miles.obrien@example.com', 'x'.repeat(5000), 'Springfield, MA 01101', '2024-03-19T09:42:10', "Miles O'Brien", "it's a gift"])('skips %s', (value) => {
    expect(isInert(value)).toBe(true)
  })
  it.each(['union select password from users', '1 or 1', 'sleep 10', 'a..b', 'x--', "x'or'x", "admin'--", "1' ", '1=1', 'cat etc passwd', 'line\nbreak', 'caf\u00e9'])('inspects %s', (value) => {
    expect(isInert(value)).toBe(false)
  })
})

describe('isPlainPath: plain paths skip the path signatures', () => {
  it.each(['/', '/api/v1/orders/42', '/search', '/static/app-1.2.3.min.js'])('skips %s', (path) => {
    expect(isPlainPath(path)).toBe(true)
  })
  it.each(['/../etc/passwd', '/etc/passwd', '/.env', '/a//b', '/bin/sh', '/index.php/invokefunction', '/x%2e%2e', '/a;b', '/__proto__/x', '/select--', '/app/WEB-INF/web.xml'])('inspects %s', (path) => {
    expect(isPlainPath(path)).toBe(false)
  })
})
