import { UsageError, parseCommandArgs } from '../args.js'
import { configOption } from '../config-arg.js'
import type { Command } from '../io.js'
import { exitCodes } from '../io.js'
import { createPalette, describeTrail, formatMs, formatTime, renderTrail, sanitizeText } from '../print.js'
import type { CallRecord } from '../../store/types.js'
import { openCallLog } from './calls.js'

/** The two header lines of `why`: what was asked and what was answered, then ids and timing. */
export function renderCallHeader(record: CallRecord, color: boolean): string {
  const palette = createPalette(color)
  const status = String(record.status)
  const paintedStatus = record.status >= 400 ? palette.bold(palette.red(status)) : palette.green(status)
  const first = [
    formatTime(record.time),
    `${sanitizeText(record.method, 10)} ${sanitizeText(record.path, 120)} → ${paintedStatus}`,
    `route ${sanitizeText(record.route ?? '-', 60)}`,
    `consumer ${sanitizeText(record.consumer ?? '-', 60)}${record.tenant ? ` (tenant ${sanitizeText(record.tenant, 60)})` : ''}`,
    `client ${sanitizeText(record.clientIp, 60)}`,
  ].join('  ')
  const second = [
    `request ${sanitizeText(record.requestId, 64)}`,
    record.traceId ? `trace ${sanitizeText(record.traceId, 64)}` : '',
    `total ${formatMs(record.totalMs)}`,
    record.upstreamStatus !== null ? `upstream ${record.upstreamStatus} in ${formatMs(record.upstreamMs)}` : '',
  ].filter(Boolean).join('  ')
  return `${first}\n${palette.dim(second)}\n`
}

/** `gatehouse why <requestId>`: the stored decision trace of one logged call. */
export const whyCommand: Command = {
  name: 'why',
  summary: 'Show why a logged request was allowed or denied: each layer, the fix, the docs',
  usage: 'gatehouse why <requestId> [-c gatehouse.yaml] [--store sqlite:<path>] [--json]',
  examples: [
    'gatehouse why 01JD3Q7K2M4N8P0R5S6T7V8W9X',
    'gatehouse why 01JD3Q7K   # a unique prefix of 8+ characters is enough',
    'gatehouse why 01JD3Q7K2M4N8P0R5S6T7V8W9X --json',
  ],
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      ...configOption,
      store: { type: 'string' },
      json: { type: 'boolean' },
    })
    if (positionals.length === 0) throw new UsageError('missing the request id (the X-Request-Id of the response, or one from `gatehouse calls`)')
    if (positionals.length > 1) throw new UsageError(`expected one request id, got ${positionals.length}`)
    const requestId = positionals[0].trim()
    if (requestId.length === 0 || requestId.length > 200) throw new UsageError('the request id must be 1 to 200 characters')

    const notFound = (where: string): number => {
      io.stderr(
        `gatehouse why: no call with request id '${sanitizeText(requestId, 80)}' in ${where}` +
          `${requestId.length >= 8 ? ' (a prefix must match exactly one call)' : ' (a prefix needs at least 8 characters)'}.\n` +
          'Run `gatehouse calls` to list recent calls and their request ids.\n',
      )
      return exitCodes.problems
    }

    const access = await openCallLog(values, io, 'why')
    if (access.kind === 'failed') return access.exitCode
    if (access.kind === 'missing') return notFound(`${access.file} (no call log there yet)`)
    let record: CallRecord | null
    try {
      record = await access.store.get(requestId)
    } finally {
      await access.store.close()
    }
    if (!record) return notFound(access.file)

    if (values.json) {
      const { rows, ...explanation } = describeTrail(record)
      io.stdout(`${JSON.stringify({ ...record, explanation: { layers: rows, ...explanation } }, null, 2)}\n`)
      return exitCodes.ok
    }
    io.stdout(`${renderCallHeader(record, io.color)}\n${renderTrail(record, { color: io.color })}`)
    return exitCodes.ok
  },
}
