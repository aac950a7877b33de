import { callsMigration } from './001-calls.js'
import { aiMigration } from './002-ai.js'

/** One PostgreSQL schema change; applied once, in `version` order, recorded in `schema_migrations`. */
export interface PostgresMigration {
  version: number
  name: string
  sql: string
}

/** Every PostgreSQL migration, oldest first. Append only: a released migration is never edited. */
export const postgresMigrations: readonly PostgresMigration[] = [callsMigration, aiMigration]
