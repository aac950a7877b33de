import type { Family } from '../rules.js'

/** Anomaly score each severity adds (the CRS convention: critical 5, error 4, warning 3, notice 2). */
export const severityScore = { critical: 5, error: 4, warning: 3, notice: 2 } as const
export type Severity = keyof typeof severityScore

/**
 * Where a signature looks. Each is one libddwaf address filled by inputs.ts:
 * - `path`: the whole path, percent-decoded once; `rawpath`: the path as received;
 * - `segment`: each path segment, decoded;
 * - `query`, `body`, `cookie`, `header`: values, decoded once (query and form `+` is a space);
 * - `keys`: parameter, JSON key, cookie and form field names;
 * - `file`: values of parameters whose name says they hold a file, page or include (file, path,
 *   page, template, include, ...) and multipart file names — a copy, for stricter signatures;
 * - `command`: likewise for parameters named like a command (cmd, exec, command, ...);
 * - `ua`: the User-Agent header, and a Content-Type that contains template or OGNL syntax.
 */
export type Location = 'path' | 'rawpath' | 'segment' | 'query' | 'body' | 'cookie' | 'header' | 'keys' | 'file' | 'command' | 'ua'

/** Checks done in JavaScript by inputs.ts because they are about bytes or counts, not strings. */
export type NativeCheck =
  | 'nul-byte'
  | 'control-char'
  | 'overlong-utf8'
  | 'invalid-utf8'
  | 'iis-unicode'
  | 'bad-escape'
  | 'header-count'
  | 'transfer-encoding'
  | 'smuggled-request'
  | 'type-mismatch'

export type Match =
  | { op: 'is_sqli' }
  | { op: 'is_xss' }
  /** RE2 syntax (libddwaf `match_regex`), matched case-insensitively unless `caseSensitive`. */
  | { op: 'regex'; regex: string; caseSensitive?: boolean; minLength?: number }
  | { op: 'phrase'; list: string[]; wordBoundary?: boolean }
  | { op: 'native'; check: NativeCheck }

/** One signature of the rule set: data, compiled to libddwaf's format by engine.ts. */
export interface Signature {
  /** `<family prefix>-NNN`, stable: operators name it in exclusions. */
  id: string
  family: Family
  /** What it catches, one line, for the trace. */
  name: string
  paranoia: 1 | 2 | 3 | 4
  severity: Severity
  on: Location[]
  match: Match
  /** libddwaf transformers applied before matching, in order (e.g. url_decode, lowercase). */
  transforms?: string[]
}
