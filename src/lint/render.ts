import type { Finding, LintReport, LintRequest } from './types.js'

/** `lint --json` output, exactly the shape of SPEC.md §3. */
export interface LintJson {
  denied: boolean
  file: string
  line: number | null
  directive: string | null
  why: string | null
  status: number | null
  findings: { line: number | null; severity: string; message: string; rule: string }[]
}

/** Builds the SPEC §3 JSON object. Findings in included files name their file in the message. */
export function toLintJson(report: LintReport): LintJson {
  const v = report.verdict
  return {
    denied: v?.denied ?? false,
    file: v?.denied && v.file ? v.file : report.file,
    line: v?.denied ? v.line : null,
    directive: v?.denied ? v.directive : null,
    // JSON has one numeric status; IIS's sub-status (404.6) goes into `why`.
    why: v ? (v.denied && v.subStatus !== undefined ? `IIS ${v.status}.${v.subStatus}: ${v.why}` : v.why) : null,
    status: v?.denied ? v.status : null,
    findings: report.findings.map((f) => ({
      line: f.line,
      severity: f.severity,
      message: f.file === report.file ? f.message : `${f.file}: ${f.message}`,
      rule: f.rule,
    })),
  }
}

const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text)

/** One `file:line:col severity message rule-id` line. */
export function renderFinding(f: Finding, color = false): string {
  const sev = f.severity === 'error' ? paint(color, '31', 'error') : paint(color, '33', 'warning')
  return `${f.file}:${f.line ?? 0}:${f.col} ${sev} ${f.message} ${paint(color, '2', f.rule)}`
}

/** The verdict line: `DENIED 403 by nginx.conf:42 'deny all;' in location /admin: ...`. */
export function renderVerdict(report: LintReport, request: LintRequest, color = false): string {
  const v = report.verdict
  if (!v) return ''
  if (v.denied) {
    const status = v.subStatus !== undefined ? `${v.status}.${v.subStatus}` : String(v.status)
    const where = v.context ? ` in ${v.context}` : ''
    return `${paint(color, '1;31', `DENIED ${status}`)} by ${v.file}:${v.line} '${v.directive}'${where}: ${v.why}`
  }
  const answered = v.status !== null && v.directive ? ` (answered ${v.status} by ${v.file}:${v.line} '${v.directive}')` : ''
  return `${paint(color, '1;32', 'ALLOWED')} ${request.method} ${request.path} from ${request.ip}${answered}: ${v.why}`
}

/** Full human output: verdict line, findings, then `N problems (E errors, W warnings)`. */
export function renderLintText(report: LintReport, request: LintRequest | undefined, color = false): string {
  const lines: string[] = []
  if (request && report.verdict) {
    lines.push(renderVerdict(report, request, color))
    if (report.trail?.length) lines.push(paint(color, '2', `  via ${report.trail.join(' > ')}`))
  }
  for (const f of report.findings) lines.push(renderFinding(f, color))
  const errors = report.findings.filter((f) => f.severity === 'error').length
  const warnings = report.findings.length - errors
  const n = report.findings.length
  lines.push(`${n} problem${n === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})`)
  return `${lines.join('\n')}\n`
}
