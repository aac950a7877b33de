/** Longest path kept per record, in characters: enough to tell paths apart, bounded against hostile logs. */
export const maxPathChars = 512
/** Longest client, method or rule value kept. */
export const maxTokenChars = 128
/** Longest message kept per record. */
export const maxMessageChars = 300

/** Cuts a logged URI at `?` (SPEC: paths as logged up to `?`) and bounds its length. */
export function pathOf(uri: string): string | null {
  if (uri === '' || uri === '-') return null
  const q = uri.indexOf('?')
  const path = q === -1 ? uri : uri.slice(0, q)
  return path.length > maxPathChars ? path.slice(0, maxPathChars) : path
}

/** A bounded token, or null for the log's "empty" markers. */
export function tokenOf(value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null
  const v = value.trim()
  if (v === '' || v === '-') return null
  return v.length > maxTokenChars ? v.slice(0, maxTokenChars) : v
}

/** Left-most address of an X-Forwarded-For list: the client as the first proxy saw it. */
export function firstForwarded(value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null
  const comma = value.indexOf(',')
  return tokenOf(comma === -1 ? value : value.slice(0, comma))
}

/** Splits an HTTP request line (`GET /x?y HTTP/1.1`) into method and path; garbage gives nulls. */
export function splitRequestLine(request: string): { method: string | null; path: string | null } {
  const sp1 = request.indexOf(' ')
  if (sp1 <= 0 || sp1 > 32) return { method: null, path: null }
  const method = request.slice(0, sp1)
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i)
    // Methods are tokens of upper-case letters (and a few others); TLS bytes or junk are not.
    if (!((c >= 65 && c <= 90) || c === 45 || c === 95)) return { method: null, path: null }
  }
  const sp2 = request.indexOf(' ', sp1 + 1)
  const uri = sp2 === -1 ? request.slice(sp1 + 1) : request.slice(sp1 + 1, sp2)
  return { method, path: pathOf(uri) }
}

/** Bounded message text. */
export function messageOf(text: string): string {
  const t = text.trim()
  return t.length > maxMessageChars ? `${t.slice(0, maxMessageChars)}…` : t
}
