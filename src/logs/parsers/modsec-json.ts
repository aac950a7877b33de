import { createClfMinuteParser, ctimeToMinute } from '../time.js'
import { createRecord, type LogRecord, type RecordParser } from '../types.js'
import { firstForwarded, pathOf, splitRequestLine, tokenOf } from './fields.js'
import { headerAt, isObject, numberAt, objectAt, parseJsonObject, stringAt } from './json-fields.js'
import { parseModsecAlert, pushRule } from './modsec-message.js'

function readV3(transaction: Record<string, unknown>, record: LogRecord): void {
  // libmodsecurity 3: {"transaction":{"client_ip","time_stamp","request":{...},"response":{"http_code"},"messages":[...]}}
  record.client = tokenOf(stringAt(transaction, 'client_ip'))
  const stamp = stringAt(transaction, 'time_stamp')
  // time_stamp is ctime-style local time without a zone.
  if (stamp !== null) record.minute = ctimeToMinute(stamp)
  const request = objectAt(transaction, 'request')
  // Early libmodsecurity 3 builds wrote the method under "protocol".
  record.method = tokenOf(stringAt(request, 'method') ?? stringAt(request, 'protocol'))
  const uri = stringAt(request, 'uri')
  if (uri !== null) record.path = pathOf(uri)
  record.forwardedClient = firstForwarded(headerAt(objectAt(request, 'headers'), 'x-forwarded-for'))
  record.status = numberAt(objectAt(transaction, 'response'), 'http_code')
  const messages = transaction.messages
  if (Array.isArray(messages)) {
    for (const message of messages.slice(0, 64)) {
      if (!isObject(message)) continue
      const details = objectAt(message, 'details')
      const ruleId = stringAt(details, 'ruleId')
      pushRule(record.rules, ruleId)
      const text = stringAt(message, 'message')
      if (record.message === null && text !== null && text !== '' && !(ruleId ?? '').startsWith('949')) record.message = text.slice(0, 300)
    }
  }
}

function readV2(root: Record<string, unknown>, transaction: Record<string, unknown>, record: LogRecord, parseMinute: (t: string) => string | null): void {
  // ModSecurity 2.9 JSON: {"transaction":{"time","remote_address"},"request":{"request_line","headers"},"response":{"status"},"audit_data":{"messages":[...]}}
  record.client = tokenOf(stringAt(transaction, 'remote_address'))
  const time = stringAt(transaction, 'time')
  if (time !== null) record.minute = parseMinute(time)
  const request = objectAt(root, 'request')
  const line = stringAt(request, 'request_line')
  if (line !== null) {
    const parts = splitRequestLine(line)
    record.method = parts.method
    record.path = parts.path
  }
  record.forwardedClient = firstForwarded(headerAt(objectAt(request, 'headers'), 'x-forwarded-for'))
  record.status = numberAt(objectAt(root, 'response'), 'status')
  const messages = objectAt(root, 'audit_data')?.messages
  let denied: number | null = null
  if (Array.isArray(messages)) {
    for (const text of messages.slice(0, 64)) {
      if (typeof text !== 'string') continue
      const alert = parseModsecAlert(text)
      pushRule(record.rules, alert.ruleId)
      if (alert.deniedStatus !== null) denied = alert.deniedStatus
      if (record.message === null && alert.msg !== null && !(alert.ruleId ?? '').startsWith('949')) record.message = alert.msg
    }
  }
  if (record.status === null) record.status = denied
}

/**
 * ModSecurity audit log in JSON, one entry per line: libmodsecurity 3's
 * `{"transaction":{...,"messages":[{"message","details":{"ruleId"}}]}}` and ModSecurity 2.9's
 * `{"transaction":{...},"request":{...},"response":{...},"audit_data":{...}}`.
 */
export function createModsecJsonParser(): RecordParser {
  const parseMinute = createClfMinuteParser()
  let forwarded = false
  return {
    feed(line) {
      if (line.trim() === '') return undefined
      const root = parseJsonObject(line)
      const transaction = objectAt(root, 'transaction')
      if (root === null || transaction === null) return 'skip'
      const record = createRecord()
      if ('client_ip' in transaction || 'time_stamp' in transaction || 'messages' in transaction) readV3(transaction, record)
      else readV2(root, transaction, record, parseMinute)
      if (record.forwardedClient !== null) forwarded = true
      if (record.rules.length > 0) record.cause = 'modsec'
      return record
    },
    end: () => undefined,
    hasForwardedField: () => forwarded,
  }
}
