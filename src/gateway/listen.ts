/** Splits a `host:port` listen address (`[::1]:8080` for IPv6). */
export function parseListen(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  let host = address.slice(0, colon)
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  return { host, port: Number(address.slice(colon + 1)) }
}

/** URL for a bound address, bracketing IPv6. */
export function urlFor(host: string, port: number, scheme = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
}
