import { FileAggregator } from './aggregate.js'
import { detectFormat, detectionLines } from './detect.js'
import type { AccessLogTraits } from './parsers/access-log.js'
import { createParser, LogFormatError } from './parsers/index.js'
import { maxLineChars, openLogSource, readLineBatches } from './read-lines.js'
import type { FileReport, LogFormat, RecordParser } from './types.js'

/** Why a file could not be analysed: unreadable, or of no format we know. Exit code 2. */
export class LogInputError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`)
    this.name = 'LogInputError'
  }
}

/** How to read a log. */
export interface AnalyseOptions {
  /** A format name, or `auto` (default) to detect it from the first lines. */
  format?: LogFormat | 'auto'
  /** nginx `log_format` string for custom nginx access logs (implies `nginx` under `auto`). */
  logFormat?: string
  /** What `-` reads; process.stdin by default. */
  stdin?: AsyncIterable<Buffer>
}

function describeReadError(error: unknown): string {
  const code = (error as { code?: string }).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') return `corrupt gzip data (${error instanceof Error ? error.message : String(error)})`
  return error instanceof Error ? error.message : String(error)
}

/**
 * Reads one log from a byte source and reports on it (SPEC §3). Streams: memory stays
 * bounded whatever the file size. Throws LogInputError when the source cannot be read or its
 * format cannot be detected.
 */
export async function analyseSource(name: string, source: AsyncIterable<Buffer>, options: AnalyseOptions = {}): Promise<FileReport> {
  const requested = options.format ?? 'auto'
  const detecting = requested === 'auto' && options.logFormat === undefined
  const traits: AccessLogTraits = { combined: false, dashBytes: false, extraQuoted: false }

  const start = (lines: string[]): Run => {
    let format: LogFormat
    let logFormat = options.logFormat
    if (requested !== 'auto') format = requested
    else if (logFormat !== undefined) {
      // --log-format describes the nginx access logs of the run; an error log or audit log
      // given alongside keeps its own format. JSON lines stay with the custom format, since
      // nginx can write JSON (escape=json) that looks like Gatehouse's.
      const detected = detectFormat(lines).format
      format = detected !== null && otherThanAccess.has(detected) ? detected : 'nginx'
      if (format !== 'nginx') logFormat = undefined
    } else {
      const detection = detectFormat(lines)
      if (detection.format === null) throw new LogInputError(name, `cannot detect the log format: ${detection.reason}`)
      format = detection.format
    }
    return { parser: createParser(format, { logFormat, traits }), aggregator: new FileAggregator(name, format) }
  }

  let run: Run | null = null
  let pending: string[] = []
  let pendingChars = 0
  let nonEmpty = 0
  try {
    for await (const batch of readLineBatches(source)) {
      if (run !== null) {
        feedLines(run, batch.lines)
        continue
      }
      for (const line of batch.lines) {
        pending.push(line)
        pendingChars += line.length
        if (line.trim() !== '') nonEmpty++
      }
      // Detection looks at the first lines; the buffer stays bounded even when a file
      // opens with a sea of blank or huge lines.
      if (nonEmpty < detectionLines && pending.length < 100_000 && pendingChars < 16 * maxLineChars) continue
      run = start(pending)
      feedLines(run, pending)
      pending = []
    }
  } catch (error) {
    if (error instanceof LogInputError || error instanceof LogFormatError) throw error
    throw new LogInputError(name, `cannot read: ${describeReadError(error)}`)
  }
  if (run === null) {
    if (nonEmpty === 0 && detecting) {
      // An empty log (fresh after rotation) was read fine; there is just nothing in it.
      const empty = new FileAggregator(name, 'unknown')
      empty.lines = pending.length
      return empty.report(false)
    }
    run = start(pending)
    feedLines(run, pending)
  }
  const { parser, aggregator } = run
  const last = parser.end()
  if (last === 'skip') aggregator.skipped++
  else if (last !== undefined) aggregator.add(last)
  if (aggregator.records === 0 && aggregator.skipped > 0) {
    const hint = aggregator.format === 'nginx' ? ' (or give --log-format for a custom nginx log_format)' : ''
    throw new LogInputError(name, `none of its ${aggregator.skipped} lines matches the '${aggregator.format}' format; check --format${hint}`)
  }
  // nginx and Apache share the combined format; the body-size clue may show up after detection.
  if (detecting && aggregator.format === 'nginx' && traits.dashBytes) aggregator.format = 'apache'
  return aggregator.report(parser.hasForwardedField())
}

/** Formats detection can tell apart from any access log, custom or not. */
const otherThanAccess = new Set<LogFormat>(['iis', 'modsec-native', 'modsec-json', 'apache-error', 'nginx-error'])

interface Run {
  parser: RecordParser
  aggregator: FileAggregator
}

function feedLines(run: Run, lines: string[]): void {
  const { parser, aggregator } = run
  for (const line of lines) {
    aggregator.lines++
    if (line === '') continue
    const result = parser.feed(line)
    if (result === undefined) continue
    if (result === 'skip') aggregator.skipped++
    else aggregator.add(result)
  }
}

/** Reads one log file (`-` for stdin; gzip is recognised by its magic bytes). */
export async function analyseFile(file: string, options: AnalyseOptions = {}): Promise<FileReport> {
  return analyseSource(file, openLogSource(file, options.stdin), options)
}
