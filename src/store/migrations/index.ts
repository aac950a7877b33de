import { callsMigration } from './001-calls.js'
import { aiMigration } from './002-ai.js'
import { consoleIndexesMigration } from './003-console-indexes.js'

/** One schema change; applied once, in `version` order, and recorded in `schema_migrations`. */
export interface Migration {
  version: number
  name: string
  sql: string
}

/** Every migration, oldest first. Append only: a released migration is never edited. */
export const migrations: readonly Migration[] = [callsMigration, aiMigration, consoleIndexesMigration]
