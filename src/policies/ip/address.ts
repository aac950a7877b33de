import ipaddr from 'ipaddr.js'
import { GatewayError } from '../../core/errors.js'

/**
 * A parsed address: an IPv4 address as an unsigned 32-bit number, or an IPv6 address as its
 * eight 16-bit groups. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is always turned into IPv4, so the
 * same client matches the same rules whether it reached a dual-stack socket or not.
 * A number keeps the common IPv4 case free of allocations.
 */
export type IpValue = number | readonly number[]

/** A parsed CIDR (a single address is a CIDR with a full prefix). */
export interface IpRange {
  family: 4 | 6
  /** IPv4: network as uint32. IPv6: the eight groups, host bits cleared. */
  network: IpValue
  prefix: number
}

// Longest IPv6 text is 45 chars; a zone id adds a little. Anything longer is garbage.
const maxAddressLength = 100

/**
 * Parses strict dotted-quad IPv4 (`10.0.0.1`; no leading zeros, no hex or short forms, which
 * some parsers read as octal or expand and an attacker could use to slip past a list).
 * Returns the uint32 value, or -1.
 */
function parseIpv4(text: string, start: number, end: number): number {
  let value = 0
  let octet = 0
  let digits = 0
  let parts = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1
      octet = octet * 10 + (c - 48)
      digits++
      if (octet > 255) return -1
    } else if (c === 46 && digits > 0 && parts < 3) {
      value = value * 256 + octet
      parts++
      octet = 0
      digits = 0
    } else {
      return -1
    }
  }
  if (parts !== 3 || digits === 0) return -1
  return value * 256 + octet
}

/**
 * Parses RFC 4291 text: eight hex groups, one optional `::`, an optional dotted-quad tail and
 * an optional `%zone` (ignored for matching). Hand-written because this runs per request and
 * a regex-based parser costs microseconds. Returns IPv4-mapped addresses as IPv4.
 */
function parseIpv6(text: string): IpValue | undefined {
  let end = text.length
  const percent = text.indexOf('%')
  if (percent !== -1) {
    if (percent === end - 1) return undefined
    end = percent
  }
  const groups = [0, 0, 0, 0, 0, 0, 0, 0]
  let count = 0
  let gap = -1
  let i = 0
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return undefined
    gap = 0
    i = 2
  }
  while (i < end) {
    let j = i
    let value = 0
    for (; j < end && j - i < 5; j++) {
      const digit = hexValue(text.charCodeAt(j))
      if (digit === -1) break
      value = value * 16 + digit
    }
    if (j === i) return undefined
    if (j < end && text.charCodeAt(j) === 46 /* . */) {
      // Dotted-quad tail: the last 32 bits.
      if (count > 6) return undefined
      const v4 = parseIpv4(text, i, end)
      if (v4 === -1) return undefined
      groups[count++] = v4 >>> 16
      groups[count++] = v4 & 0xffff
      i = end
      break
    }
    if (j - i > 4 || count === 8) return undefined
    groups[count++] = value
    i = j
    if (i === end) break
    if (text.charCodeAt(i) !== 58) return undefined
    i++
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap !== -1) return undefined
      gap = count
      i++
    } else if (i === end) {
      return undefined
    }
  }
  if (gap === -1) {
    if (count !== 8) return undefined
  } else {
    if (count > 7) return undefined
    const tail = count - gap
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k]
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0
  }
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return ((groups[6] << 16) | groups[7]) >>> 0
  }
  return groups
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Parses an IPv4 or IPv6 address (no CIDR, no port). Returns undefined for anything else. */
export function parseIp(text: string): IpValue | undefined {
  if (text.length === 0 || text.length > maxAddressLength) return undefined
  if (text.includes(':')) return parseIpv6(text)
  const v4 = parseIpv4(text, 0, text.length)
  return v4 === -1 ? undefined : v4
}

/** Parses `address` or `address/prefix`. Returns undefined when it is neither. */
export function parseRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/')
  const addressText = slash === -1 ? text : text.slice(0, slash)
  // A zone id names an interface on this host; it has no meaning in a shared rule.
  if (addressText.includes('%')) return undefined
  const address = parseIp(addressText)
  if (address === undefined) return undefined
  const family = typeof address === 'number' ? 4 : 6
  // `::ffff:10.0.0.0/104` was turned into IPv4 above, so its prefix shrinks by the 96 mapped bits.
  const mapped = family === 4 && addressText.includes(':')
  const maxPrefix = family === 4 ? (mapped ? 128 : 32) : 128
  let prefix = maxPrefix
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1)
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined
    prefix = Number(prefixText)
    if (prefix > maxPrefix) return undefined
  }
  if (mapped) {
    if (prefix < 96) return undefined
    prefix -= 96
  }
  return { family, network: maskValue(address, prefix), prefix }
}

/** True when `text` is an IPv4/IPv6 address or CIDR this module can match against. */
export function isValidIpOrCidr(text: string): boolean {
  return parseRange(text) !== undefined
}

function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
}

function maskValue(address: IpValue, prefix: number): IpValue {
  if (typeof address === 'number') return (address & ipv4Mask(prefix)) >>> 0
  return address.map((group, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16))
    return bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff)
  })
}

/** Formats a parsed address: dotted quad, or RFC 5952 IPv6. */
export function formatIp(address: IpValue): string {
  if (typeof address === 'number') {
    return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`
  }
  return new ipaddr.IPv6(address.slice()).toRFC5952String()
}

/**
 * Answers "which of these ranges holds this address?" quickly. Built once per config load;
 * IPv4 ranges sit in typed arrays so a lookup is a tight loop of two integer operations.
 */
export class IpRangeSet {
  readonly size: number
  private readonly v4Networks: Uint32Array
  private readonly v4Masks: Uint32Array
  private readonly v4Sources: string[]
  /** For long IPv4 lists: one network → entry map per prefix length, most specific first. */
  private readonly v4ByPrefix: { mask: number; networks: Map<number, string> }[] | undefined
  private readonly v6Ranges: { network: readonly number[]; prefix: number; source: string }[]

  /** `entries` must be valid (see `isValidIpOrCidr`); an invalid one throws a `config.invalid` GatewayError. */
  constructor(entries: readonly string[]) {
    const v4: { network: number; prefix: number; source: string }[] = []
    this.v6Ranges = []
    for (const source of entries) {
      const range = parseRange(source)
      if (range === undefined) throw new GatewayError('config.invalid', `'${source}' is not an IP address or CIDR`)
      if (typeof range.network === 'number') v4.push({ network: range.network, prefix: range.prefix, source })
      else this.v6Ranges.push({ network: range.network, prefix: range.prefix, source })
    }
    this.v4Networks = Uint32Array.from(v4, (r) => r.network)
    this.v4Masks = Uint32Array.from(v4, (r) => ipv4Mask(r.prefix))
    this.v4Sources = v4.map((r) => r.source)
    this.v4ByPrefix = v4.length > linearScanLimit ? groupByPrefix(v4) : undefined
    this.size = entries.length
  }

  /**
   * A config entry (as written) that contains `address`, or undefined. Short lists answer with
   * the first such entry in config order, long ones with the most specific.
   */
  find(address: IpValue): string | undefined {
    if (typeof address === 'number') {
      if (this.v4ByPrefix !== undefined) {
        for (const { mask, networks } of this.v4ByPrefix) {
          const found = networks.get((address & mask) >>> 0)
          if (found !== undefined) return found
        }
        return undefined
      }
      const networks = this.v4Networks
      const masks = this.v4Masks
      for (let i = 0; i < networks.length; i++) {
        if (((address & masks[i]) >>> 0) === networks[i]) return this.v4Sources[i]
      }
      return undefined
    }
    for (const range of this.v6Ranges) {
      if (matchesV6(address, range.network, range.prefix)) return range.source
    }
    return undefined
  }

  has(address: IpValue): boolean {
    return this.find(address) !== undefined
  }
}

// Up to here a scan of two typed arrays beats hashing once per prefix length.
const linearScanLimit = 16

function groupByPrefix(ranges: { network: number; prefix: number; source: string }[]): { mask: number; networks: Map<number, string> }[] {
  const byPrefix = new Map<number, Map<number, string>>()
  for (const { network, prefix, source } of ranges) {
    let networks = byPrefix.get(prefix)
    if (networks === undefined) byPrefix.set(prefix, (networks = new Map()))
    if (!networks.has(network)) networks.set(network, source)
  }
  return [...byPrefix.entries()].sort((a, b) => b[0] - a[0]).map(([prefix, networks]) => ({ mask: ipv4Mask(prefix), networks }))
}

function matchesV6(address: readonly number[], network: readonly number[], prefix: number): boolean {
  let remaining = prefix
  for (let i = 0; i < 8 && remaining > 0; i++) {
    const bits = remaining >= 16 ? 16 : remaining
    const mask = (0xffff << (16 - bits)) & 0xffff
    if ((address[i] & mask) !== network[i]) return false
    remaining -= bits
  }
  return true
}
