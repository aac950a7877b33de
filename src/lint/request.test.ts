import { describe, expect, it } from 'vitest'
import { matchCidr, matchRange, parseIp } from './ip-match.js'
import { createLintRequest, normalizeUriPath, parseQuery } from './request.js'

describe('request helpers', () => {
  it.each([
    ['/a/b', '/a/b'],
    ['/a//b///c', '/a/b/c'],
    ['/a/./b/../c', '/a/c'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/%61dmin/%2e%2e/x', '/x'],
    ['/dir/', '/dir/'],
    ['/dir/..', '/'],
    ['/bad%zz', '/bad%zz'],
  ])('normalises %s to %s', (raw, normalised) => {
    expect(normalizeUriPath(raw)).toBe(normalised)
  })

  it('keeps the first value of a repeated query argument, names case-insensitive', () => {
    expect(parseQuery('Debug=1&debug=2&flag').get('debug')).toBe('1')
    expect(parseQuery('flag').get('flag')).toBe('')
  })

  it('takes host and port from --host or the Host header, and defaults by scheme', () => {
    expect(createLintRequest({ host: 'Shop.Example.com:8080' })).toMatchObject({ host: 'shop.example.com', port: 8080, method: 'GET', path: '/' })
    expect(createLintRequest({ headers: { Host: 'a.test' }, scheme: 'https' })).toMatchObject({ host: 'a.test', port: 443 })
    expect(createLintRequest({ method: 'post' }).method).toBe('POST')
  })
})

describe('address matching', () => {
  it('matches CIDRs, netmasks, IPv6 and IPv4-mapped clients', () => {
    expect(matchCidr('10.1.2.3', '10.0.0.0/8')).toBe(true)
    expect(matchCidr('10.1.2.3', '10.1.0.0/255.255.0.0')).toBe(true)
    expect(matchCidr('11.1.2.3', '10.0.0.0/8')).toBe(false)
    expect(matchCidr('2001:db8::1', '2001:db8::/32')).toBe(true)
    expect(matchCidr('::ffff:10.0.0.1', '10.0.0.0/8')).toBe(true)
    expect(matchCidr('10.0.0.1', '2001:db8::/32')).toBe(false)
  })
  it('says "not evaluable" (null) for names and malformed specs instead of "no match"', () => {
    expect(matchCidr('10.0.0.1', 'office.example.com')).toBeNull()
    expect(matchCidr('10.0.0.1', '10.0.0.0/33')).toBeNull()
    expect(parseIp('10.1')).toBeNull()
  })
  it('matches inclusive ranges', () => {
    expect(matchRange('10.0.0.5', '10.0.0.1', '10.0.0.9')).toBe(true)
    expect(matchRange('10.0.0.10', '10.0.0.1', '10.0.0.9')).toBe(false)
  })
})
