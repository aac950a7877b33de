import { formatUtcMinute, isoToMinute } from '../time.js'
import { createRecord, type RecordParser } from '../types.js'
import { firstForwarded, pathOf, tokenOf } from './fields.js'
import { isObject, numberAt, parseJsonObject, stringAt } from './json-fields.js'

/**
 * Gatehouse's own JSON-lines call log: `{time, requestId, route, method, path, status, layer,
 * rule, clientIp, ...}`. Extra fields are ignored; `time` may be epoch milliseconds or ISO
 * text; lines without `status` (startup messages and the like) are not requests and not errors.
 */
export function createGatehouseParser(): RecordParser {
  let forwarded = false
  return {
    feed(line) {
      if (line.trim() === '') return undefined
      const root = parseJsonObject(line)
      if (root === null) return 'skip'
      // Tolerate a call nested under a key, as a structured logger may write it.
      const call = isObject(root.call) ? root.call : root
      const status = numberAt(call, 'status')
      if (status === null) return undefined
      if (!Number.isInteger(status) || status < 100 || status > 999) return 'skip'
      const record = createRecord()
      record.status = status
      const time = call.time ?? root.time
      if (typeof time === 'number') record.minute = formatUtcMinute(time)
      else if (typeof time === 'string') record.minute = isoToMinute(time)
      record.method = tokenOf(stringAt(call, 'method'))
      const path = stringAt(call, 'path')
      if (path !== null) record.path = pathOf(path)
      record.client = tokenOf(stringAt(call, 'clientIp') ?? stringAt(call, 'client_ip') ?? stringAt(call, 'ip'))
      const xff = stringAt(call, 'forwardedFor') ?? stringAt(call, 'xForwardedFor')
      if (xff !== null) {
        record.forwardedClient = firstForwarded(xff)
        forwarded = true
      }
      const layer = tokenOf(stringAt(call, 'layer') ?? stringAt(call, 'decision'))
      const rule = tokenOf(stringAt(call, 'rule'))
      if (rule !== null) record.rules.push(layer !== null && !rule.startsWith(`${layer}.`) ? `${layer}.${rule}` : rule)
      if (status >= 400 && layer !== null && layer !== 'allow') record.cause = `gatehouse:${layer}`
      return record
    },
    end: () => undefined,
    hasForwardedField: () => forwarded,
  }
}
