import { createClfMinuteParser, formatUtcMinute, isoToMinute } from '../time.js'
import { createRecord, type RecordParser } from '../types.js'
import { firstForwarded, pathOf, splitRequestLine, tokenOf } from './fields.js'

/** A `log_format` string that cannot be compiled into a parser. */
export class LogFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LogFormatError'
  }
}

type Token = { literal: string } | { variable: string }

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95
}

/** Splits an nginx `log_format` string into literals and `$variable` / `${variable}` names. */
export function tokenizeLogFormat(format: string): Token[] {
  const tokens: Token[] = []
  let literal = ''
  let i = 0
  while (i < format.length) {
    if (format[i] !== '$') {
      literal += format[i]
      i++
      continue
    }
    let name = ''
    if (format[i + 1] === '{') {
      const close = format.indexOf('}', i + 2)
      if (close === -1) throw new LogFormatError(`unclosed \${ at column ${i + 1}`)
      name = format.slice(i + 2, close)
      i = close + 1
    } else {
      let j = i + 1
      while (j < format.length && isNameChar(format.charCodeAt(j))) j++
      name = format.slice(i + 1, j)
      i = j
    }
    if (name === '') {
      literal += '$'
      continue
    }
    if (literal !== '') tokens.push({ literal })
    literal = ''
    const previous = tokens[tokens.length - 1]
    if (previous !== undefined && 'variable' in previous) {
      throw new LogFormatError(`$${previous.variable} and $${name} have nothing between them, so a line cannot be split between them`)
    }
    tokens.push({ variable: name })
  }
  if (literal !== '') tokens.push({ literal })
  if (!tokens.some((t) => 'variable' in t)) throw new LogFormatError('the format has no $variables')
  return tokens
}

/**
 * Compiles an nginx `log_format` into a parser. Each variable's value runs up to the next
 * literal separator (found with indexOf), the last one up to the final literal or the end of
 * the line: linear in the line length, and the user's string never becomes a RegExp.
 * Variables it understands: remote_addr, realip_remote_addr, http_x_forwarded_for,
 * proxy_add_x_forwarded_for, http_x_real_ip, time_local, time_iso8601, msec, request,
 * request_method, request_uri, uri, document_uri, status. Others are read and ignored.
 */
export function compileNginxLogFormat(format: string): RecordParser {
  const tokens = tokenizeLogFormat(format)
  const names = tokens.flatMap((t) => ('variable' in t ? [t.variable] : []))
  const hasForwarded = names.some((n) => n === 'http_x_forwarded_for' || n === 'proxy_add_x_forwarded_for' || n === 'http_x_real_ip')
  const parseMinute = createClfMinuteParser()
  const values = new Map<string, string>()
  const lastLiteral = tokens[tokens.length - 1]
  const trailing = 'literal' in lastLiteral ? lastLiteral.literal : ''

  function split(line: string): boolean {
    values.clear()
    let pos = 0
    const limit = trailing !== '' && line.endsWith(trailing) ? line.length - trailing.length : line.length
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t]
      if ('literal' in token) {
        if (t === tokens.length - 1) return pos === limit && limit !== line.length
        if (!line.startsWith(token.literal, pos)) return false
        pos += token.literal.length
        continue
      }
      const next = tokens[t + 1]
      let end: number
      if (next === undefined || t + 1 === tokens.length - 1) end = next === undefined ? line.length : limit
      else end = line.indexOf((next as { literal: string }).literal, pos)
      if (end === -1 || end < pos) return false
      values.set(token.variable, line.slice(pos, end))
      pos = end
    }
    return pos === line.length
  }

  return {
    feed(line) {
      if (!split(line)) return 'skip'
      const record = createRecord()
      const status = values.get('status')
      if (status !== undefined) {
        const n = Number(status)
        if (!Number.isInteger(n) || n < 100 || n > 999) return 'skip'
        record.status = n
      }
      record.client = tokenOf(values.get('remote_addr') ?? values.get('realip_remote_addr'))
      record.forwardedClient = firstForwarded(values.get('http_x_forwarded_for') ?? values.get('proxy_add_x_forwarded_for') ?? values.get('http_x_real_ip'))
      const timeLocal = values.get('time_local')
      const timeIso = values.get('time_iso8601')
      const msec = values.get('msec')
      if (timeLocal !== undefined) record.minute = parseMinute(timeLocal)
      else if (timeIso !== undefined) record.minute = isoToMinute(timeIso)
      else if (msec !== undefined) record.minute = formatUtcMinute(Number(msec) * 1000)
      const request = values.get('request')
      if (request !== undefined) {
        const parts = splitRequestLine(request)
        record.method = parts.method
        record.path = parts.path
      }
      const method = values.get('request_method')
      if (method !== undefined) record.method = tokenOf(method)
      const uri = values.get('request_uri') ?? values.get('uri') ?? values.get('document_uri')
      if (uri !== undefined) record.path = pathOf(uri)
      return record
    },
    end: () => undefined,
    hasForwardedField: () => hasForwarded,
  }
}

/** nginx's predefined `combined` format. */
export const nginxCombinedFormat = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
