/**
 * The call log table. Kept as a TS module rather than a .sql file because tsc does not copy
 * .sql files to dist/, and the same text must be found under vitest (src/) and after build.
 *
 * There is deliberately no column for headers, bodies, keys, tokens or cookies: the call log
 * must never hold a secret (SPEC.md §2), and a column that does not exist cannot leak one.
 *
 * Indexes are ascending on purpose: read backwards they give `time DESC, id DESC`, the
 * newest-first order every query wants, with no sort step (the rowid breaks ties in time).
 */
export const callsMigration = {
  version: 1,
  name: 'calls',
  sql: `
CREATE TABLE calls (
  id               INTEGER PRIMARY KEY,
  time             INTEGER NOT NULL,
  request_id       TEXT    NOT NULL,
  trace_id         TEXT    NOT NULL,
  route            TEXT,
  consumer         TEXT,
  tenant           TEXT,
  method           TEXT    NOT NULL,
  path             TEXT    NOT NULL,
  status           INTEGER NOT NULL,
  decision         TEXT    NOT NULL,
  layer            TEXT    NOT NULL,
  rule             TEXT,
  upstream_status  INTEGER,
  upstream_ms      REAL,
  total_ms         REAL    NOT NULL,
  request_bytes    INTEGER NOT NULL,
  response_bytes   INTEGER NOT NULL,
  client_ip        TEXT    NOT NULL,
  upstream_target  TEXT,
  trail            TEXT    NOT NULL,
  denial           TEXT
);
CREATE UNIQUE INDEX calls_request_id ON calls (request_id);
CREATE INDEX calls_time ON calls (time);
CREATE INDEX calls_route_time ON calls (route, time);
CREATE INDEX calls_consumer_time ON calls (consumer, time);
CREATE INDEX calls_status_time ON calls (status, time);
`,
} as const
