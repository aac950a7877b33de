import { z } from 'zod'

/** Seconds per unit of a window written as a string ('60s', '1m', '1h', '1d'). */
const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** Longest window accepted: 1 day; longer quotas belong to billing, not to a gateway counter. */
const maxWindowSeconds = 86400

// Digits then one unit letter: a single bounded class each, so matching is linear.
const windowPattern = /^([0-9]{1,6})(s|m|h|d)$/

/** `header:<name>` with an RFC 9110 token as the name. */
const byPattern = /^(consumer|ip|route|header:[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128})$/

const Window = z
  .union([
    z.number().int({ error: 'a window in seconds is a whole number' }).min(1, { error: 'a window is at least 1 second' }),
    z.string().regex(windowPattern, { error: "write a window as a number of seconds or as '<n>s', '<n>m', '<n>h' or '<n>d', e.g. '60s' or '1m'" }),
  ])
  .describe(
    "Length of the window the limit applies to: a number of seconds, or a string such as '60s', '1m', '1h' or '1d'. At most one day. Required.",
  )

/** Parses a window as written in the config into seconds (validated by the schema first). */
export function parseWindowSeconds(window: number | string): number {
  if (typeof window === 'number') return window
  const match = windowPattern.exec(window)
  if (!match) return Number.NaN
  return Number(match[1]) * unitSeconds[match[2]]
}

/** Config of the `rate-limit` policy: `routes[].policies.rateLimit`. */
export const RateLimitInput = z
  .object({
    limit: z
      .number()
      .int({ error: 'limit is a whole number of requests' })
      .min(1, { error: 'limit must be at least 1; to block a route entirely, do not route it' })
      .max(1_000_000_000)
      .describe('Requests allowed per window for one key (see `by`). With token-bucket it is the refill rate: `limit` tokens per window. Required.'),
    window: Window,
    algorithm: z
      .enum(['fixed-window', 'sliding-window', 'token-bucket'])
      .default('sliding-window')
      .describe(
        'How requests are counted. fixed-window: a counter per clock-aligned window (cheap, but allows up to twice the limit across a window boundary). sliding-window: weighs the previous window by how much of it still overlaps, which smooths that boundary burst. token-bucket: a bucket of `burst` tokens refilled at `limit` per window, for steady rates with short bursts. Default sliding-window.',
      ),
    by: z
      .string()
      .regex(byPattern, { error: "by is one of 'consumer', 'ip', 'route' or 'header:<name>'" })
      .default('consumer')
      .describe(
        "What one quota belongs to. consumer: the authenticated consumer (anonymous callers are counted by client ip). ip: the client ip after trusted-proxy resolution. route: one quota shared by every caller of the route. header:<name>: the value of a request header (callers without it are counted by ip; the value is hashed, never stored). Default consumer.",
      ),
    status: z
      .union([z.literal(429), z.literal(403)])
      .default(429)
      .describe(
        'Status of a refused request. 429 Too Many Requests is correct (RFC 6585) and what clients retry on. 403 exists only for legacy clients that were built against a system answering 403; it hides the cause from everyone else. Default 429.',
      ),
    store: z
      .enum(['memory', 'redis'])
      .optional()
      .describe(
        "Where counters live. memory: in this gateway process (each instance counts alone). redis: in the Redis of the top-level `redis:` URL, shared by every instance. Default redis when the config has `redis:`, else memory.",
      ),
    onStoreError: z
      .enum(['open', 'closed'])
      .default('open')
      .describe(
        'What happens when the Redis store cannot answer within storeTimeoutMs. open: the request is allowed and the trace notes that the limit was not applied, so a Redis outage does not take the API down. closed: the request is refused with 503 rate-limit.store-unavailable, for quotas that protect something more fragile than availability. Default open.',
      ),
    storeTimeoutMs: z
      .number()
      .int()
      .min(10)
      .max(5000)
      .default(200)
      .describe('Milliseconds to wait for the Redis store before onStoreError applies. Routes share one Redis connection per URL, and the first route compiled sets this timeout for it. Default 200.'),
    burst: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .optional()
      .describe('token-bucket only: bucket size, the most requests allowed at once after a quiet period. Default: equal to limit.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    const seconds = parseWindowSeconds(value.window)
    if (seconds > maxWindowSeconds) ctx.addIssue({ code: 'custom', path: ['window'], message: `a window is at most one day (${maxWindowSeconds} seconds)` })
    if (seconds < 1) ctx.addIssue({ code: 'custom', path: ['window'], message: 'a window is at least 1 second' })
    if (value.burst !== undefined && value.algorithm !== 'token-bucket') {
      ctx.addIssue({ code: 'custom', path: ['burst'], message: `burst applies only to algorithm 'token-bucket' (algorithm is '${value.algorithm}')` })
    }
  })

/** `routes[].policies.rateLimit`, with the window parsed into `windowSeconds`. */
export const RateLimitConfig = RateLimitInput.transform(({ window, ...rest }) => ({ ...rest, windowSeconds: parseWindowSeconds(window) })).describe(
  'Limits how many requests one consumer, ip, route or header value may make per window. Refused calls get 429 with Retry-After; every answer carries RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers).',
)

export type RateLimitConfig = z.output<typeof RateLimitConfig>
