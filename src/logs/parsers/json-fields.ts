/** A JSON object read from a log line. Readers below check every access: logs are untrusted input. */
export type JsonRecord = Record<string, unknown>

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The object under `key`, or null. */
export function objectAt(parent: unknown, key: string): JsonRecord | null {
  if (!isObject(parent)) return null
  const value = parent[key]
  return isObject(value) ? value : null
}

/** The string (or finite number, as text) under `key`, or null. */
export function stringAt(parent: unknown, key: string): string | null {
  if (!isObject(parent)) return null
  const value = parent[key]
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return null
}

/** The finite number (or numeric string) under `key`, or null. */
export function numberAt(parent: unknown, key: string): number | null {
  if (!isObject(parent)) return null
  const value = parent[key]
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  return null
}

/** A header value by case-insensitive name. */
export function headerAt(headers: JsonRecord | null, name: string): string | null {
  if (headers === null) return null
  for (const key of Object.keys(headers)) {
    // Early libmodsecurity 3 builds prefixed header names with REQUEST_HEADERS:.
    const lower = key.toLowerCase()
    if (lower === name || lower === `request_headers:${name}`) return stringAt(headers, key)
  }
  return null
}

/** Parses a line as a JSON object, or null. */
export function parseJsonObject(line: string): JsonRecord | null {
  try {
    const value: unknown = JSON.parse(line)
    return isObject(value) ? value : null
  } catch {
    return null
  }
}
