import { GatewayError } from '../../core/errors.js'
import { formatIp, IpRangeSet, isValidIpOrCidr, parseIp, type IpValue } from './address.js'

export { isValidIpOrCidr } from './address.js'

/** Finds the client ip of a request from its TCP peer and its `X-Forwarded-For` header(s). */
export type ClientIpResolver = (remoteAddress: string, forwardedFor: string | string[] | undefined) => string

// A real chain is a handful of hops; walking further only helps someone stuffing the header.
const maxHops = 32

/**
 * Builds the resolver the gateway uses to decide who the client is.
 *
 * `X-Forwarded-For` is only believed when the TCP peer is itself a trusted proxy: anyone can
 * send the header, so from an untrusted peer it is ignored. The header is walked from the
 * right (the entry our nearest proxy appended) past every trusted proxy; the first untrusted
 * address is the client. A garbage entry stops the walk and the last address we could trust
 * wins, because only the untrusted side of the chain could have written it. IPv4-mapped IPv6
 * is returned as IPv4. Throws a `config.invalid` GatewayError for an invalid proxy entry.
 */
export function createClientIpResolver(trustedProxies: string[]): ClientIpResolver {
  const invalid = trustedProxies.filter((entry) => !isValidIpOrCidr(entry))
  if (invalid.length > 0) {
    throw new GatewayError('config.invalid', `trusted proxy '${invalid[0]}' is not an IP address or CIDR`, {
      remediation: 'List trusted proxies as IP addresses or CIDRs such as 10.0.0.0/8 or fd00::/8.',
    })
  }
  const trusted = new IpRangeSet(trustedProxies)

  return function resolveClientIp(remoteAddress, forwardedFor) {
    const peer = parseIp(remoteAddress)
    // Not an IP (a unix socket path, say): nothing to normalise and no proxy to trust.
    if (peer === undefined) return remoteAddress
    if (forwardedFor === undefined || trusted.size === 0 || !trusted.has(peer)) return normalize(remoteAddress, peer)

    const header = typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')
    let current: IpValue = peer
    let end = header.length
    for (let hop = 0; hop < maxHops && end > 0; hop++) {
      const comma = header.lastIndexOf(',', end - 1)
      const candidate = parseForwardedEntry(header.slice(comma + 1, end).trim())
      if (candidate === undefined) break
      current = candidate
      if (!trusted.has(candidate)) break
      end = comma
    }
    return current === peer ? normalize(remoteAddress, peer) : formatIp(current)
  }
}

/** Returns the text as is when it already is canonical dotted-quad IPv4 (the common case). */
function normalize(text: string, address: IpValue): string {
  return typeof address === 'number' && !text.includes(':') ? text : formatIp(address)
}

/**
 * One `X-Forwarded-For` entry. Some proxies append a port (`1.2.3.4:5678`, `[2001:db8::1]:443`);
 * the port is dropped. Anything else unparsable is garbage.
 */
function parseForwardedEntry(entry: string): IpValue | undefined {
  if (entry.length === 0) return undefined
  if (entry.charCodeAt(0) === 91 /* [ */) {
    const close = entry.indexOf(']')
    if (close === -1) return undefined
    const rest = entry.slice(close + 1)
    if (rest !== '' && !/^:[0-9]{1,5}$/.test(rest)) return undefined
    return parseIp(entry.slice(1, close))
  }
  const colon = entry.indexOf(':')
  if (colon !== -1 && colon === entry.lastIndexOf(':')) {
    // Exactly one colon: IPv4 with a port (bare IPv6 always has at least two).
    if (!/^[0-9]{1,5}$/.test(entry.slice(colon + 1))) return undefined
    const address = parseIp(entry.slice(0, colon))
    return typeof address === 'number' ? address : undefined
  }
  return parseIp(entry)
}
