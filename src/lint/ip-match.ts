import ipaddr from 'ipaddr.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** Parses an address; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) becomes IPv4 like the servers do. */
export function parseIp(text: string): Address | null {
  const bare = text.trim().replace(/^\[|\]$/g, '')
  // ipaddr.js also accepts short and octal IPv4 forms ("10.1" is 10.0.0.1); servers do not.
  if (!bare.includes(':') && !/^\d{1,3}(\.\d{1,3}){3}$/.test(bare)) return null
  if (!ipaddr.isValid(bare)) return null
  return ipaddr.process(bare)
}

/** True when `text` is a literal IPv4/IPv6 address. */
export function isIpLiteral(text: string): boolean {
  return parseIp(text) !== null
}

/**
 * Matches a client address against an address or CIDR (`10.0.0.0/8`, `2001:db8::/32`,
 * `1.2.3.4`). Returns null when `spec` is not an address at all (a host name, say), so callers
 * can report it as not evaluable instead of "no match".
 */
export function matchCidr(ip: string, spec: string): boolean | null {
  const client = parseIp(ip)
  if (!client) return null
  const slash = spec.indexOf('/')
  if (slash < 0) {
    const addr = parseIp(spec)
    if (!addr) return null
    return addr.kind() === client.kind() && addr.toNormalizedString() === client.toNormalizedString()
  }
  const base = parseIp(spec.slice(0, slash))
  const bitsText = spec.slice(slash + 1)
  if (!base) return null
  let bits: number
  if (/^\d{1,3}$/.test(bitsText)) {
    bits = Number(bitsText)
  } else {
    // Apache 2.2 and IIS also accept a netmask: 10.1.0.0/255.255.0.0.
    const mask = parseIp(bitsText)
    if (!mask || mask.kind() !== 'ipv4') return null
    const prefix = (mask as ipaddr.IPv4).prefixLengthFromSubnetMask()
    if (prefix === null) return null
    bits = prefix
  }
  if (base.kind() !== client.kind()) return false
  const max = base.kind() === 'ipv4' ? 32 : 128
  if (bits > max) return null
  return (client as ipaddr.IPv4).match(base as ipaddr.IPv4, bits)
}

/** Matches an IPv4 address against an address plus dotted subnet mask (IIS `ipSecurity`). */
export function matchIpWithMask(ip: string, address: string, subnetMask: string | undefined): boolean | null {
  if (!subnetMask) return matchCidr(ip, address)
  return matchCidr(ip, `${address}/${subnetMask}`)
}

/**
 * Matches an inclusive address range `a-b` (nginx `geo` with `ranges`). Null when unparseable.
 */
export function matchRange(ip: string, from: string, to: string): boolean | null {
  const c = parseIp(ip)
  const a = parseIp(from)
  const b = parseIp(to)
  if (!c || !a || !b || c.kind() !== a.kind() || a.kind() !== b.kind()) return null
  const n = (x: Address) => x.toByteArray().reduce((acc, byte) => acc * 256n + BigInt(byte), 0n)
  const v = n(c)
  return v >= n(a) && v <= n(b)
}

/** Prefix length of a CIDR spec (for longest-match tables); plain addresses count as full. */
export function prefixLength(spec: string): number {
  const slash = spec.indexOf('/')
  if (slash < 0) return parseIp(spec)?.kind() === 'ipv6' ? 128 : 32
  const bits = Number(spec.slice(slash + 1))
  return Number.isFinite(bits) ? bits : 0
}
