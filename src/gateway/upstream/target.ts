import { Pool } from 'undici'

/** One server of an upstream, with the state balancing and health checks need. */
export interface Target {
  /** Origin, e.g. `http://127.0.0.1:3001`. */
  origin: string
  /** Path prefix of the target URL ('' when none). */
  basePath: string
  weight: number
  pool: Pool
  /** Requests in flight, for least-connections. */
  active: number
  /** Active checks say it is down. */
  down: boolean
  /** Passive ejection: skipped until this epoch ms. */
  ejectedUntil: number
  consecutiveFailures: number
  /** Smooth weighted round-robin state. */
  currentWeight: number
  probeSuccesses: number
  probeFailures: number
}

export function createTarget(
  url: string,
  weight: number,
  options: { connectTimeoutMs: number; readTimeoutMs: number; connections: number },
): Target {
  const parsed = new URL(url)
  const basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '')
  return {
    origin: parsed.origin,
    basePath,
    weight,
    pool: new Pool(parsed.origin, {
      connections: options.connections,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.readTimeoutMs,
      bodyTimeout: options.readTimeoutMs,
      keepAliveTimeout: 4_000,
      // No pipelining: one slow response must not stall the requests queued behind it.
      pipelining: 1,
    }),
    active: 0,
    down: false,
    ejectedUntil: 0,
    consecutiveFailures: 0,
    currentWeight: 0,
    probeSuccesses: 0,
    probeFailures: 0,
  }
}

export function isAvailable(target: Target, now: number): boolean {
  return !target.down && target.ejectedUntil <= now
}
