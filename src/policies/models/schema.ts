import { z } from 'zod'

/** `*`, an alias, `provider/model` or `provider/*`. Bounded, no spaces. */
const ModelEntry = z
  .string()
  .regex(/^(\*|[A-Za-z0-9_.:-]{1,64}|[A-Za-z0-9_.-]{1,64}\/[^\s]{1,200})$/, "an entry is '*', an alias, '<provider>/<model>' or '<provider>/*'")

const ModelList = z.array(ModelEntry).max(256)

/** Config of the `models` policy: `routes[].policies.models` on routes of kind ai. */
export const ModelsConfig = z
  .object({
    allow: ModelList.default(['*']).describe(
      "Models every caller of the route may use: aliases of the route's `models:`, '<provider>/<model>', '<provider>/*' (any model of that provider) or '*' (anything the route can resolve). Default ['*'].",
    ),
    consumers: z
      .record(z.string().min(1).max(128), ModelList.describe('The models this consumer may use.'))
      .default({})
      .describe("Per-consumer allow-lists, by consumer name. A consumer listed here may use exactly these models (its tenant's list and `allow` do not apply to it). Default none."),
    tenants: z
      .record(z.string().min(1).max(128), ModelList.describe("The models this tenant's consumers may use."))
      .default({})
      .describe("Per-tenant allow-lists, by tenant name, for consumers of that tenant not listed under `consumers`; `allow` does not apply to them. Default none."),
    maxPromptBytes: z
      .number()
      .int()
      .min(1)
      .max(100 * 1024 * 1024)
      .optional()
      .describe('Most bytes (UTF-8) of prompt text a call may send: the text of all messages, or the embeddings input. Larger prompts get 413 models.prompt-too-large. No limit when absent (the request body is still bounded by the body policy, 1 MiB by default).'),
    maxPromptTokens: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .describe('Most prompt tokens a call may send, counted by the gateway with the o200k tokenizer (an estimate for non-OpenAI models). Larger prompts get 400 models.too-many-prompt-tokens. No limit when absent.'),
  })
  .strict()
  .describe(
    "Which models of an ai route a caller may use, and how large a prompt may be. The most specific list wins: consumers.<name>, else tenants.<tenant>, else allow. A refused model gets 403 models.model-not-allowed naming the models the caller may use.",
  )

export type ModelsConfig = z.output<typeof ModelsConfig>
