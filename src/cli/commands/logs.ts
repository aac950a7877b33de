import { UsageError, parseCommandArgs } from '../args.js'
import { exitCodes, type Command } from '../io.js'
import { analyseFile, ansiStyle, LogFormatError, LogInputError, logFormats, plainStyle, renderFileReport, type FileReport, type LogFormat } from '../../logs/index.js'
import { tokenizeLogFormat } from '../../logs/parsers/nginx-log-format.js'

const formatNames = ['auto', ...logFormats] as const

function isFormat(value: string): value is LogFormat | 'auto' {
  return (formatNames as readonly string[]).includes(value)
}

/** `gatehouse logs <file>...`: finds who said 403 (and 401/429) in server logs (SPEC §3). */
export const logsCommand: Command = {
  name: 'logs',
  summary: 'Analyse nginx/Apache/IIS/ModSecurity/Gatehouse logs for 403s: top paths, clients, rules, spikes, likely causes',
  usage: `gatehouse logs <file|->... [--format ${formatNames.join('|')}] [--log-format '<nginx log_format>'] [--json]`,
  examples: [
    'gatehouse logs /var/log/nginx/access.log',
    'gatehouse logs access.log.1 access.log.2.gz --json',
    'gatehouse logs /var/log/apache2/error.log /var/log/modsec_audit.log',
    'gatehouse logs u_ex240319.log --format iis',
    `gatehouse logs app.log --log-format '$remote_addr [$time_local] "$request" $status "$http_x_forwarded_for"'`,
    'zcat old.log.gz | gatehouse logs -',
  ],
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      format: { type: 'string', default: 'auto' },
      'log-format': { type: 'string' },
      json: { type: 'boolean', default: false },
    })
    if (positionals.length === 0) throw new UsageError('give at least one log file (or - for stdin)')
    const format = values.format ?? 'auto'
    if (!isFormat(format)) throw new UsageError(`unknown --format '${format}'; use one of ${formatNames.join(', ')}`)
    const logFormat = values['log-format']
    if (logFormat !== undefined) {
      if (format !== 'auto' && format !== 'nginx') throw new UsageError('--log-format describes nginx access logs; use it with --format nginx or auto')
      try {
        tokenizeLogFormat(logFormat)
      } catch (error) {
        if (error instanceof LogFormatError) throw new UsageError(`--log-format: ${error.message}`)
        throw error
      }
    }
    if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be read only once')

    const reports: FileReport[] = []
    let failed = false
    for (const file of positionals) {
      try {
        reports.push(await analyseFile(file, { format, logFormat }))
      } catch (error) {
        if (!(error instanceof LogInputError)) throw error
        failed = true
        io.stderr(`gatehouse logs: ${error.message}\n`)
      }
    }
    if (values.json) {
      io.stdout(`${JSON.stringify({ files: reports }, null, 2)}\n`)
    } else {
      const style = io.color ? ansiStyle : plainStyle
      io.stdout(reports.map((r) => renderFileReport(r, style)).join('\n'))
    }
    for (const report of reports) {
      if (report.format === 'unknown') io.stderr(`gatehouse logs: ${report.file}: empty, nothing to analyse\n`)
    }
    return failed ? exitCodes.usage : exitCodes.ok
  },
}
