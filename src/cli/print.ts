import type { TrailEntry } from '../gateway/context.js'

/**
 * Shared CLI rendering: colour that respects `io.color`, aligned tables, safe text, and the
 * per-layer decision trail that `gatehouse why` and `gatehouse explain` print.
 */

/** Pipeline order of SPEC.md §1; `why` uses it to name the layers a denial kept from running. */
export const pipelineLayers = [
  'request-id', 'ip', 'cors', 'body', 'waf', 'authn', 'subscription', 'authz', 'csrf', 'rate-limit', 'transform', 'upstream',
] as const

/** Text painters; all identity functions when colour is off. */
export interface Palette {
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  cyan(text: string): string
}

/** ANSI colours when `color` is true (a TTY without NO_COLOR), plain text otherwise. */
export function createPalette(color: boolean): Palette {
  const wrap = (open: number, close: number) => (text: string) => (color && text ? `\u001b[${open}m${text}\u001b[${close}m` : text)
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) }
}

// C0/C1 controls and the bidi overrides that can reorder what a terminal shows. Logged paths
// and ids come from untrusted clients; printed raw they could move the cursor or hide text.
// A single character class: linear.
const unsafeCharacters = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** Makes untrusted text safe for a terminal: control characters become `\xNN` / `\u{NNNN}`, long text is cut with `…`. */
export function sanitizeText(text: string, maxLength = 200): string {
  const cut = text.length > maxLength ? `${text.slice(0, Math.max(0, maxLength - 1))}…` : text
  return cut.replace(unsafeCharacters, (ch) => {
    const code = ch.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`
  })
}

/** `2026-01-01T12:00:00Z`: ISO 8601 in UTC, to the second. */
export function formatTime(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return '-'
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Milliseconds, as precise as is useful: `0.04ms`, `3.2ms`, `42ms`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-'
  if (ms === 0) return '0ms'
  return ms < 1 ? `${ms.toFixed(2)}ms` : ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`
}

export interface TableOptions {
  /** Per column; default left. */
  align?: ('left' | 'right')[]
  /** Colours a cell after padding, so escape codes never upset the widths. */
  paint?: (text: string, row: number, column: number) => string
  /** Prefix of every line. */
  indent?: string
  /** Spaces between columns; default 2. */
  gap?: number
}

/** Aligns rows of cells into columns; the last column is not padded. Each line ends in `\n`. */
export function renderTable(rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const gap = ' '.repeat(options.gap ?? 2)
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows
    .map((row, r) => {
      const cells = row.map((cell, c) => {
        const isLast = c === row.length - 1
        const padded = options.align?.[c] === 'right' ? cell.padStart(widths[c]) : isLast ? cell : cell.padEnd(widths[c])
        return options.paint ? options.paint(padded, r, c) : padded
      })
      return `${options.indent ?? ''}${cells.join(gap)}`.trimEnd() + '\n'
    })
    .join('')
}

/** What a layer's row says, as `why` and `explain` print it. */
export type TrailVerdict = 'pass' | 'DENY' | 'respond' | 'detect' | 'skip' | 'not reached'

/** One row of a rendered trail. */
export interface TrailRow {
  layer: string
  verdict: TrailVerdict
  /** Full rule id when the layer named one (`authz.missing-scope`). */
  rule?: string
  ms?: number
  /** A short fact worth showing (`403 from http://10.0.0.5:3001`). */
  note?: string
}

/** The fields of a denial the trail needs; a stored denial (JSON) and a live `Denial` both fit. */
export interface DenialLike {
  layer?: unknown
  rule?: unknown
  message?: unknown
  remediation?: unknown
  publicRemedy?: unknown
}

/** Anything with a trail: a stored CallRecord, or an `explain` dry run. */
export interface TrailView {
  trail: readonly TrailEntry[]
  denial?: DenialLike | null
  /** Status sent to the client, when known. */
  status?: number
}

/** A trail explained: a row per layer, then why, the fix, and where the errors doc says more. */
export interface TrailReport {
  rows: TrailRow[]
  /** Full rule id that decided, if a layer denied. */
  rule?: string
  /** The denial's message. */
  reason?: string
  /** What to change. */
  fix?: string
  /** `docs/errors.md#<rule-id-with-dots-as-dashes>`. */
  see?: string
}

const verdictOf: Record<TrailEntry['result'], TrailVerdict> = {
  allow: 'pass', deny: 'DENY', respond: 'respond', detect: 'detect', skip: 'skip',
}

/** `docs/errors.md#authz-missing-scope` for `authz.missing-scope`. */
export function errorsDocAnchor(ruleId: string): string {
  return `docs/errors.md#${ruleId.toLowerCase().replace(/\./g, '-')}`
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

/** Full rule id: trail and stored denials carry it whole; a bare rule name gets its layer. */
function fullRuleId(layer: string, rule: string | undefined): string | undefined {
  if (!rule) return undefined
  return rule.includes('.') ? rule : `${layer}.${rule}`
}

function noteOf(entry: TrailEntry): string | undefined {
  const detail = entry.detail
  if (entry.layer === 'upstream' && detail && typeof detail.status === 'number') {
    const target = typeof detail.target === 'string' ? ` from ${detail.target}` : ''
    return `${detail.status}${target}`
  }
  return undefined
}

/**
 * Explains a trail: each recorded layer in order, then `not reached` for the pipeline layers
 * after the one that stopped the request (a denial or an answered preflight). The stored
 * trail holds only the layers configured on the route, so layers after a stop are listed from
 * the pipeline order; a stop outside it (`gateway`: no route) leaves only `upstream` unreached.
 */
export function describeTrail(view: TrailView): TrailReport {
  const rows: TrailRow[] = []
  let stopLayer: string | undefined
  let deniedRule: string | undefined
  for (const entry of view.trail) {
    const row: TrailRow = { layer: entry.layer, verdict: verdictOf[entry.result] ?? 'pass' }
    const rule = fullRuleId(entry.layer, entry.rule)
    if (rule) row.rule = rule
    if (Number.isFinite(entry.ms)) row.ms = entry.ms
    const note = noteOf(entry)
    if (note) row.note = note
    rows.push(row)
    if (entry.result === 'deny' || entry.result === 'respond') {
      stopLayer = entry.layer
      if (entry.result === 'deny') deniedRule = rule
      break
    }
  }

  const denial = view.denial ?? undefined
  const denialLayer = text(denial?.layer)
  if (!stopLayer && denial && denialLayer) {
    // Denied before any layer could record it (no route, malformed path): show it as the stop.
    stopLayer = denialLayer
    deniedRule = fullRuleId(denialLayer, text(denial.rule))
    rows.push({ layer: denialLayer, verdict: 'DENY', ...(deniedRule ? { rule: deniedRule } : {}) })
  }

  if (stopLayer && stopLayer !== 'upstream') {
    const position = (pipelineLayers as readonly string[]).indexOf(stopLayer)
    const after = position === -1 ? ['upstream'] : pipelineLayers.slice(position + 1)
    const seen = new Set(rows.map((r) => r.layer))
    for (const layer of after) if (!seen.has(layer)) rows.push({ layer, verdict: 'not reached' })
  }

  const report: TrailReport = { rows }
  const rule = fullRuleId(denialLayer ?? stopLayer ?? '', text(denial?.rule)) ?? deniedRule
  if (rule) report.rule = rule
  const reason = text(denial?.message)
  if (reason) report.reason = reason
  const fix = text(denial?.remediation) ?? text(denial?.publicRemedy)
  if (fix) report.fix = fix
  const upstreamStatus = rule?.match(/^upstream\.status-(\d{3})$/)
  if (upstreamStatus) {
    // The upstream's own refusal: Gatehouse passed it through, so the cause is in that service.
    report.reason ??= `The upstream service answered ${upstreamStatus[1]} itself; Gatehouse passed it through.`
    report.fix ??= "Look at the upstream service's own logs and policies, or run `gatehouse doctor` against it."
  } else if (rule) {
    report.see = errorsDocAnchor(rule)
  }
  return report
}

/**
 * Renders a trail: a row per layer (`pass`, `DENY`, `respond`, `detect`, `skip`, `not reached`),
 * then `why:`, `fix:` and `see:` lines when a layer denied. Ends in `\n`.
 */
export function renderTrail(view: TrailView, options: { color: boolean }): string {
  const palette = createPalette(options.color)
  const report = describeTrail(view)
  const cells = report.rows.map((row) => [
    sanitizeText(row.layer, 40),
    row.verdict,
    row.ms === undefined ? '' : formatMs(row.ms),
    sanitizeText([row.rule, row.note].filter(Boolean).join('  '), 120),
  ])
  const paintVerdict = (cell: string, verdict: TrailVerdict): string => {
    if (verdict === 'DENY') return palette.bold(palette.red(cell))
    if (verdict === 'pass') return palette.green(cell)
    if (verdict === 'not reached' || verdict === 'skip') return palette.dim(cell)
    return palette.yellow(cell)
  }
  let out = renderTable(cells, {
    indent: '  ',
    align: ['left', 'left', 'right', 'left'],
    paint: (cell, r, c) => {
      const verdict = report.rows[r].verdict
      if (c === 1) return paintVerdict(cell, verdict)
      return verdict === 'not reached' ? palette.dim(cell) : cell
    },
  })
  if (report.reason || report.fix || report.see) out += '\n'
  if (report.reason) out += `${palette.bold('why:')} ${sanitizeText(report.reason, 500)}\n`
  if (report.fix) out += `${palette.bold('fix:')} ${sanitizeText(report.fix, 500)}\n`
  if (report.see) out += `${palette.bold('see:')} ${sanitizeText(report.see, 200)}\n`
  return out
}
