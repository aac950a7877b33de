import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseDocument } from 'yaml'
import { UsageError, parseCommandArgs } from '../args.js'
import { configOption, configPath } from '../config-arg.js'
import type { Command, Io } from '../io.js'
import { exitCodes } from '../io.js'
import { createPalette, formatMs, formatTime, renderTable, sanitizeText } from '../print.js'
import { isGatewayError } from '../../core/errors.js'
import { isPostgresStoreUrl, resolveStoreLocation } from '../../store/open-store.js'
import { createPostgresReader, describePostgresTarget } from '../../store/postgres.js'
import { createSqliteStore } from '../../store/sqlite.js'
import type { CallLogStore, CallQuery, CallRecord } from '../../store/types.js'

/** The call log a command reads, or why it could not be opened. */
export type CallLogAccess =
  | { kind: 'open'; store: CallLogStore; file: string }
  /** The store URL is fine but the gateway has not written the file yet. */
  | { kind: 'missing'; file: string }
  /** Reported on stderr already; the command returns this exit code. */
  | { kind: 'failed'; exitCode: number }

/**
 * Opens the call log for reading, found through `--store <url>` (relative to the working
 * directory) or else the config file's `store:` (relative to the config file). Never creates
 * a database: a read command on a fresh install says so instead of leaving an empty file.
 * Shared by `calls` and `why`.
 */
export async function openCallLog(values: { config?: string; store?: string }, io: Io, command: string): Promise<CallLogAccess> {
  let url: string
  let baseDir: string
  if (values.store !== undefined) {
    url = values.store
    baseDir = io.cwd
  } else {
    const file = configPath(values.config, io)
    // Loaded on demand: `--store` works even while no config (or policy) is available.
    const { loadConfigFile, formatProblem } = await import('../../config/load.js')
    const loaded = await loadConfigFile(file, io.env)
    let setting: string | undefined
    if (loaded.ok) {
      setting = loaded.config.store
    } else {
      // Problems elsewhere (often an `env:` key or `${TOKEN}` not set in this shell) must not
      // stop us finding the log: read `store:` alone. `gatehouse check` reports the rest.
      setting = await readStoreSetting(file, io.env)
    }
    if (setting === undefined) {
      const problems = loaded.ok ? [] : loaded.problems
      io.stderr(`gatehouse ${command}: cannot read the config to find the call log:\n${problems.map(formatProblem).join('\n')}\n`)
      if (values.config === undefined) io.stderr(`Pass -c <file>, or --store sqlite:<path> to read a call log directly.\n`)
      return { kind: 'failed', exitCode: exitCodes.usage }
    }
    if (setting === 'off') {
      io.stderr(`gatehouse ${command}: the call log is off in ${file} (store: off); nothing is recorded.\n`)
      return { kind: 'failed', exitCode: exitCodes.usage }
    }
    url = setting
    baseDir = dirname(file)
  }
  try {
    // A cluster's call log: read it in place; there is no file to look for.
    if (isPostgresStoreUrl(url)) return { kind: 'open', store: createPostgresReader(url.trim()), file: describePostgresTarget(url) }
    const location = resolveStoreLocation(url, baseDir)
    if (!existsSync(location.file)) return { kind: 'missing', file: location.file }
    return { kind: 'open', store: createSqliteStore(location.file), file: location.file }
  } catch (error) {
    if (!isGatewayError(error)) throw error
    io.stderr(`gatehouse ${command}: ${error.message}\n${error.remediation ? `${error.remediation}\n` : ''}`)
    return { kind: 'failed', exitCode: exitCodes.usage }
  }
}

/** The schema's default for `store:`. */
const defaultStore = 'sqlite:./data/gatehouse.db'

/**
 * Reads only the top-level `store:` of a config file, with `${VAR}` / `${VAR:-default}`
 * expanded from `env`. Undefined if the file cannot be read or `store:` is not text.
 */
async function readStoreSetting(file: string, env: Io['env']): Promise<string | undefined> {
  try {
    const document = parseDocument(await readFile(file, 'utf8'))
    if (document.errors.length > 0) return undefined
    const value: unknown = document.get('store')
    if (value === undefined || value === null) return defaultStore
    if (typeof value !== 'string') return undefined
    let missing = false
    const expanded = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback: string | undefined) => {
      const found = env[name] ?? fallback
      if (found === undefined) missing = true
      return found ?? ''
    })
    return missing ? undefined : expanded
  } catch {
    return undefined
  }
}

const durationUnits: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * `--since`/`--until`: a duration back from now (`90s`, `30m`, `1h`, `2d`, `1w`) or an ISO date
 * or date-time (`2026-01-01`, `2026-01-01T12:00:00Z`). Returns epoch ms.
 */
export function parseTimeBound(value: string, flag: string, now: number): number {
  const relative = /^(\d{1,9})([smhdw])$/.exec(value.trim())
  if (relative) return now - Number(relative[1]) * durationUnits[relative[2]]
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const parsed = Date.parse(value.trim())
    if (Number.isFinite(parsed)) return parsed
  }
  throw new UsageError(`${flag} expects a duration like 30m, 1h, 2d or an ISO time like 2026-01-01T12:00:00Z, not '${sanitizeText(value, 60)}'`)
}

function parseInteger(value: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${flag} expects a whole number, not '${sanitizeText(value, 60)}'`)
  const n = Number(value)
  if (n < min || n > max) throw new UsageError(`${flag} must be between ${min} and ${max}`)
  return n
}

/** `allow`, `authz;missing-scope`, `upstream;status-403`: who decided, as Gatehouse-Decision spells it. */
export function formatDecision(record: Pick<CallRecord, 'decision' | 'layer' | 'rule'>): string {
  if (record.decision === 'allow') return 'allow'
  return record.rule ? `${record.layer};${record.rule}` : record.layer
}

/** `gpt-4o-mini 1234 tok $0.0012` for an AI call: model, tokens (`~` when counted by the gateway), cost. */
export function formatAiUsage(ai: CallRecord['ai']): string {
  if (!ai) return '-'
  const tokens = `${ai.estimated ? '~' : ''}${ai.totalTokens} tok`
  const cost = ai.costUsd === null ? '' : ` $${formatUsd(ai.costUsd)}`
  return `${ai.model} ${tokens}${cost}`
}

/** Dollars with enough digits to show a fraction of a cent. */
export function formatUsd(value: number): string {
  if (value === 0) return '0'
  if (value >= 1) return value.toFixed(2)
  return value.toPrecision(2).replace(/0+$/, '').replace(/\.$/, '')
}

/**
 * One line per call: time, status, method, path, route, consumer, decision, total ms, request id;
 * plus model, tokens and cost when any listed call went to an AI model.
 */
export function renderCalls(records: readonly CallRecord[], color: boolean): string {
  const palette = createPalette(color)
  const withAi = records.some((r) => r.ai !== undefined)
  const rows = records.map((r) => {
    const row = [
      formatTime(r.time),
      String(r.status),
      sanitizeText(r.method, 10),
      sanitizeText(r.path, 60),
      sanitizeText(r.route ?? '-', 40),
      sanitizeText(r.consumer ?? '-', 40),
      sanitizeText(formatDecision(r), 60),
      formatMs(r.totalMs),
    ]
    if (withAi) row.push(sanitizeText(formatAiUsage(r.ai), 80))
    row.push(sanitizeText(r.requestId, 64))
    return row
  })
  const last = withAi ? 9 : 8
  return renderTable(rows, {
    align: (['left', 'right', 'left', 'left', 'left', 'left', 'left', 'right', 'left', 'left'] as const).slice(0, last + 1),
    paint: (cell, row, column) => {
      const status = records[row].status
      if (column === 1 || column === 6) return status >= 500 ? palette.red(cell) : status >= 400 ? palette.yellow(cell) : palette.green(cell)
      if (column === 0 || column === last) return palette.dim(cell)
      return cell
    },
  })
}

/** `gatehouse calls`: the call log, newest first, filtered. */
export const callsCommand: Command = {
  name: 'calls',
  summary: 'List logged calls, newest first (filter by denied, time, route, consumer, status)',
  usage: 'gatehouse calls [-c gatehouse.yaml] [--store sqlite:<path>] [--denied] [--since 1h|30m|2d|ISO] [--until ...] [--route r] [--consumer c] [--tenant t] [--layer l] [--status 403] [--limit n] [--json]',
  examples: [
    'gatehouse calls --denied --since 1h',
    'gatehouse calls --route orders-create --status 403 --limit 20',
    'gatehouse calls --consumer acme-app --json',
  ],
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      ...configOption,
      store: { type: 'string' },
      denied: { type: 'boolean' },
      since: { type: 'string' },
      until: { type: 'string' },
      route: { type: 'string' },
      consumer: { type: 'string' },
      tenant: { type: 'string' },
      layer: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    })
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${sanitizeText(positionals[0], 60)}'`)
    const now = Date.now()
    const query: CallQuery = { limit: values.limit === undefined ? 50 : parseInteger(values.limit, '--limit', 1, 1000) }
    if (values.denied) query.denied = true
    if (values.since !== undefined) query.since = parseTimeBound(values.since, '--since', now)
    if (values.until !== undefined) query.until = parseTimeBound(values.until, '--until', now)
    if (values.route !== undefined) query.route = values.route
    if (values.consumer !== undefined) query.consumer = values.consumer
    if (values.tenant !== undefined) query.tenant = values.tenant
    if (values.layer !== undefined) query.layer = values.layer
    if (values.status !== undefined) query.status = parseInteger(values.status, '--status', 100, 599)

    const access = await openCallLog(values, io, 'calls')
    if (access.kind === 'failed') return access.exitCode
    if (access.kind === 'missing') {
      if (values.json) io.stdout('[]\n')
      io.stderr(`gatehouse calls: no call log at ${access.file} yet; the gateway creates it when it logs its first call.\n`)
      return exitCodes.ok
    }
    let records: CallRecord[]
    try {
      records = await access.store.query(query)
    } finally {
      await access.store.close()
    }
    if (values.json) {
      io.stdout(`${JSON.stringify(records, null, 2)}\n`)
      return exitCodes.ok
    }
    if (records.length === 0) {
      io.stderr('gatehouse calls: no calls match.\n')
      return exitCodes.ok
    }
    io.stdout(renderCalls(records, io.color))
    return exitCodes.ok
  },
}
