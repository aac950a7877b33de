import { z } from 'zod'

const Per = z
  .enum(['consumer', 'tenant'])
  .describe("Whose usage is counted: consumer (the authenticated consumer; anonymous callers are counted by client ip) or tenant (all consumers of the consumer's tenant; consumers without a tenant are not limited). Required.")
const Period = z.enum(['day', 'month']).describe('Counting period, in UTC: a calendar day or a calendar month. Required.')
const Name = z
  .string()
  .min(1)
  .max(128)
  .optional()
  .describe('Applies the limit to this one consumer or tenant only; it replaces the limits without a name of the same per and period for it. Default: every consumer or tenant.')

const Quota = z
  .object({
    per: Per,
    period: Period,
    tokens: z.number().int().min(1).max(1e15).describe('Tokens (prompt + completion, as the provider reported them, or counted by the gateway) allowed per period. Required.'),
    name: Name,
  })
  .strict()
  .describe('A token quota: so many tokens per consumer or tenant per day or month.')

const Budget = z
  .object({
    per: Per,
    period: Period,
    costUsd: z.number().positive().max(1e9).describe('USD that may be spent per period, from the price table of `providers.<name>.prices`. Required.'),
    name: Name,
  })
  .strict()
  .describe('A cost budget: so many USD per consumer or tenant per day or month.')

/** Config of the `budget` policy: `routes[].policies.budget` on routes of kind ai. */
export const BudgetConfig = z
  .object({
    quotas: z.array(Quota).max(64).default([]).describe('Soft token quotas: when one is used up, calls get 429 budget.quota-exceeded with Retry-After until its period ends. Default none.'),
    budgets: z.array(Budget).max(64).default([]).describe('Hard cost budgets: when one is spent, calls get 403 budget.exhausted until its period ends. Default none.'),
    store: z
      .enum(['memory', 'redis'])
      .optional()
      .describe("Where counters live. memory: in this gateway process (each instance counts alone; a restart forgets). redis: in the top-level `redis:`, shared by every instance. Default redis when the config has `redis:`, else memory."),
    onStoreError: z
      .enum(['open', 'closed'])
      .default('open')
      .describe('When Redis cannot answer within storeTimeoutMs. open: the call is allowed unmetered and the trace says so (a Redis outage does not stop the AI API). closed: 503 budget.store-unavailable (when overspending is worse than an outage). Default open.'),
    storeTimeoutMs: z.number().int().min(10).max(5000).default(200).describe('Milliseconds to wait for Redis before onStoreError applies. Default 200.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.quotas.length === 0 && value.budgets.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'a budget policy needs at least one entry in quotas or budgets' })
  })
  .describe(
    "Token quotas and cost budgets per consumer or tenant, per UTC day or month. Counters are charged after each call with its real usage, so calls already running when a limit is reached may overshoot it a little. They count every ai route that has a budget policy: usage is the caller's, whichever route served it.",
  )

export type BudgetConfig = z.output<typeof BudgetConfig>
