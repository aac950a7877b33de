import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Deny, PolicyDeps, Verdict } from '../define.js'
import { isValidIpOrCidr as isValidFromAddress } from './address.js'
import { createClientIpResolver, isValidIpOrCidr } from './client-ip.js'
import { ipPolicy } from './index.js'
import { rules } from './rules.js'
import { IpConfig } from './schema.js'
import { makeDeps } from '../../testing/make-deps.js'

const deps: PolicyDeps = makeDeps()

function evaluateFor(config: unknown, clientIp: string): Verdict {
  const evaluate = ipPolicy.compile(IpConfig.parse(config), deps)
  return evaluate(makeContext({ clientIp })) as Verdict
}

function denialOf(verdict: Verdict): Deny['denial'] {
  if (verdict.kind !== 'deny') throw new Error(`expected a denial, got ${verdict.kind}`)
  return verdict.denial
}

describe('ip policy', () => {
  it('denies an address on the deny list with ip.denied and names the matching entry', () => {
    const denial = denialOf(evaluateFor({ deny: ['203.0.113.0/24'] }, '203.0.113.7'))
    expect(denial.rule).toBe('ip.denied')
    expect(denial.status).toBe(403)
    expect(denial.detail?.matched).toBe('203.0.113.0/24')
    expect(denial.remediation).toContain('routes[orders-create].policies.ip.deny')
  })

  it('denies an address outside a non-empty allow list with ip.not-allowed', () => {
    const denial = denialOf(evaluateFor({ allow: ['10.0.0.0/8'] }, '192.168.1.20'))
    expect(denial.rule).toBe('ip.not-allowed')
    expect(denial.status).toBe(403)
    expect(denial.detail?.clientIp).toBe('192.168.1.20')
    expect(denial.remediation).toContain('routes[orders-create].policies.ip.allow')
  })

  it('records the proxy peer beside the client ip when they differ', () => {
    const evaluate = ipPolicy.compile(IpConfig.parse({ allow: ['10.0.0.0/8'] }), deps)
    const verdict = evaluate(makeContext({ clientIp: '198.51.100.9', remoteAddress: '10.0.0.2' })) as Verdict
    expect(denialOf(verdict).detail).toEqual({ clientIp: '198.51.100.9', peer: '10.0.0.2', allowEntries: 1 })
  })

  it('lets an address inside the allow list through', () => {
    expect(evaluateFor({ allow: ['10.0.0.0/8', '127.0.0.1'] }, '10.200.3.4').kind).toBe('allow')
    expect(evaluateFor({ allow: ['10.0.0.0/8', '127.0.0.1'] }, '127.0.0.1').kind).toBe('allow')
  })

  it('lets everyone through when both lists are empty or absent', () => {
    expect(evaluateFor({}, '198.51.100.1').kind).toBe('allow')
    expect(evaluateFor({ allow: [], deny: [] }, '2001:db8::1').kind).toBe('allow')
  })

  it('lets through an address not on the deny list when there is no allow list', () => {
    expect(evaluateFor({ deny: ['203.0.113.0/24'] }, '203.0.114.1').kind).toBe('allow')
  })

  it('lets deny win over allow for an address on both lists', () => {
    const denial = denialOf(evaluateFor({ allow: ['10.0.0.0/8'], deny: ['10.1.2.3'] }, '10.1.2.3'))
    expect(denial.rule).toBe('ip.denied')
    expect(evaluateFor({ allow: ['10.0.0.0/8'], deny: ['10.1.2.3'] }, '10.1.2.4').kind).toBe('allow')
  })

  it('matches an IPv4-mapped IPv6 client against IPv4 rules', () => {
    expect(denialOf(evaluateFor({ deny: ['203.0.113.0/24'] }, '::ffff:203.0.113.9')).rule).toBe('ip.denied')
    expect(evaluateFor({ allow: ['127.0.0.0/8'] }, '::ffff:127.0.0.1').kind).toBe('allow')
    expect(evaluateFor({ allow: ['127.0.0.0/8'] }, '::FFFF:7f00:1').kind).toBe('allow')
  })

  it('matches an IPv4-mapped CIDR in config against IPv4 clients', () => {
    expect(denialOf(evaluateFor({ deny: ['::ffff:10.0.0.0/104'] }, '10.9.9.9')).rule).toBe('ip.denied')
    expect(evaluateFor({ deny: ['::ffff:10.0.0.0/104'] }, '11.0.0.1').kind).toBe('allow')
  })

  it('matches IPv6 clients against IPv6 CIDRs at odd prefix lengths', () => {
    const config = { allow: ['2001:db8:8000::/33'] }
    expect(evaluateFor(config, '2001:db8:8000::1').kind).toBe('allow')
    expect(evaluateFor(config, '2001:db8:ffff:1::1').kind).toBe('allow')
    expect(denialOf(evaluateFor(config, '2001:db8:7fff::1')).rule).toBe('ip.not-allowed')
    expect(denialOf(evaluateFor({ deny: ['::1'] }, '0:0:0:0:0:0:0:1')).rule).toBe('ip.denied')
  })

  it('does not match IPv6 clients against IPv4 rules or the other way round', () => {
    expect(denialOf(evaluateFor({ allow: ['0.0.0.0/0'] }, '2001:db8::1')).rule).toBe('ip.not-allowed')
    expect(denialOf(evaluateFor({ allow: ['::/0'] }, '192.0.2.1')).rule).toBe('ip.not-allowed')
  })

  it('treats a CIDR with host bits set as its network', () => {
    expect(denialOf(evaluateFor({ deny: ['192.0.2.77/24'] }, '192.0.2.1')).rule).toBe('ip.denied')
  })

  it('refuses a client ip it cannot parse instead of letting it through', () => {
    expect(denialOf(evaluateFor({ deny: ['192.0.2.0/24'] }, 'not-an-ip')).rule).toBe('ip.denied')
    expect(denialOf(evaluateFor({ allow: ['192.0.2.0/24'] }, '')).rule).toBe('ip.not-allowed')
  })

  it('evaluates synchronously', () => {
    const evaluate = ipPolicy.compile(IpConfig.parse({ allow: ['10.0.0.0/8'] }), deps)
    expect(evaluate(makeContext({ clientIp: '10.0.0.1' }))).not.toBeInstanceOf(Promise)
  })

  it('spells its rule ids in rules.ts as ip.<rule>', () => {
    expect(Object.values(rules).map((r) => r.id)).toEqual(['ip.denied', 'ip.not-allowed'])
    expect(ipPolicy.order).toBe(100)
    expect(ipPolicy.configKey).toBe('ip')
  })

  it.each([
    [{ allow: ['10.0.0.1', '10.0.0.0/8', '10.0.0.0/33'] }, ['allow', 2], "'10.0.0.0/33' is not an IP address or CIDR"],
    [{ deny: ['256.1.1.1'] }, ['deny', 0], "'256.1.1.1' is not an IP address or CIDR"],
    [{ deny: ['010.0.0.1'] }, ['deny', 0], "'010.0.0.1' is not an IP address or CIDR"],
    [{ deny: ['10.1'] }, ['deny', 0], "'10.1' is not an IP address or CIDR"],
    [{ deny: ['2001:db8::/129'] }, ['deny', 0], "'2001:db8::/129' is not an IP address or CIDR"],
    [{ deny: ['fe80::1%eth0'] }, ['deny', 0], "'fe80::1%eth0' is not an IP address or CIDR"],
    [{ deny: ['10.0.0.0/8 '] }, ['deny', 0], "'10.0.0.0/8 ' is not an IP address or CIDR"],
    [{ deny: ['example.com'] }, ['deny', 0], "'example.com' is not an IP address or CIDR"],
    [{ allow: '10.0.0.0/8' }, ['allow'], 'Invalid input: expected array, received string'],
    [{ allowed: ['10.0.0.0/8'] }, [], 'Unrecognized key: "allowed"'],
  ])('rejects config %j at path %j', (config, path, message) => {
    const result = IpConfig.safeParse(config)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0].path).toEqual(path)
    expect(result.error?.issues[0].message).toBe(message)
  })

  it.each(['127.0.0.1', '0.0.0.0/0', '10.0.0.0/8', '::1', '::/0', '2001:db8::/32', '::ffff:10.0.0.0/104'])(
    'accepts %s as an IP address or CIDR',
    (entry) => {
      expect(isValidIpOrCidr(entry)).toBe(true)
      expect(isValidFromAddress(entry)).toBe(true)
    },
  )
})

describe('createClientIpResolver', () => {
  const resolve = createClientIpResolver(['10.0.0.0/8', 'fd00::/8'])

  it('ignores X-Forwarded-For from an untrusted peer so clients cannot spoof their address', () => {
    expect(resolve('198.51.100.4', '127.0.0.1')).toBe('198.51.100.4')
    expect(resolve('198.51.100.4', ['10.0.0.1', '127.0.0.1'])).toBe('198.51.100.4')
  })

  it('takes the address a trusted proxy appended', () => {
    expect(resolve('10.0.0.2', '203.0.113.50')).toBe('203.0.113.50')
  })

  it('skips trusted proxies from the right and stops at the first untrusted hop', () => {
    // The client prepended a fake 127.0.0.1; only the entries our proxies wrote are believed.
    expect(resolve('10.0.0.2', '127.0.0.1, 203.0.113.50, 10.1.1.1, 10.2.2.2')).toBe('203.0.113.50')
  })

  it('joins repeated X-Forwarded-For headers in order', () => {
    expect(resolve('10.0.0.2', ['198.51.100.1', '203.0.113.50, 10.1.1.1'])).toBe('203.0.113.50')
  })

  it('returns the leftmost address when every hop is a trusted proxy', () => {
    expect(resolve('10.0.0.2', '10.5.5.5, 10.6.6.6')).toBe('10.5.5.5')
  })

  it('stops at a garbage entry and keeps the last address it could trust', () => {
    expect(resolve('10.0.0.2', 'evil, 10.1.1.1')).toBe('10.1.1.1')
    expect(resolve('10.0.0.2', 'unknown')).toBe('10.0.0.2')
    expect(resolve('10.0.0.2', '')).toBe('10.0.0.2')
    expect(resolve('10.0.0.2', '203.0.113.50,,10.1.1.1')).toBe('10.1.1.1')
    expect(resolve('10.0.0.2', '1.2.3.4:99999999, 10.1.1.1')).toBe('10.1.1.1')
    expect(resolve('10.0.0.2', '[::1')).toBe('10.0.0.2')
  })

  it('normalises IPv4-mapped IPv6 peers and entries to IPv4', () => {
    expect(resolve('::ffff:10.0.0.2', '::ffff:203.0.113.50')).toBe('203.0.113.50')
    expect(resolve('::ffff:198.51.100.4', '203.0.113.50')).toBe('198.51.100.4')
  })

  it('resolves IPv6 chains and drops ports some proxies append', () => {
    expect(resolve('fd00::1', '2001:db8::7, fd00::2')).toBe('2001:db8::7')
    expect(resolve('fd00::1', '[2001:DB8:0::7]:4711')).toBe('2001:db8::7')
    expect(resolve('10.0.0.2', '203.0.113.50:51234')).toBe('203.0.113.50')
    expect(resolve('2001:db8::9', '203.0.113.50')).toBe('2001:db8::9')
  })

  it('trusts nobody with an empty list', () => {
    expect(createClientIpResolver([])('10.0.0.2', '203.0.113.50')).toBe('10.0.0.2')
  })

  it('returns a non-ip peer (a unix socket) unchanged', () => {
    expect(resolve('/tmp/gatehouse.sock', '203.0.113.50')).toBe('/tmp/gatehouse.sock')
  })

  it('stays fast and bounded on a header stuffed with trusted hops', () => {
    const stuffed = Array.from({ length: 2000 }, () => '10.0.0.9').join(',')
    expect(resolve('10.0.0.2', `203.0.113.50,${stuffed}`)).toBe('10.0.0.9')
  })

  it('refuses an invalid trusted proxy entry', () => {
    expect(() => createClientIpResolver(['10.0.0.0/40'])).toThrow(/'10.0.0.0\/40' is not an IP address or CIDR/)
  })

  it('resolves the client of a real request through a trusted local proxy', async () => {
    const viaProxy = createClientIpResolver(['127.0.0.1'])
    const direct = createClientIpResolver([])
    const seen: string[] = []
    const server = createServer((req, res) => {
      const peer = req.socket.remoteAddress ?? ''
      seen.push(viaProxy(peer, req.headers['x-forwarded-for']), direct(peer, req.headers['x-forwarded-for']))
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': '192.0.2.1, 203.0.113.5' } })
      await response.arrayBuffer()
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    expect(seen).toEqual(['203.0.113.5', '127.0.0.1'])
  })
})
