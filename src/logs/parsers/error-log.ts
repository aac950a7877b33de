import { ctimeToMinute } from '../time.js'
import { createRecord, type LogRecord, type RecordParser } from '../types.js'
import { messageOf, pathOf, splitRequestLine, tokenOf } from './fields.js'
import { parseModsecAlert, pushRule, WarningMemory } from './modsec-message.js'

interface ApacheCode {
  status: number
  /** Where the path sits in the message: after a marker, or in the first double quotes. */
  path?: 'after-colon' | 'quoted' | 'after-access-to'
}

/**
 * Apache httpd error-log codes that mean the request was refused, with the status Apache
 * sends. Authorization failures of an authenticated user are 401 in Apache (it re-prompts).
 */
const apacheDenials: Record<string, ApacheCode> = {
  AH01630: { status: 403, path: 'after-colon' }, // authz_core: Require denied
  AH01797: { status: 403, path: 'after-colon' }, // access_compat: Order/Allow/Deny denied
  AH01631: { status: 401, path: 'quoted' }, // user not authorized (Require user/group)
  AH01617: { status: 401, path: 'quoted' }, // password mismatch
  AH01618: { status: 401, path: 'after-colon' }, // user not found
  AH00035: { status: 403, path: 'after-access-to' }, // search permission missing on a directory
  AH00132: { status: 403, path: 'after-colon' }, // file permissions deny server access
  AH00037: { status: 403, path: 'after-colon' }, // symlink not allowed
  AH01276: { status: 403 }, // directory index forbidden by Options
  AH00529: { status: 403 }, // .htaccess unreadable
}

function readAhCode(message: string): string | null {
  // Codes are "AH" + 5 digits, at the start of the message text.
  const at = message.indexOf('AH')
  if (at === -1 || at > 4) return null
  const code = message.slice(at, at + 7)
  for (let i = 2; i < 7; i++) {
    const c = code.charCodeAt(i)
    if (!(c >= 48 && c <= 57)) return null
  }
  return code
}

function stripReferer(text: string): string {
  const at = text.indexOf(', referer: ')
  return at === -1 ? text : text.slice(0, at)
}

function pathFor(message: string, where: ApacheCode['path']): string | null {
  const text = stripReferer(message)
  if (where === 'after-colon') {
    const at = text.lastIndexOf(': ')
    return at === -1 ? null : pathOf(text.slice(at + 2).trim())
  }
  if (where === 'quoted') {
    const open = text.indexOf('"')
    const close = open === -1 ? -1 : text.indexOf('"', open + 1)
    return close === -1 ? null : pathOf(text.slice(open + 1, close))
  }
  if (where === 'after-access-to') {
    const at = text.indexOf('access to ')
    if (at === -1) return null
    const end = text.indexOf(' ', at + 10)
    return pathOf(end === -1 ? text.slice(at + 10) : text.slice(at + 10, end))
  }
  return null
}

/** Strips the `:port` Apache 2.4 appends to `[client ...]`. */
function stripPort(address: string): string {
  const colon = address.lastIndexOf(':')
  if (colon === -1) return address
  const port = address.slice(colon + 1)
  if (port === '' || port.length > 5 || !/^[0-9]+$/.test(port)) return address
  return address.slice(0, colon)
}

/** Fills a record from a ModSecurity alert; warnings are remembered and return no status. */
function applyModsec(record: LogRecord, message: string, memory: WarningMemory): void {
  const alert = parseModsecAlert(message)
  if (alert.client !== null) record.client = tokenOf(alert.client)
  if (alert.uri !== null) record.path = pathOf(alert.uri)
  if (alert.deniedStatus === null) {
    // A warning: a rule scored but did not decide; keep it for the denial that follows.
    if (alert.uniqueId !== null && alert.ruleId !== null) memory.remember(alert.uniqueId, alert.ruleId, alert.msg)
    pushRule(record.rules, alert.ruleId)
    record.cause = 'modsec:warning'
    record.message = alert.msg
    return
  }
  record.status = alert.deniedStatus
  const earlier = alert.uniqueId === null ? { rules: [], msg: null } : memory.take(alert.uniqueId)
  for (const id of earlier.rules) pushRule(record.rules, id)
  pushRule(record.rules, alert.ruleId)
  // The detecting rule's message says more than the threshold rule's "score exceeded".
  record.message = earlier.msg ?? alert.msg
  record.cause = 'modsec'
}

/**
 * Apache httpd error logs, 2.2 (`[Wed Oct 11 14:32:52 2000] [error] [client 1.2.3.4] ...`) and
 * 2.4 (`[Thu May 12 08:28:57.652118 2011] [authz_core:error] [pid 1:tid 2] [client 1.2.3.4:5] AH01630: ...`).
 * Every well-formed line is a record; denials (AH codes above, "client denied by server
 * configuration", ModSecurity "Access denied") carry a status. Times have no zone: local.
 */
export function createApacheErrorParser(): RecordParser {
  const memory = new WarningMemory()
  return {
    feed(line) {
      if (line.charCodeAt(0) !== 91) return 'skip'
      const close = line.indexOf(']')
      if (close === -1 || close > 48) return 'skip'
      const minute = ctimeToMinute(line.slice(1, close))
      if (minute === null) return 'skip'
      const record = createRecord()
      record.minute = minute
      let pos = close + 1
      let hasPort = false
      // Leading [bracketed] fields: level or module:level, pid, client/remote.
      while (line.charCodeAt(pos) === 32 && line.charCodeAt(pos + 1) === 91) {
        const end = line.indexOf(']', pos + 2)
        if (end === -1) break
        const field = line.slice(pos + 2, end)
        if (field.startsWith('client ') || field.startsWith('remote ')) {
          // The first address is the client; ModSecurity repeats it, and mod_remoteip's
          // "[remote ...]" is the proxy that connected, not the client.
          if (record.client === null) {
            const address = field.slice(7)
            record.client = tokenOf(hasPort ? stripPort(address) : address)
          }
        } else if (field.includes(':') && !field.startsWith('pid ') && !field.includes(' ')) {
          hasPort = true // 2.4 "[module:level]": client fields carry a port
        } else if (field.startsWith('pid ')) {
          hasPort = true
        } else if (field.includes(' ') && !field.startsWith('tid ') && !field.startsWith('cid ')) {
          break // a message that starts with brackets, not a prefix field
        }
        pos = end + 1
      }
      const message = line.slice(pos).trim()
      if (message.includes('ModSecurity: ')) {
        applyModsec(record, message, memory)
        return record
      }
      record.message = messageOf(stripReferer(message))
      const code = readAhCode(message)
      const known = code === null ? undefined : apacheDenials[code]
      if (code !== null && known !== undefined) {
        record.status = known.status
        record.rules.push(code)
        record.cause = `apache:${code}`
        record.path = pathFor(message, known.path)
      } else if (message.startsWith('client denied by server configuration')) {
        // Apache 2.2 wrote this without an AH code.
        record.status = 403
        record.cause = 'apache:client-denied'
        record.path = pathFor(message, 'after-colon')
      } else if (message.startsWith('Directory index forbidden by Options directive') || message.includes('(13)Permission denied')) {
        record.status = 403
        record.cause = message.startsWith('Directory') ? 'apache:AH01276' : 'apache:AH00132'
        record.path = pathFor(message, 'after-colon')
      }
      return record
    },
    end: () => undefined,
    hasForwardedField: () => false,
  }
}

interface NginxDenial {
  marker: string
  status: number | null
  cause: string
}

/** nginx error-log messages that explain a refusal, and the status nginx sends for them. */
const nginxDenials: NginxDenial[] = [
  { marker: 'access forbidden by rule', status: 403, cause: 'nginx:access-forbidden' },
  { marker: 'is forbidden', status: 403, cause: 'nginx:directory-index' },
  { marker: '(13: Permission denied)', status: 403, cause: 'nginx:permission-denied' },
  { marker: 'no user/password was provided for basic authentication', status: 401, cause: 'nginx:basic-auth' },
  { marker: 'password mismatch', status: 401, cause: 'nginx:basic-auth' },
  { marker: 'was not found in', status: 401, cause: 'nginx:basic-auth' },
  // limit_req answers 503 unless limit_req_status says otherwise, so the status stays open.
  { marker: 'limiting requests', status: null, cause: 'nginx:limit-req' },
  { marker: 'limiting connections', status: null, cause: 'nginx:limit-conn' },
]

function readNginxField(message: string, name: string): string | null {
  const marker = `, ${name}: `
  const at = message.indexOf(marker)
  if (at === -1) return null
  const start = at + marker.length
  if (message[start] === '"') {
    const end = message.indexOf('"', start + 1)
    return end === -1 ? null : message.slice(start + 1, end)
  }
  const end = message.indexOf(',', start)
  return end === -1 ? message.slice(start) : message.slice(start, end)
}

/**
 * nginx error logs (`2024/03/19 09:42:10 [error] 1234#1234: *5 access forbidden by rule,
 * client: 1.2.3.4, server: x, request: "GET /admin HTTP/1.1", host: "x"`), including
 * ModSecurity-nginx alerts. Times have no zone: local.
 */
export function createNginxErrorParser(): RecordParser {
  const memory = new WarningMemory()
  return {
    feed(line) {
      // yyyy/mm/dd hh:mm:ss [level]
      if (line.length < 22 || line[4] !== '/' || line[7] !== '/' || line[10] !== ' ' || line[13] !== ':' || line[20] !== '[') return 'skip'
      const close = line.indexOf('] ', 21)
      if (close === -1 || close > 32) return 'skip'
      const minute = `${line.slice(0, 4)}-${line.slice(5, 7)}-${line.slice(8, 10)}T${line.slice(11, 16)}`
      if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$/.test(minute)) return 'skip'
      const record = createRecord()
      record.minute = minute
      const message = line.slice(close + 2)
      record.client = tokenOf(readNginxField(message, 'client'))
      const request = readNginxField(message, 'request')
      if (request !== null) {
        const parts = splitRequestLine(request)
        record.method = parts.method
        record.path = parts.path
      }
      if (message.includes('ModSecurity: ')) {
        const path = record.path
        applyModsec(record, message, memory)
        if (path !== null) record.path = path
        return record
      }
      const fieldsAt = message.indexOf(', client: ')
      record.message = messageOf(fieldsAt === -1 ? message : message.slice(0, fieldsAt))
      for (const denial of nginxDenials) {
        if (message.includes(denial.marker)) {
          record.status = denial.status
          record.cause = denial.cause
          break
        }
      }
      return record
    },
    end: () => undefined,
    hasForwardedField: () => false,
  }
}
