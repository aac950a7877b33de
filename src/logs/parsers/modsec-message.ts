import { maxTokenChars } from './fields.js'

/** Most rule ids kept per record: a request can match dozens of CRS rules. */
export const maxRulesPerRecord = 16

/**
 * Reads a ModSecurity alert tag such as `[id "942100"]` or `[msg "SQL Injection..."]` from a
 * message (the format of ModSecurity's alert messages, in error logs and audit log part H).
 * Returns the first occurrence, bounded.
 */
export function readModsecTag(text: string, name: string, from = 0): string | null {
  const open = `[${name} "`
  const start = text.indexOf(open, from)
  if (start === -1) return null
  const valueStart = start + open.length
  const end = text.indexOf('"]', valueStart)
  if (end === -1) return null
  const value = text.slice(valueStart, end)
  return value.length > 300 ? `${value.slice(0, 300)}…` : value
}

/** The parts of one ModSecurity alert message that say what happened and why. */
export interface ModsecAlert {
  ruleId: string | null
  msg: string | null
  uri: string | null
  uniqueId: string | null
  /** Status from "Access denied with code 403"; null for warnings. */
  deniedStatus: number | null
  /** The `[client 1.2.3.4]` ModSecurity adds in error logs. */
  client: string | null
}

/** Parses one ModSecurity alert (a `Message:` line of part H or a `ModSecurity:` error-log line). */
export function parseModsecAlert(text: string): ModsecAlert {
  let deniedStatus: number | null = null
  const denied = text.indexOf('Access denied with code ')
  if (denied !== -1) {
    const n = Number(text.slice(denied + 24, denied + 27))
    if (Number.isInteger(n) && n >= 100 && n <= 999) deniedStatus = n
  }
  let client: string | null = null
  const clientAt = text.indexOf('[client ')
  if (clientAt !== -1) {
    const end = text.indexOf(']', clientAt + 8)
    if (end !== -1 && end - clientAt < 80) client = text.slice(clientAt + 8, end)
  }
  const ruleId = readModsecTag(text, 'id')
  return {
    ruleId: ruleId === null ? null : ruleId.slice(0, maxTokenChars),
    msg: readModsecTag(text, 'msg'),
    uri: readModsecTag(text, 'uri'),
    uniqueId: readModsecTag(text, 'unique_id'),
    deniedStatus,
    client,
  }
}

/** Adds a rule id to a record's list, once, within the per-record bound. */
export function pushRule(rules: string[], id: string | null): void {
  if (id === null || id === '' || rules.length >= maxRulesPerRecord || rules.includes(id)) return
  rules.push(id)
}

/**
 * Remembers the rule ids (and first message) of ModSecurity warnings per transaction
 * (`unique_id`), so that the "Access denied" line that follows (usually CRS 949110, the
 * anomaly threshold) can be tied to the rules that actually scored. Bounded: only the most
 * recent transactions are kept.
 */
export class WarningMemory {
  private readonly byId = new Map<string, { rules: string[]; msg: string | null }>()

  constructor(private readonly capacity = 512) {}

  remember(uniqueId: string, ruleId: string, msg: string | null): void {
    let entry = this.byId.get(uniqueId)
    if (entry === undefined) {
      if (this.byId.size >= this.capacity) {
        const oldest = this.byId.keys().next().value
        if (oldest !== undefined) this.byId.delete(oldest)
      }
      entry = { rules: [], msg: null }
      this.byId.set(uniqueId, entry)
    }
    pushRule(entry.rules, ruleId)
    if (entry.msg === null) entry.msg = msg
  }

  /** Returns and forgets what was remembered for a transaction. */
  take(uniqueId: string): { rules: string[]; msg: string | null } {
    const entry = this.byId.get(uniqueId) ?? { rules: [], msg: null }
    this.byId.delete(uniqueId)
    return entry
  }
}
