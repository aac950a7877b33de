/**
 * AI calls (issue 7): the facts of a call on an ai route as jsonb (provider, model, requested
 * alias, tokens, cost, first-byte latency). Never a prompt or a key. Adding a nullable column
 * is a catalog change only, even on a large partitioned table. The partial index serves the AI
 * usage analytics, which read only AI calls by time.
 */
export const aiMigration = {
  version: 2,
  name: 'ai',
  sql: `
ALTER TABLE calls ADD COLUMN ai jsonb;
CREATE INDEX calls_ai_time ON calls (time, id) WHERE ai IS NOT NULL;
`,
} as const
