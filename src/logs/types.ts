/** Log formats `gatehouse logs` reads; `--format` takes these names. */
export const logFormats = [
  'nginx',
  'apache',
  'apache-error',
  'nginx-error',
  'iis',
  'modsec-native',
  'modsec-json',
  'gatehouse',
] as const

/** One of `logFormats`. */
export type LogFormat = (typeof logFormats)[number]

/**
 * One request (or one denial message) read from a log, normalised across formats. Strings are
 * bounded by the parsers so a hostile log cannot grow memory through one field.
 */
export interface LogRecord {
  /** `2024-03-19T08:42Z` when the log carries a zone (converted to UTC), `2024-03-19T08:42` when it does not. */
  minute: string | null
  /** HTTP status sent; null for error-log lines that do not decide a request. */
  status: number | null
  method: string | null
  /** Path as logged, up to `?`. */
  path: string | null
  /** Client address as logged (without the port error logs add). */
  client: string | null
  /** Left-most X-Forwarded-For entry, where the log has that field. */
  forwardedClient: string | null
  /** Rule ids that matched: ModSecurity ids, Apache `AH` codes, Gatehouse `<layer>.<rule>`. */
  rules: string[]
  /** Short message that goes with the rules (ModSecurity `msg`, Apache error text). */
  message: string | null
  /** IIS `403.14` style status with substatus. */
  substatus: string | null
  /** Windows status code IIS logged (`sc-win32-status`), when not 0. */
  win32Status: string | null
  /** The producer's own cause key when the log names one (`apache:AH01630`, `gatehouse:authz.missing-scope`). */
  cause: string | null
}

/** Creates an empty record; parsers fill in what their format has. */
export function createRecord(): LogRecord {
  return {
    minute: null,
    status: null,
    method: null,
    path: null,
    client: null,
    forwardedClient: null,
    rules: [],
    message: null,
    substatus: null,
    win32Status: null,
    cause: null,
  }
}

/**
 * A line parser for one format. `feed` returns a record, `'skip'` for a malformed line, or
 * undefined for a line that is valid but carries no record of its own (a directive, a line
 * inside a multi-line entry). Parsers keep bounded state only.
 */
export interface RecordParser {
  feed(line: string): LogRecord | 'skip' | undefined
  /** Called at end of input: returns an entry still open (multi-line formats), if complete enough. */
  end(): LogRecord | 'skip' | undefined
  /** True when the format records a forwarded-for field (so reports list `forwardedClient`). */
  hasForwardedField(): boolean
}

/** One `{ value, count }` row of a top list. */
export interface TopEntry {
  value: string
  count: number
}

/** A minute with far more 403s than the file's baseline. */
export interface Spike {
  minute: string
  count: number
}

/** A group of denials with one likely cause. */
export interface Cluster {
  summary: string
  count: number
  explanation: string
}

/** The per-file report of SPEC §3 (`logs --json`). */
export interface FileReport {
  file: string
  format: LogFormat | 'unknown'
  lines: number
  records: number
  /** Lines that looked like neither a record nor a known directive. */
  skipped: number
  status: { '401': number; '403': number; '429': number }
  top403: {
    path: TopEntry[]
    client: TopEntry[]
    method: TopEntry[]
    rule: TopEntry[]
    substatus: TopEntry[]
    forwardedClient?: TopEntry[]
  }
  spikes: Spike[]
  clusters: Cluster[]
}
