/**
 * Indexes that keep the admin console responsive on a large call log (measured with a million
 * calls by `bench/console.js`).
 *
 * `calls_console` holds every column the console filters and groups on, after `(time, id)`:
 * - read backwards it gives the newest-first order (`time DESC, id DESC`, ties broken by id) with
 *   no sort step, like `calls_time`;
 * - a call-list filter that has no index of its own (layer, tenant, denied, or several filters at
 *   once) is checked on the index entry, so only matching rows are read from the table: a search
 *   that matches nothing reads the index once (~100 ms per million calls) instead of every row;
 * - a denial report over a time range is answered from the index alone (covering), never
 *   touching the wide rows with their trails.
 *
 * It leads with `time`, so it also does everything `calls_time` did (newest first, time ranges,
 * retention deletes); `calls_time` is dropped so each logged call updates one index fewer
 * (the writer thread shares the gateway's cores).
 */
export const consoleIndexesMigration = {
  version: 3,
  name: 'console-indexes',
  sql: `
CREATE INDEX IF NOT EXISTS calls_console ON calls (time, id, status, layer, rule, route, consumer, tenant);
DROP INDEX IF EXISTS calls_time;
`,
} as const
