import { createClfMinuteParser } from '../time.js'
import { createRecord, type LogRecord, type RecordParser } from '../types.js'
import { firstForwarded, splitRequestLine, tokenOf } from './fields.js'

/** What the access-log parser noticed, for telling nginx from Apache (they share the format). */
export interface AccessLogTraits {
  /** Lines with referer and user-agent fields (combined) rather than common format. */
  combined: boolean
  /** Apache `%b` writes `-` for an empty body where nginx writes `0`. */
  dashBytes: boolean
  /** Quoted fields past the user agent, as nginx configs often add `"$http_x_forwarded_for"`. */
  extraQuoted: boolean
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * Parses one Common/Combined Log Format line: `host ident user [time] "request" status bytes`
 * then optional quoted fields (referer, user agent, and a third one read as X-Forwarded-For).
 * nginx's default `combined` and Apache's `common`/`combined` are all this shape. Pure
 * indexOf scanning, no regex: this runs on every line of big logs.
 */
export function parseAccessLine(line: string, parseMinute: (t: string) => string | null, traits?: AccessLogTraits): LogRecord | null {
  const sp1 = line.indexOf(' ')
  if (sp1 <= 0) return null
  const lb = line.indexOf(' [', sp1)
  if (lb === -1) return null
  const rb = line.indexOf('] "', lb + 2)
  if (rb === -1) return null
  const reqStart = rb + 3
  // The request ends at a quote followed by space and a digit (the status): Apache escapes
  // quotes inside the request as \" and nginx as \x22, so this cannot stop early on real logs.
  let reqEnd = line.indexOf('" ', reqStart)
  while (reqEnd !== -1 && !isDigit(line.charCodeAt(reqEnd + 2))) reqEnd = line.indexOf('" ', reqEnd + 1)
  if (reqEnd === -1) return null
  const statusStart = reqEnd + 2
  if (!(isDigit(line.charCodeAt(statusStart)) && isDigit(line.charCodeAt(statusStart + 1)) && isDigit(line.charCodeAt(statusStart + 2)))) return null
  const afterStatus = line.charCodeAt(statusStart + 3)
  if (!(afterStatus === 32 || Number.isNaN(afterStatus))) return null
  const record = createRecord()
  record.status = (line.charCodeAt(statusStart) - 48) * 100 + (line.charCodeAt(statusStart + 1) - 48) * 10 + (line.charCodeAt(statusStart + 2) - 48)
  // Apache vhost_combined puts "%v:%p" first: four words before the time instead of three.
  const sp2 = line.indexOf(' ', sp1 + 1)
  const sp3 = sp2 === -1 ? -1 : line.indexOf(' ', sp2 + 1)
  record.client = tokenOf(sp3 !== -1 && sp3 < lb ? line.slice(sp1 + 1, sp2) : line.slice(0, sp1))
  record.minute = parseMinute(line.slice(lb + 2, rb))
  const request = splitRequestLine(line.slice(reqStart, reqEnd))
  record.method = request.method
  record.path = request.path
  // Bytes, then quoted fields.
  let pos = statusStart + 4
  if (pos >= line.length) return record
  const bytesEnd = line.indexOf(' ', pos)
  const bytes = bytesEnd === -1 ? line.slice(pos) : line.slice(pos, bytesEnd)
  if (traits && bytes === '-') traits.dashBytes = true
  if (bytesEnd === -1) return record
  pos = bytesEnd + 1
  let field = 0
  while (pos < line.length && line.charCodeAt(pos) === 34 && field < 8) {
    let end = line.indexOf('" "', pos + 1)
    if (end === -1) end = line.endsWith('"') && line.length - 1 > pos ? line.length - 1 : -1
    if (end === -1) break
    // Field 0 referer, 1 user agent, 2 the usual nginx "$http_x_forwarded_for" addition.
    if (field === 2) {
      record.forwardedClient = firstForwarded(line.slice(pos + 1, end))
      if (traits) traits.extraQuoted = true
    }
    field++
    pos = end + 2
  }
  if (traits && field >= 2) traits.combined = true
  return record
}

/** Parser for nginx and Apache access logs in common/combined format. */
export function createAccessLogParser(traits?: AccessLogTraits): RecordParser {
  const parseMinute = createClfMinuteParser()
  let forwarded = false
  return {
    feed(line) {
      const record = parseAccessLine(line, parseMinute, traits)
      if (record === null) return 'skip'
      if (record.forwardedClient !== null) forwarded = true
      return record
    },
    end: () => undefined,
    hasForwardedField: () => forwarded,
  }
}
