import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { parseCommandArgs, UsageError } from '../args.js'
import { exitCodes, type Command, type Io } from '../io.js'
import { describeProbeOutcome, isDenialStatus, type Finding, type ProbeRecord } from '../../doctor/compare.js'
import {
  getHeader, isCurlValueOption, maxInputBytes, parseCurlArgs, parseCurlCommand, redactBody, redactHeaderValue, redactUrl,
  renderCurl, type HeaderList, type ParsedCurl, type ReadFile, type RequestSpec,
} from '../../doctor/curl.js'
import { findHarContext, maxHarBytes, parseHar, selectDeniedEntries } from '../../doctor/har.js'
import { defaultMaxProbes, defaultTimeoutMs, hardProbeCap, readProxySettings, runProbe, toExchange } from '../../doctor/probe.js'
import type { Diagnosis, Exchange } from '../../doctor/types.js'

// The doctor's own flags; everything else on the line belongs to curl.
const doctorOptions = {
  json: { type: 'boolean' },
  'no-probe': { type: 'boolean' },
  timeout: { type: 'string' },
  'max-probes': { type: 'string' },
  'from-curl': { type: 'string' },
  har: { type: 'string' },
  replay: { type: 'string' },
} as const
const doctorBooleans = new Set(['--json', '--no-probe'])
const doctorValues = new Set(['--timeout', '--max-probes', '--from-curl', '--har', '--replay'])

/** Separates the doctor's flags from the curl-style arguments, respecting curl options that take a value. */
function splitArgs(args: string[]): { doctor: string[]; curl: string[] } {
  const doctor: string[] = []
  const curl: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const name = arg.startsWith('--') && arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg
    if (doctorBooleans.has(arg) || (doctorValues.has(name) && name !== arg)) doctor.push(arg)
    else if (doctorValues.has(arg)) {
      doctor.push(arg)
      if (i + 1 < args.length) doctor.push(args[++i])
    } else if (isCurlValueOption(arg)) {
      curl.push(arg)
      if (i + 1 < args.length) curl.push(args[++i])
    } else curl.push(arg)
  }
  return { doctor, curl }
}

function parsePositiveInt(value: string, flag: string, max: number): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}, got '${value}'`)
  return Number(value)
}

function readInputFile(io: Io, path: string, maxBytes: number): string {
  const full = resolve(io.cwd, path)
  let size: number
  try {
    size = statSync(full).size
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (size > maxBytes) throw new UsageError(`${path} is larger than ${maxBytes} bytes`)
  try {
    return readFileSync(full, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

const headerRecord = z.record(z.string(), z.string())
const replaySchema = z.object({
  request: z.object({
    method: z.string().min(1),
    url: z.string().min(1),
    headers: headerRecord.default({}),
    body: z.string().optional(),
  }),
  response: z.object({
    status: z.number().int().min(100).max(599),
    headers: headerRecord.default({}),
    body: z.string().optional(),
  }),
})

function lowercaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
}

function parseReplay(text: string, path: string): Exchange {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  const parsed = replaySchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new UsageError(`${path} is not an exchange (SPEC §4): ${problems}`)
  }
  const { request, response } = parsed.data
  return {
    request: { method: request.method.toUpperCase(), url: request.url, headers: lowercaseKeys(request.headers), ...(request.body !== undefined ? { body: request.body } : {}) },
    response: { status: response.status, headers: lowercaseKeys(response.headers), ...(response.body !== undefined ? { body: response.body } : {}) },
  }
}

// Headers the client computes or that only describe the connection; they do not belong in a reproduction.
const unreproducibleHeaders = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'expect'])

/** A recorded exchange's request as a curl-able request. */
function requestFromExchange(exchange: Exchange): RequestSpec {
  const headers: HeaderList = []
  let compressed = false
  for (const [name, value] of Object.entries(exchange.request.headers)) {
    if (name.startsWith(':') || unreproducibleHeaders.has(name)) continue
    if (name === 'accept-encoding') { compressed = true; continue }
    headers.push([name, value])
  }
  return { method: exchange.request.method, url: exchange.request.url, headers, body: exchange.request.body, insecure: false, compressed }
}

function redactRecord(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, redactHeaderValue(k, v)]))
}

/** The exchange as printed: credentials, cookies and secret body fields redacted. */
function redactExchange(exchange: Exchange): Exchange {
  const body = exchange.request.body
  return {
    request: {
      ...exchange.request,
      url: redactUrl(exchange.request.url),
      headers: redactRecord(exchange.request.headers),
      ...(body !== undefined ? { body: redactBody(body, exchange.request.headers['content-type']) } : {}),
    },
    response: { ...exchange.response, headers: redactRecord(exchange.response.headers) },
  }
}

// Response headers worth showing per probe: who answered, why, and what to do next.
const keyResponseHeaders = new Set([
  'server', 'content-type', 'content-length', 'location', 'www-authenticate', 'proxy-authenticate', 'retry-after', 'allow',
  'via', 'x-powered-by', 'x-request-id', 'x-cache', 'cf-ray', 'cf-mitigated', 'x-amzn-requestid', 'x-amzn-errortype',
  'x-amz-cf-id', 'x-amz-cf-pop', 'x-iinfo', 'x-cdn', 'akamai-grn', 'x-akamai-request-id', 'x-azure-ref', 'x-ms-request-id',
  'gatehouse-decision', 'set-cookie', 'ratelimit', 'ratelimit-policy', 'x-ratelimit-limit', 'x-ratelimit-remaining',
  'x-ratelimit-reset', 'x-frame-options', 'x-envoy-upstream-service-time', 'x-kong-response-latency', 'x-sucuri-id',
  'x-served-by', 'x-fastly-request-id', 'x-github-request-id',
])

function pickResponseHeaders(headers: Record<string, string>): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (keyResponseHeaders.has(name) || name.startsWith('access-control-') || name.startsWith('x-kong-')) picked[name] = redactHeaderValue(name, value)
  }
  return picked
}

/** A probe as it appears in `--json` (SPEC §4 `probes`). */
interface ProbeJson {
  variation: string
  description: string
  /** `body` is redacted and cut at 4 KB: the full original body is in `exchange`. */
  request: { method: string; url: string; headers: Record<string, string>; body?: string }
  status: number | null
  /** Key response headers only (who answered, why, what next). */
  responseHeaders: Record<string, string>
  elapsedMs: number
  error: { kind: string; code?: string; message: string } | null
}

function toProbeJson(record: ProbeRecord): ProbeJson {
  const headers: Record<string, string> = {}
  for (const [name, value] of record.request.headers) {
    const key = name.toLowerCase()
    const shown = redactHeaderValue(name, value)
    headers[key] = headers[key] === undefined ? shown : `${headers[key]}, ${shown}`
  }
  return {
    variation: record.variation,
    description: record.description,
    request: {
      method: record.request.method,
      url: redactUrl(record.request.url),
      headers,
      ...(record.request.body !== undefined ? { body: redactBody(record.request.body, getHeader(record.request.headers, 'content-type')).slice(0, 4096) } : {}),
    },
    status: record.response?.status ?? null,
    responseHeaders: record.response ? pickResponseHeaders(record.response.headers) : {},
    elapsedMs: record.elapsedMs,
    error: record.error ?? null,
  }
}

function paint(io: Io, code: string, text: string): string {
  return io.color ? `\u001b[${code}m${text}\u001b[0m` : text
}

function paintStatus(io: Io, status: number | null, text: string): string {
  if (status === null) return paint(io, '33', text)
  return paint(io, isDenialStatus(status) ? '31' : status < 400 ? '32' : '33', text)
}

function renderProbeTable(io: Io, records: ProbeRecord[], findings: Finding[]): string {
  const width = Math.max(...records.map((r) => r.variation.length))
  const lines = records.map((record) => {
    const status = record.response?.status ?? null
    const outcome = describeProbeOutcome(record)
    const shown = status === null ? 'ERR' : String(status)
    const conclusion = findings.filter((f) => f.probe === record.variation).map((f) => f.conclusion).join(' ')
    return `  ${record.variation.padEnd(width)}  ${paintStatus(io, status, shown.padStart(3))}  ${String(record.elapsedMs).padStart(5)} ms  ${status === null ? outcome : conclusion}`
  })
  return `probes:\n${lines.join('\n')}\n`
}

interface Classifier {
  classify(exchange: Exchange): Diagnosis[]
  renderDiagnoses(diagnoses: Diagnosis[], options: { color: boolean }): string
}

// Loaded on first use so `gatehouse` starts (and other commands run) without the fingerprint base.
async function loadClassifier(): Promise<Classifier> {
  const [{ classify }, { renderDiagnoses }] = await Promise.all([import('../../doctor/classify.js'), import('../../doctor/render.js')])
  return { classify, renderDiagnoses }
}

async function diagnoseOffline(exchange: Exchange): Promise<Diagnosis[]> {
  return isDenialStatus(exchange.response.status) ? (await loadClassifier()).classify(exchange) : []
}

async function printDiagnoses(io: Io, diagnoses: Diagnosis[]): Promise<void> {
  if (!diagnoses.length) return
  const { renderDiagnoses } = await loadClassifier()
  io.stdout(`\n${renderDiagnoses(diagnoses, { color: io.color }).trimEnd()}\n`)
}

async function runReplay(io: Io, path: string, json: boolean): Promise<number> {
  const exchange = parseReplay(readInputFile(io, path, maxInputBytes * 2), path)
  const diagnoses = await diagnoseOffline(exchange)
  const reproduce = renderCurl(requestFromExchange(exchange))
  if (json) {
    io.stdout(`${JSON.stringify({ diagnoses, exchange: redactExchange(exchange), probes: [], findings: [], reproduce }, null, 2)}\n`)
  } else {
    const status = exchange.response.status
    io.stdout(`${exchange.request.method} ${redactUrl(exchange.request.url)} → ${paintStatus(io, status, String(status))} (recorded)\n`)
    await printDiagnoses(io, diagnoses)
    io.stdout(`reproduce: ${reproduce}\n`)
  }
  return isDenialStatus(exchange.response.status) ? exitCodes.problems : exitCodes.ok
}

async function runHar(io: Io, path: string, json: boolean): Promise<number> {
  const log = parseHar(readInputFile(io, path, maxHarBytes))
  const denied = selectDeniedEntries(log)
  const { classify } = denied.length ? await loadClassifier() : { classify: () => [] }
  const results = denied.map((entry) => ({
    entry: entry.index,
    startedDateTime: entry.startedDateTime ?? null,
    diagnoses: classify(entry.exchange),
    context: findHarContext(log, entry),
    exchange: redactExchange(entry.exchange),
    reproduce: renderCurl(requestFromExchange(entry.exchange)),
  }))
  // Browsers record status 0 for requests that got no response: CORS-blocked, cancelled or offline.
  const unanswered = log.entries.filter((e) => e.exchange.response.status === 0).length
  if (json) {
    io.stdout(`${JSON.stringify({ file: path, entries: log.entries.length, unanswered, denials: results }, null, 2)}\n`)
  } else {
    io.stdout(`${path}: ${log.entries.length} entries, ${results.length} denied (401/403/419/429)\n`)
    if (unanswered) io.stdout(`${unanswered} without a response (status 0): blocked by CORS, cancelled or offline; the browser console says which\n`)
    // A polling page repeats the same denial dozens of times; show each distinct one once.
    const groups = new Map<string, typeof results>()
    for (const result of results) {
      const { request, response } = result.exchange
      const top = result.diagnoses[0]
      const key = `${request.method} ${request.url} ${response.status} ${top?.producer ?? ''} ${top?.cause ?? ''}`
      groups.set(key, [...(groups.get(key) ?? []), result])
    }
    for (const [first, ...rest] of groups.values()) {
      const { request, response } = first.exchange
      const more = rest.length ? ` (and ${rest.length} more like it: ${rest.slice(0, 10).map((r) => `#${r.entry}`).join(' ')}${rest.length > 10 ? ' ...' : ''})` : ''
      io.stdout(`\n#${first.entry} ${request.method} ${request.url} → ${paintStatus(io, response.status, String(response.status))}${first.startedDateTime ? ` at ${first.startedDateTime}` : ''}${more}\n`)
      await printDiagnoses(io, first.diagnoses)
      for (const item of first.context) io.stdout(`context: ${item.conclusion}\n`)
      io.stdout(`reproduce: ${first.reproduce}\n`)
    }
  }
  return results.length ? exitCodes.problems : exitCodes.ok
}

/** `gatehouse doctor`: probes a live endpoint, or reads a recorded exchange or HAR, and says who denied it and why. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Find out why any server answers 401/403/429: probe it live, or read a recorded exchange or HAR',
  usage: 'gatehouse doctor [curl-style args: -X M URL -H h -d body -b c -u u:p -k] | --from-curl "curl ..."|@file | --har file.har | --replay case.json [--timeout ms] [--max-probes n] [--no-probe] [--json]',
  examples: [
    "gatehouse doctor -X POST https://api.example.com/v1/orders -H 'Content-Type: application/json' -d '{\"id\":1}'",
    'gatehouse doctor --from-curl "$(pbpaste)"',
    'gatehouse doctor --from-curl @copied-request.sh',
    'gatehouse doctor --har session.har',
    'gatehouse doctor --replay case.json --json',
    'gatehouse doctor https://example.com/admin --no-probe',
  ],
  async run(args, io) {
    const split = splitArgs(args)
    const { values, positionals } = parseCommandArgs(split.doctor, doctorOptions, false)
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`)
    const json = values.json ?? false
    const sources = [split.curl.length ? 'curl arguments' : '', values['from-curl'] !== undefined ? '--from-curl' : '', values.har ? '--har' : '', values.replay ? '--replay' : ''].filter(Boolean)
    if (sources.length === 0) throw new UsageError('give a request (curl-style arguments), --from-curl, --har or --replay')
    if (sources.length > 1) throw new UsageError(`use one input at a time, got ${sources.join(' and ')}`)

    if (values.replay) return runReplay(io, values.replay, json)
    if (values.har) return runHar(io, values.har, json)

    const readFile: ReadFile = (path) => readInputFile(io, path, maxInputBytes)
    const fromCurl = values['from-curl']
    // `--from-curl @request.sh` reads the command from a file, for shells where pasting a multi-line command is awkward.
    const curlLine = fromCurl?.startsWith('@') ? readInputFile(io, fromCurl.slice(1), maxInputBytes) : fromCurl
    const parsed: ParsedCurl = curlLine !== undefined ? parseCurlCommand(curlLine, readFile) : parseCurlArgs(split.curl, readFile)
    for (const warning of parsed.warnings) io.stderr(`gatehouse doctor: note: ${warning}\n`)
    const timeoutMs = values.timeout !== undefined ? parsePositiveInt(values.timeout, '--timeout', 600_000) : parsed.maxTimeMs ?? defaultTimeoutMs
    let maxProbes = values['max-probes'] !== undefined ? parsePositiveInt(values['max-probes'], '--max-probes', 1000) : defaultMaxProbes
    if (maxProbes > hardProbeCap) {
      io.stderr(`gatehouse doctor: note: --max-probes capped at ${hardProbeCap}\n`)
      maxProbes = hardProbeCap
    }

    const report = await runProbe(parsed.request, { timeoutMs, maxProbes, variations: !values['no-probe'], proxy: readProxySettings(io.env) })
    const original = report.records[0]
    const exchange = toExchange(original)
    const request = parsed.request
    const line = `${request.method} ${redactUrl(request.url)}`

    if (!exchange) {
      const error = original.error ?? { kind: 'other' as const, message: 'no answer' }
      if (json) {
        io.stdout(`${JSON.stringify({ error, diagnoses: [], exchange: null, probes: report.records.map(toProbeJson), findings: [], reproduce: report.reproduce }, null, 2)}\n`)
      } else {
        io.stdout(`${line} → ${paint(io, '33', 'no answer')} after ${original.elapsedMs} ms\n`)
      }
      io.stderr(`gatehouse doctor: ${error.message}\n`)
      return exitCodes.problems
    }

    const diagnoses = await diagnoseOffline(exchange)
    if (json) {
      io.stdout(`${JSON.stringify({
        diagnoses,
        exchange: redactExchange(exchange),
        probes: report.records.map(toProbeJson),
        findings: report.findings,
        reproduce: report.reproduce,
      }, null, 2)}\n`)
    } else {
      const status = exchange.response.status
      io.stdout(`${line} → ${paintStatus(io, status, String(status))} in ${original.elapsedMs} ms\n`)
      await printDiagnoses(io, diagnoses)
      io.stdout(`\n${renderProbeTable(io, report.records, report.findings)}`)
      if (isDenialStatus(status)) io.stdout(`reproduce: ${report.reproduce}\n`)
    }
    return isDenialStatus(exchange.response.status) ? exitCodes.problems : exitCodes.ok
  },
}
