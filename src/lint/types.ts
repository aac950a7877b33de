/** Config dialects `gatehouse lint` understands. */
export type ConfigFormat = 'nginx' | 'apache' | 'iis'

/** Severity of a lint finding; only errors make the command exit 1 on their own. */
export type Severity = 'error' | 'warning'

/** One problem found in a config file, located to the character. */
export interface Finding {
  /** Display path of the file the finding is in (an include may differ from the linted file). */
  file: string
  line: number | null
  col: number
  severity: Severity
  message: string
  /** Stable id, `<format>.<rule>` (see docs/errors.md). */
  rule: string
}

/** The request to evaluate: everything a config can branch on. */
export interface LintRequest {
  /** Upper-case method. */
  method: string
  /** URL path as sent, may carry `?query`. */
  path: string
  /** Client address as the server sees it. */
  ip: string
  /** Host header value without port, lower case; undefined when none was given. */
  host?: string
  /** Port from the Host header or 80/443 by scheme. */
  port: number
  scheme: 'http' | 'https'
  /** Header names lower case. */
  headers: Record<string, string>
}

/** Which directive decides the request, if any. */
export interface Verdict {
  denied: boolean
  /** HTTP status the server answers with when denied (404 for IIS request filtering), else null. */
  status: number | null
  /** Sub-status for IIS (`403.6` is status 403, subStatus 6). */
  subStatus?: number
  file: string | null
  line: number | null
  col: number | null
  /** Directive text as written, e.g. `deny all;`. */
  directive: string | null
  why: string
  /** Where the directive sits, e.g. `location /admin`. */
  context?: string
}

/** What `lintConfig` returns: the verdict (only when a request was given) and the findings. */
export interface LintReport {
  file: string
  format: ConfigFormat
  verdict: Verdict | null
  findings: Finding[]
  /** With a request: the server/sections/locations it passed through, outermost first. */
  trail?: string[]
}

/** A source location a finding or verdict can point at. */
export interface SourcePoint {
  file: string
  line: number
  col: number
}
