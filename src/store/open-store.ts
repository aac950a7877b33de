import { mkdirSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { GatewayError } from '../core/errors.js'
import { createSqliteStore, type SqliteStoreOptions } from './sqlite.js'
import type { CallLogStore, CallLogStats } from './types.js'

/** Where a store URL points. Only SQLite files for now; PostgreSQL arrives with clustering. */
export interface StoreLocation {
  kind: 'sqlite'
  /** Absolute path of the database file. */
  file: string
}

/**
 * Reads a `store:` URL. `sqlite:./data/gatehouse.db` is relative to `baseDir` (the config
 * file's directory); `sqlite:/var/lib/gatehouse.db` and `sqlite:///var/lib/gatehouse.db` are
 * absolute. Throws `GatewayError` with code `store.unsupported` for `postgres://` and
 * `sqlite::memory:`, and `store.invalid` for anything else it cannot read.
 */
export function resolveStoreLocation(url: string, baseDir: string): StoreLocation {
  const text = url.trim()
  if (/^postgres(ql)?:\/\//i.test(text)) {
    throw new GatewayError('store.unsupported', 'A PostgreSQL call log is not available yet; it arrives with the cluster support.', {
      remediation: 'Use an embedded SQLite file for now, e.g. `store: sqlite:./data/gatehouse.db`.',
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

/**
 * Opens the call log a config's `store:` URL names, creating the database's directory.
 * Throws `GatewayError` (`store.unsupported`, `store.invalid`, `store.unreachable`).
 */
export function openStore(url: string, baseDir: string, options: SqliteStoreOptions = {}): CallLogStore & { stats(): CallLogStats } {
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
