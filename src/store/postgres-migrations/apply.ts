import type { ClientBase } from 'pg'
import { postgresMigrations, type PostgresMigration } from './index.js'

/**
 * Applies the migrations this schema has not seen, in version order, in one transaction under
 * an advisory lock, and records each in `schema_migrations`. Two instances starting at once
 * queue on the lock; the second finds everything applied and changes nothing. The lock key is
 * derived from the schema name, so instances using different schemas of one database do not
 * wait on each other. Returns the versions applied by this call.
 */
export async function applyPostgresMigrations(
  client: ClientBase,
  migrations: readonly PostgresMigration[] = postgresMigrations,
): Promise<number[]> {
  // Look without locking first: the usual start finds an up-to-date schema and writes nothing.
  const done = await appliedVersions(client)
  if (done && migrations.every((m) => done.has(m.version))) return []
  await client.query('BEGIN')
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('gatehouse.migrations.' || current_schema()))")
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    // Re-read inside the lock: another instance may have applied some meanwhile.
    const seen = (await appliedVersions(client)) ?? new Set<number>()
    const applied: number[] = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (seen.has(migration.version)) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
      applied.push(migration.version)
    }
    await client.query('COMMIT')
    return applied
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

/** Versions recorded in `schema_migrations` of the current schema, or null if it has none. */
async function appliedVersions(client: ClientBase): Promise<Set<number> | null> {
  const table = await client.query<{ name: string | null }>("SELECT to_regclass(quote_ident(current_schema()) || '.schema_migrations')::text AS name")
  if (table.rows[0]?.name == null) return null
  const rows = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
  return new Set(rows.rows.map((row) => row.version))
}
