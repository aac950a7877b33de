import ipaddr from 'ipaddr.js'
import { describe, expect, it } from 'vitest'
import { formatIp, IpRangeSet, parseIp } from './address.js'

/** What ipaddr.js makes of the text, in our representation (mapped IPv6 folded to IPv4). */
function referenceParse(text: string): number | number[] | undefined {
  if (!ipaddr.IPv6.isValid(text)) return undefined
  const address = ipaddr.IPv6.parse(text)
  if (address.isIPv4MappedAddress()) return ((address.parts[6] << 16) | address.parts[7]) >>> 0
  return address.parts
}

// Deterministic so a failure reproduces.
function createRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('parseIp', () => {
  it.each([
    '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6::8', '1::8', 'fe80::1%eth0', '2001:DB8::AbCd',
    '::ffff:1.2.3.4', '::ffff:7f00:1', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:1.2.3.4',
    ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', '1:', ':1', '1::2:',
    '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3', '::1.2.3.256', 'fe80::1%', '1.2.3.4::',
  ])('agrees with ipaddr.js on %j', (text) => {
    expect(parseIp(text)).toEqual(referenceParse(text))
  })

  it('reads the deprecated IPv4-compatible ::1.2.3.4 as IPv6 per RFC 4291, not as IPv4-mapped', () => {
    // ipaddr.js folds this into ::ffff:1.2.3.4; a client cannot present it as an IPv4 address.
    expect(parseIp('::1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0, 0x0102, 0x0304])
  })

  it('agrees with ipaddr.js on thousands of random addresses in every notation', () => {
    const random = createRandom(42)
    for (let n = 0; n < 3000; n++) {
      const parts = Array.from({ length: 8 }, () => (random() < 0.4 ? 0 : Math.floor(random() * 0x10000)))
      const address = new ipaddr.IPv6(parts)
      for (const text of [address.toNormalizedString(), address.toRFC5952String(), address.toString().toUpperCase()]) {
        expect(parseIp(text)).toEqual(referenceParse(text))
      }
    }
  })

  it.each(['1.2.3.4', '0.0.0.0', '255.255.255.255'])('parses dotted quad %s and formats it back', (text) => {
    expect(formatIp(parseIp(text) as number)).toBe(text)
  })

  it.each(['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1..2.3', '0x7f.0.0.1', '127.1', ' 1.2.3.4', '1.2.3.4 ', ''])(
    'rejects %j as IPv4',
    (text) => {
      expect(parseIp(text)).toBeUndefined()
    },
  )
})

describe('IpRangeSet', () => {
  it('finds the entry in a large list the same way a plain scan would', () => {
    const entries = Array.from({ length: 500 }, (_, i) => `10.${i >> 4}.${(i & 15) * 16}.0/${20 + (i % 9)}`)
    const set = new IpRangeSet(entries)
    const reference = entries.map((entry) => ipaddr.IPv4.parseCIDR(entry))
    const random = createRandom(7)
    for (let n = 0; n < 5000; n++) {
      const address = (0x0a000000 + Math.floor(random() * 0x00400000)) >>> 0
      const parsed = ipaddr.IPv4.parse(formatIp(address))
      const expected = reference.some((range) => parsed.match(range))
      expect(set.has(address)).toBe(expected)
    }
  })
})
