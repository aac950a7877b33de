/**
 * AI calls (issue 7): what the call log keeps of a call on an ai route, as one JSON column
 * (provider, model, requested alias, tokens, cost, first-byte latency). Never a prompt or a key.
 * The partial index serves the AI usage analytics, which read only AI calls by time.
 */
export const aiMigration = {
  version: 2,
  name: 'ai',
  sql: `
ALTER TABLE calls ADD COLUMN ai TEXT;
CREATE INDEX calls_ai_time ON calls (time) WHERE ai IS NOT NULL;
`,
} as const
