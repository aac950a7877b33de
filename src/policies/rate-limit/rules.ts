import type { Rule } from '../../core/denial.js'

/** Rules of the `rate-limit` layer; the only place their ids are spelled. */
export const rules = {
  exceeded: {
    id: 'rate-limit.exceeded',
    status: 429,
    title: 'Rate limit exceeded',
    meaning:
      "The caller used up the route's request quota (routes[].policies.rateLimit: limit per window, counted per consumer, ip, route or header). The answer carries Retry-After and the RateLimit / RateLimit-Policy headers. Some routes are configured to answer 403 instead of 429 for legacy clients.",
    remedy: 'Slow down: wait the number of seconds in the Retry-After header before retrying, and keep under the quota announced in RateLimit-Policy.',
  },
  storeUnavailable: {
    id: 'rate-limit.store-unavailable',
    status: 503,
    title: 'Rate limit store unavailable',
    meaning:
      "The shared rate-limit store (Redis) could not be reached in time and the route is configured to fail closed (rateLimit.onStoreError: closed), so requests are refused until it is back.",
    remedy: 'The service is temporarily unable to accept requests; retry shortly.',
  },
} as const satisfies Record<string, Rule>
