import { parseAccessLine, type AccessLogTraits } from './parsers/access-log.js'
import { parseJsonObject } from './parsers/json-fields.js'
import { readBoundary } from './parsers/modsec-native.js'
import { createClfMinuteParser } from './time.js'
import type { LogFormat } from './types.js'

/** How many non-empty lines detection looks at. */
export const detectionLines = 50

const dayNames = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']

function isApacheErrorLine(line: string): boolean {
  return line.length > 26 && line[0] === '[' && dayNames.includes(line.slice(1, 4)) && line[4] === ' ' && line.indexOf('] ') > 20
}

function isNginxErrorLine(line: string): boolean {
  return line.length > 22 && line[4] === '/' && line[7] === '/' && line[10] === ' ' && line[13] === ':' && line[19] === ' ' && line[20] === '['
}

/** A detection verdict: the format, or why none fits. */
export type Detection = { format: LogFormat } | { format: null; reason: string }

/**
 * Recognises a log format from its first non-empty lines. Most formats have an unmistakable
 * first line; access logs are tried last. nginx `combined` and Apache `combined` are the same
 * format, so the label uses the clues that differ: Apache's common format (no referer/agent),
 * or `-` for an empty body (Apache `%b`; nginx writes `0`), mean Apache; otherwise nginx.
 */
export function detectFormat(lines: string[]): Detection {
  const sample = lines.filter((l) => l.trim() !== '').slice(0, detectionLines)
  if (sample.length === 0) return { format: null, reason: 'it is empty' }
  const first = sample[0]
  if (sample.some((l) => l.startsWith('#Fields:') || l.startsWith('#Software: Microsoft'))) return { format: 'iis' }
  if (sample.some((l) => readBoundary(l) === 'A')) return { format: 'modsec-native' }
  if (first.startsWith('{')) {
    const objects = sample.slice(0, 10).map(parseJsonObject).filter((o) => o !== null)
    if (objects.some((o) => typeof o.transaction === 'object' && o.transaction !== null)) return { format: 'modsec-json' }
    if (objects.some((o) => 'status' in o && ('path' in o || 'requestId' in o || 'layer' in o))) return { format: 'gatehouse' }
    return { format: null, reason: 'its JSON lines are neither ModSecurity audit entries ("transaction") nor Gatehouse calls ("status", "path")' }
  }
  const errorVotes = sample.filter(isApacheErrorLine).length
  if (errorVotes * 2 >= sample.length) return { format: 'apache-error' }
  if (sample.filter(isNginxErrorLine).length * 2 >= sample.length) return { format: 'nginx-error' }
  const traits: AccessLogTraits = { combined: false, dashBytes: false, extraQuoted: false }
  const parseMinute = createClfMinuteParser()
  const parsed = sample.filter((l) => parseAccessLine(l, parseMinute, traits) !== null).length
  if (parsed * 2 >= sample.length) {
    if (!traits.combined || traits.dashBytes) return { format: 'apache' }
    return { format: 'nginx' }
  }
  const shown = first.length > 80 ? `${first.slice(0, 80)}…` : first
  return { format: null, reason: `no known format matches its first lines (first line: ${JSON.stringify(shown)}); pass --format, or --log-format for a custom nginx log_format` }
}
