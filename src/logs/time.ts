const monthIndex: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** Formats epoch milliseconds as a UTC minute key `2024-03-19T08:42Z`. */
export function formatUtcMinute(epochMs: number): string | null {
  if (!Number.isFinite(epochMs)) return null
  const d = new Date(epochMs)
  const year = d.getUTCFullYear()
  if (year < 1970 || year > 9999) return null
  return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}Z`
}

function localMinute(year: number, month: number, day: number, hour: number, minute: number): string | null {
  if (!(month >= 0 && month < 12 && day >= 1 && day <= 31 && hour >= 0 && hour < 24 && minute >= 0 && minute < 60)) return null
  if (!(year >= 1970 && year <= 9999)) return null
  return `${year}-${pad2(month + 1)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}`
}

function digits(s: string, from: number, count: number): number {
  let n = 0
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return Number.NaN
    n = n * 10 + c
  }
  return n
}

/** Parses a zone like `+0100`, `-05:30` or `Z` into minutes east of UTC. */
function parseZone(zone: string): number | null {
  if (zone === 'Z' || zone === 'z') return 0
  const sign = zone[0] === '+' ? 1 : zone[0] === '-' ? -1 : 0
  if (sign === 0) return null
  const body = zone.length === 6 && zone[3] === ':' ? zone.slice(1, 3) + zone.slice(4) : zone.slice(1)
  if (body.length !== 4) return null
  const hours = digits(body, 0, 2)
  const minutes = digits(body, 2, 2)
  if (Number.isNaN(hours) || Number.isNaN(minutes)) return null
  return sign * (hours * 60 + minutes)
}

function utcMinuteFromParts(year: number, month: number, day: number, hour: number, minute: number, offsetMinutes: number): string | null {
  if (localMinute(year, month, day, hour, minute) === null) return null
  return formatUtcMinute(Date.UTC(year, month, day, hour, minute) - offsetMinutes * 60_000)
}

/**
 * Converts Common Log Format time (`19/Mar/2024:09:42:10 +0100`, as nginx `$time_local` and
 * Apache `%t` write it) to a minute key, in UTC because the zone is there. Consecutive lines
 * share a minute, so the last answer is cached: this is on the hot path of every access log.
 */
export function createClfMinuteParser(): (text: string) => string | null {
  let lastText = ''
  let lastValue: string | null = null
  return (text) => {
    // dd/Mon/yyyy:hh:mm:ss zone
    if (text.length < 26 || text.charCodeAt(2) !== 47 || text.charCodeAt(6) !== 47 || text.charCodeAt(11) !== 58) return null
    if (isSameMinute(text, lastText)) return lastValue
    // The zone is the last word; seconds may carry a fraction (ModSecurity writes some).
    const zone = text.slice(text.lastIndexOf(' ') + 1)
    const month = monthIndex[text.slice(3, 6)]
    const offset = parseZone(zone)
    const value = month === undefined || offset === null
      ? null
      : utcMinuteFromParts(digits(text, 7, 4), month, digits(text, 0, 2), digits(text, 12, 2), digits(text, 15, 2), offset)
    lastText = text
    lastValue = value
    return value
  }
}

/** Same day, hour, minute and zone (seconds may differ): compared in place, no allocation. */
function isSameMinute(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < 17; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false
  const zoneAt = a.lastIndexOf(' ')
  if (zoneAt !== b.lastIndexOf(' ')) return false
  for (let i = zoneAt; i < a.length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false
  return true
}

/**
 * Converts an ISO 8601 time (`2024-03-19T09:42:10+01:00`, `2024-03-19 09:42:10`) to a minute
 * key: UTC with `Z` when the text has a zone, local without `Z` when it has none.
 */
export function isoToMinute(text: string): string | null {
  if (text.length < 16 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return null
  const sep = text[10]
  if (sep !== 'T' && sep !== ' ' && sep !== 't') return null
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 2) - 1
  const day = digits(text, 8, 2)
  const hour = digits(text, 11, 2)
  const minute = digits(text, 14, 2)
  // Skip seconds and fractions to find a zone.
  let i = 16
  while (i < text.length && ((text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) || text[i] === ':' || text[i] === '.' || text[i] === ',')) i++
  const zone = text.slice(i).trim()
  if (zone === '') return localMinute(year, month, day, hour, minute)
  const offset = parseZone(zone)
  if (offset === null) return null
  return utcMinuteFromParts(year, month, day, hour, minute, offset)
}

/**
 * Converts a ctime-style time without zone (`Wed Oct 11 14:32:52 2000`,
 * `Thu May 12 08:28:57.652118 2011`, `Mon Sep  2 14:42:59 2019`) to a local minute key.
 */
export function ctimeToMinute(text: string): string | null {
  const parts = text.trim().split(/ +/)
  if (parts.length !== 5) return null
  const month = monthIndex[parts[1]]
  const clock = parts[3]
  if (month === undefined || clock.length < 5 || clock[2] !== ':') return null
  return localMinute(Number(parts[4]), month, Number(parts[2]), digits(clock, 0, 2), digits(clock, 3, 2))
}

/**
 * Converts an IIS `date` + `time` pair (`2024-03-19`, `09:42:10`) to a UTC minute key: W3C
 * extended logs written by IIS are in UTC by definition.
 */
export function iisToMinute(date: string, time: string): string | null {
  if (date.length !== 10 || time.length < 5) return null
  const year = digits(date, 0, 4)
  const month = digits(date, 5, 2) - 1
  const day = digits(date, 8, 2)
  const local = localMinute(year, month, day, digits(time, 0, 2), digits(time, 3, 2))
  return local === null ? null : `${local}Z`
}
