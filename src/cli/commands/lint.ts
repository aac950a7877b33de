import { parseCommandArgs, UsageError } from '../args.js'
import { exitCodes, type Command } from '../io.js'
import { isIpLiteral } from '../../lint/ip-match.js'
import { LintInputError, lintConfig } from '../../lint/lint.js'
import { renderLintText, toLintJson } from '../../lint/render.js'
import { createLintRequest } from '../../lint/request.js'
import type { ConfigFormat, LintReport, LintRequest } from '../../lint/types.js'

const formats: ConfigFormat[] = ['nginx', 'apache', 'iis']

function parseHeaders(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const raw of values) {
    const colon = raw.indexOf(':')
    if (colon <= 0) throw new UsageError(`--header expects 'Name: value', got '${raw}'`)
    headers[raw.slice(0, colon).trim().toLowerCase()] = raw.slice(colon + 1).trim()
  }
  return headers
}

/** `gatehouse lint <file>`: which nginx / Apache / IIS directive denies a request. */
export const lintCommand: Command = {
  name: 'lint',
  summary: 'Find the nginx / Apache (.htaccess) / IIS (web.config) directive that denies a request, or list risky rules',
  usage: 'gatehouse lint <file> [--method M] [--path /p | --path https://host/p] [--ip a.b.c.d] [--host h] [--header "Name: value"]... [--scheme http|https] [--format nginx|apache|iis] [--json]',
  examples: [
    'gatehouse lint /etc/nginx/nginx.conf',
    'gatehouse lint nginx.conf --method POST --path /admin/users --ip 10.0.0.5',
    'gatehouse lint public/.htaccess --path /wp-admin/ --ip 198.51.100.7',
    'gatehouse lint web.config --method PUT --path /api/items/1 --json',
  ],
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      method: { type: 'string', short: 'X' },
      path: { type: 'string' },
      ip: { type: 'string' },
      host: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      scheme: { type: 'string' },
      format: { type: 'string' },
      json: { type: 'boolean', default: false },
    })
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'lint takes exactly one file' : 'missing <file>')
    const format = values.format
    if (format !== undefined && format !== 'auto' && !formats.includes(format as ConfigFormat)) {
      throw new UsageError(`--format must be nginx, apache or iis, got '${format}'`)
    }
    if (values.scheme !== undefined && values.scheme !== 'http' && values.scheme !== 'https') {
      throw new UsageError(`--scheme must be http or https, got '${values.scheme}'`)
    }
    let path = values.path
    let host = values.host
    let scheme = values.scheme as 'http' | 'https' | undefined
    // A full URL is accepted too: its host and scheme fill in --host and --scheme.
    if (path !== undefined && /^https?:\/\//i.test(path)) {
      let url: URL
      try {
        url = new URL(path)
      } catch {
        throw new UsageError(`--path is not a valid URL: '${path}'`)
      }
      host ??= url.host
      scheme ??= url.protocol === 'https:' ? 'https' : 'http'
      path = `${url.pathname}${url.search}`
    }
    if (path !== undefined && !path.startsWith('/')) throw new UsageError(`--path must start with '/', got '${path}'`)
    if (values.method !== undefined && !/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(values.method)) throw new UsageError(`--method is not an HTTP method: '${values.method}'`)
    const headers = parseHeaders(values.header ?? [])
    const wantsRequest = values.method !== undefined || values.path !== undefined || values.ip !== undefined
    let request: LintRequest | undefined
    if (wantsRequest) {
      request = createLintRequest({ method: values.method, path, ip: values.ip, host, scheme, headers })
      if (values.ip !== undefined && !isIpLiteral(values.ip)) throw new UsageError(`--ip is not an IP address: '${values.ip}'`)
      if (values.ip === undefined) io.stderr(`gatehouse lint: no --ip given; assuming client ${request.ip} (an outside address)\n`)
    }
    let report: LintReport
    try {
      report = lintConfig(positionals[0], {
        format: format === undefined || format === 'auto' ? undefined : (format as ConfigFormat),
        request,
        cwd: io.cwd,
      })
    } catch (error) {
      if (error instanceof LintInputError) {
        io.stderr(`gatehouse lint: ${error.message}\n`)
        return exitCodes.usage
      }
      throw error
    }
    if (values.json) io.stdout(`${JSON.stringify(toLintJson(report), null, 2)}\n`)
    else io.stdout(renderLintText(report, request, io.color))
    const hasErrors = report.findings.some((f) => f.severity === 'error')
    return report.verdict?.denied || hasErrors ? exitCodes.problems : exitCodes.ok
  },
}
