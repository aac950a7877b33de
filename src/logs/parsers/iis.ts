import { iisToMinute } from '../time.js'
import { createRecord, type RecordParser } from '../types.js'
import { firstForwarded, pathOf, tokenOf } from './fields.js'

/** The fields IIS 8.5+ logs by default, used when a file lost its `#Fields:` header. */
const defaultFields = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken'.split(' ')

interface FieldIndex {
  count: number
  date: number
  time: number
  method: number
  stem: number
  client: number
  status: number
  substatus: number
  win32: number
  forwarded: number
}

function indexFields(names: string[]): FieldIndex {
  const lower = names.map((n) => n.toLowerCase())
  const find = (...candidates: string[]) => {
    for (const c of candidates) {
      const i = lower.indexOf(c)
      if (i !== -1) return i
    }
    return -1
  }
  return {
    count: names.length,
    date: find('date'),
    time: find('time'),
    method: find('cs-method'),
    stem: find('cs-uri-stem'),
    client: find('c-ip'),
    status: find('sc-status'),
    substatus: find('sc-substatus'),
    win32: find('sc-win32-status'),
    // IIS 8.5+ custom fields appear under the name given in the config, often X-Forwarded-For.
    forwarded: find('x-forwarded-for', 'cs(x-forwarded-for)', 'x_forwarded_for', 'xff'),
  }
}

/**
 * IIS W3C extended logs: space-separated fields named by the latest `#Fields:` directive
 * (which can change mid-file, e.g. after a config change or at a restart). Times are UTC.
 */
export function createIisParser(): RecordParser {
  let index: FieldIndex | null = null
  let forwarded = false
  return {
    feed(line) {
      if (line.charCodeAt(0) === 35) {
        if (line.startsWith('#Fields:')) {
          index = indexFields(line.slice(8).trim().split(' ').filter((f) => f !== ''))
          if (index.forwarded !== -1) forwarded = true
        }
        return undefined
      }
      const parts = line.split(' ')
      if (index === null) {
        if (parts.length !== defaultFields.length) return 'skip'
        index = indexFields(defaultFields)
      }
      const fields = index
      if (parts.length !== fields.count || fields.status === -1) return 'skip'
      const status = Number(parts[fields.status])
      if (!Number.isInteger(status) || status < 100 || status > 999) return 'skip'
      const record = createRecord()
      record.status = status
      if (fields.date !== -1 && fields.time !== -1) record.minute = iisToMinute(parts[fields.date], parts[fields.time])
      if (fields.method !== -1) record.method = tokenOf(parts[fields.method])
      if (fields.stem !== -1) record.path = pathOf(parts[fields.stem])
      if (fields.client !== -1) record.client = tokenOf(parts[fields.client])
      if (fields.forwarded !== -1) record.forwardedClient = firstForwarded(parts[fields.forwarded])
      if (fields.substatus !== -1) {
        const sub = parts[fields.substatus]
        if (/^[0-9]{1,4}$/.test(sub)) record.substatus = `${status}.${sub}`
      }
      if (fields.win32 !== -1) {
        const win32 = parts[fields.win32]
        if (win32 !== '0' && /^[0-9]{1,10}$/.test(win32)) record.win32Status = win32
      }
      if (record.substatus !== null && status >= 400) record.cause = `iis:${record.substatus}`
      return record
    },
    end: () => undefined,
    hasForwardedField: () => forwarded,
  }
}
