/**
 * The PostgreSQL call log table: the same columns as the SQLite `calls` table, with jsonb for
 * `trail` and `denial`. Kept as a TS module so the text ships in dist/ and is found under vitest.
 *
 * Declarative range partitioning by month on `time` (epoch ms), with a default partition:
 * - a query with `since`/`until` (the CLI's `--since 1h`, the console's last hour) touches one
 *   or two partitions instead of every index entry ever written;
 * - each month's indexes stay small enough to remain cached while the table grows to millions;
 * - retention becomes `DROP TABLE calls_pYYYYMM`, with no vacuum debt from mass deletes.
 * Monthly partitions are created ahead of time by the store (see `ensurePartitions` in
 * postgres.ts); the default partition catches rows outside them (a skewed clock, very old data)
 * so an insert never fails for want of a partition.
 *
 * A unique constraint on a partitioned table must include the partition key, so the replay key
 * is `(request_id, time)`. A record is always converted to the same row, so a replayed row
 * carries the same pair and `ON CONFLICT DO NOTHING` skips it. Lookups by request id use the
 * same index through its leading column.
 *
 * `request_id` uses the "C" collation so that prefix lookups (`why 01JD8X...`) are plain byte
 * ranges on the index, whatever the database's default collation is.
 *
 * No identity column: PostgreSQL 15 does not allow one on a partitioned table. A sequence
 * default gives the same tie-breaker for rows logged in the same millisecond.
 */
export const callsMigration = {
  version: 1,
  name: 'calls',
  sql: `
CREATE SEQUENCE calls_id_seq AS bigint;
CREATE TABLE calls (
  id               bigint           NOT NULL DEFAULT nextval('calls_id_seq'),
  time             bigint           NOT NULL,
  request_id       text COLLATE "C" NOT NULL,
  trace_id         text             NOT NULL,
  route            text,
  consumer         text,
  tenant           text,
  method           text             NOT NULL,
  path             text             NOT NULL,
  status           integer          NOT NULL,
  decision         text             NOT NULL,
  layer            text             NOT NULL,
  rule             text,
  upstream_status  integer,
  upstream_ms      double precision,
  total_ms         double precision NOT NULL,
  request_bytes    bigint           NOT NULL,
  response_bytes   bigint           NOT NULL,
  client_ip        text             NOT NULL,
  upstream_target  text,
  trail            jsonb            NOT NULL,
  denial           jsonb,
  CONSTRAINT calls_request_id_time UNIQUE (request_id, time)
) PARTITION BY RANGE (time);
ALTER SEQUENCE calls_id_seq OWNED BY calls.id;
CREATE TABLE calls_default PARTITION OF calls DEFAULT;
CREATE INDEX calls_time ON calls (time, id);
CREATE INDEX calls_denied_time ON calls (time, id) WHERE status >= 400;
CREATE INDEX calls_route_time ON calls (route, time);
CREATE INDEX calls_consumer_time ON calls (consumer, time);
CREATE INDEX calls_tenant_time ON calls (tenant, time);
CREATE INDEX calls_status_time ON calls (status, time);
`,
} as const
