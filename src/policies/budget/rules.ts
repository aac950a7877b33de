import type { Rule } from '../../core/denial.js'

/** Rules of the `budget` layer (ai routes); the only place their ids are spelled. */
export const rules = {
  quotaExceeded: {
    id: 'budget.quota-exceeded',
    status: 429,
    title: 'Token quota used up',
    meaning:
      "The caller's consumer or tenant used its token quota for the day or month (routes[].policies.budget.quotas). A soft limit: calls pass again when the period ends (Retry-After). The body's 'quota' says which quota, how much was used and when it resets.",
    remedy: "Wait until the time in Retry-After (the 'quota.resetsAt' of the body), or ask the API operator for a larger quota.",
  },
  exhausted: {
    id: 'budget.exhausted',
    status: 403,
    title: 'Cost budget exhausted',
    meaning:
      "The caller's consumer or tenant spent its cost budget in USD for the day or month (routes[].policies.budget.budgets). A hard limit: calls are refused until the period ends or an operator raises the budget. The body's 'budget' says which budget, how much was spent and when it resets.",
    remedy: "Your spending limit for this period is reached; ask the API operator to raise it, or wait until 'budget.resetsAt'.",
  },
  storeUnavailable: {
    id: 'budget.store-unavailable',
    status: 503,
    title: 'Budget store unavailable',
    meaning: "The shared budget counters (Redis) could not be read in time and the route is configured to fail closed (budget.onStoreError: closed).",
    remedy: 'The service is temporarily unable to accept requests; retry shortly.',
  },
} as const satisfies Record<string, Rule>
