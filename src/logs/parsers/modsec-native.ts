import { createClfMinuteParser } from '../time.js'
import { createRecord, type LogRecord, type RecordParser } from '../types.js'
import { firstForwarded, splitRequestLine, tokenOf } from './fields.js'
import { parseModsecAlert, pushRule } from './modsec-message.js'

/**
 * Reads a part boundary: `--6ef24602-A--` (ModSecurity 2) or `---0s7Btvlo---A--`
 * (libmodsecurity 3). Returns the part letter, or null.
 */
export function readBoundary(line: string): string | null {
  if (line.length < 8 || line.length > 40 || !line.startsWith('--') || !line.endsWith('--')) return null
  const letter = line[line.length - 3]
  if (line[line.length - 4] !== '-' || letter < 'A' || letter > 'Z') return null
  const id = line.slice(2, line.length - 4).replace(/^-+|-+$/g, '')
  return /^[A-Za-z0-9]{4,32}$/.test(id) ? letter : null
}

/**
 * ModSecurity audit log, native serial format: one entry per transaction in parts
 * (A header with time and client, B request headers, F response headers, H trailer with the
 * alert messages, Z end). The status comes from part F, or from "Access denied with code"
 * in part H when F was not logged. A zone is in part A's time, so minutes are UTC.
 */
export function createModsecNativeParser(): RecordParser {
  const parseMinute = createClfMinuteParser()
  let entry: LogRecord | null = null
  let part = ''
  let partLine = 0
  let deniedStatus: number | null = null
  let forwarded = false

  function finish(): LogRecord | 'skip' | undefined {
    const done = entry
    entry = null
    part = ''
    if (done === null) return undefined
    if (done.status === null) done.status = deniedStatus
    if (done.rules.length > 0) done.cause = 'modsec'
    deniedStatus = null
    return done
  }

  return {
    feed(line) {
      const letter = readBoundary(line)
      if (letter !== null) {
        let previous: LogRecord | 'skip' | undefined
        if (letter === 'A') {
          previous = entry !== null ? finish() : undefined
          entry = createRecord()
        }
        if (entry === null) return 'skip'
        part = letter
        partLine = 0
        if (letter === 'Z') return finish()
        return previous
      }
      if (entry === null) return line.trim() === '' ? undefined : 'skip'
      partLine++
      if (part === 'A' && partLine === 1) {
        // [02/Aug/2016:09:57:47 +0300] V6BEawUs8J4AACcbno4AAAAE 177.80.183.159 43077 5.44.240.158 80
        const close = line.indexOf('] ')
        if (line[0] === '[' && close !== -1) {
          entry.minute = parseMinute(line.slice(1, close))
          const fields = line.slice(close + 2).split(' ')
          entry.client = tokenOf(fields[1])
        }
      } else if (part === 'B') {
        if (partLine === 1) {
          const request = splitRequestLine(line)
          entry.method = request.method
          entry.path = request.path
        } else if (line.length > 16 && line.slice(0, 16).toLowerCase() === 'x-forwarded-for:') {
          entry.forwardedClient = firstForwarded(line.slice(16))
          forwarded = true
        }
      } else if (part === 'F' && partLine === 1) {
        // HTTP/1.1 403 Forbidden
        const sp = line.indexOf(' ')
        const status = Number(line.slice(sp + 1, sp + 4))
        if (sp !== -1 && Number.isInteger(status) && status >= 100) entry.status = status
      } else if (part === 'H' && line.includes('[id "')) {
        const alert = parseModsecAlert(line)
        pushRule(entry.rules, alert.ruleId)
        if (alert.deniedStatus !== null) deniedStatus = alert.deniedStatus
        if (entry.message === null && alert.msg !== null && !(alert.ruleId ?? '').startsWith('949')) entry.message = alert.msg
        if (entry.path === null && alert.uri !== null) entry.path = alert.uri
      }
      return undefined
    },
    end() {
      // An entry cut off before its Z boundary still says what happened.
      return entry !== null && (entry.status !== null || deniedStatus !== null) ? finish() : entry !== null ? 'skip' : undefined
    },
    hasForwardedField: () => forwarded,
  }
}
