import { mkdirSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { GatewayError } from '../core/errors.js'
import { createPostgresStore, type PostgresStoreOptions, type PostgresStoreProblem } from './postgres.js'
import { createSqliteStore, type SqliteStoreOptions, type StoreProblem } from './sqlite.js'
import type { CallLogStore, CallLogStats } from './types.js'

/** Where a SQLite store URL points (`openStore` handles `postgres://` URLs itself). */
export interface StoreLocation {
  kind: 'sqlite'
  /** Absolute path of the database file. */
  file: string
}

/**
 * Reads a `store:` URL. `sqlite:./data/gatehouse.db` is relative to `baseDir` (the config
 * file's directory); `sqlite:/var/lib/gatehouse.db` and `sqlite:///var/lib/gatehouse.db` are
 * absolute. Throws `GatewayError` with code `store.unsupported` for `postgres://` (not a file:
 * use `openStore`) and `sqlite::memory:`, and `store.invalid` for anything else it cannot read.
 */
export function resolveStoreLocation(url: string, baseDir: string): StoreLocation {
  const text = url.trim()
  if (isPostgresStoreUrl(text)) {
    throw new GatewayError('store.unsupported', 'This reads SQLite call-log files only; the PostgreSQL call log is opened with openStore.', {
      remediation: 'Open a `postgres://` store through openStore, or point at a SQLite file such as `sqlite:./data/gatehouse.db`.',
    })
  }
  if (!/^sqlite:/i.test(text)) {
    throw new GatewayError('store.invalid', `Unknown call-log store '${text.slice(0, 100)}'.`, {
      remediation: 'Set `store:` to a SQLite file such as `sqlite:./data/gatehouse.db`.',
    })
  }
  let path = text.slice('sqlite:'.length)
  // sqlite:///abs/path is the URL spelling of an absolute path.
  if (path.startsWith('//')) path = path.slice(2)
  if (path === ':memory:' || path === '') {
    throw new GatewayError(path === '' ? 'store.invalid' : 'store.unsupported',
      path === '' ? 'The SQLite store URL has no file path.' : 'An in-memory SQLite call log would be lost on exit and invisible to `gatehouse calls` and `gatehouse why`.', {
        remediation: 'Point `store:` at a file, e.g. `sqlite:./data/gatehouse.db`.',
      })
  }
  return { kind: 'sqlite', file: isAbsolute(path) ? path : resolve(baseDir, path) }
}

/** Options of either store; each uses the ones it knows. */
export interface OpenStoreOptions extends Omit<SqliteStoreOptions, 'onProblem'>, Omit<PostgresStoreOptions, 'onProblem'> {
  /** Told about write-side problems of whichever store is opened. Must not throw. */
  onProblem?: (problem: StoreProblem | PostgresStoreProblem) => void
}

/** True for a `postgres://` or `postgresql://` store URL. */
export function isPostgresStoreUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url.trim())
}

/**
 * Opens the call log a config's `store:` URL names, creating the database's directory.
 * A `postgres://` URL opens the PostgreSQL store, whose spool defaults to `data/spool` under
 * `baseDir` (a relative `spoolDir` is also taken from `baseDir`).
 * Throws `GatewayError` (`store.unsupported`, `store.invalid`, `store.unreachable`).
 */
export function openStore(url: string, baseDir: string, options: OpenStoreOptions = {}): CallLogStore & { stats(): CallLogStats } {
  if (isPostgresStoreUrl(url)) {
    const text = url.trim()
    if (!URL.canParse(text)) {
      throw new GatewayError('store.invalid', 'The PostgreSQL store URL cannot be parsed.', {
        remediation: 'Write it as `postgres://user:password@host:5432/database` (percent-encode special characters in the password).',
      })
    }
    return createPostgresStore(text, { ...options, spoolDir: resolve(baseDir, options.spoolDir ?? 'data/spool') })
  }
  const location = resolveStoreLocation(url, baseDir)
  try {
    mkdirSync(dirname(location.file), { recursive: true })
  } catch (error) {
    throw new GatewayError('store.unreachable', `cannot create the directory for the call log ${location.file}`, {
      remediation: 'Create the directory or point `store:` somewhere writable.',
      cause: error,
    })
  }
  return createSqliteStore(location.file, options)
}
