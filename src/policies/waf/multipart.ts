/** One part of a multipart/form-data body, as the WAF inspects it. */
export interface MultipartPart {
  name: string
  filename?: string
  /** The part's content as text; absent for binary file contents. */
  text?: string
}

const maxParts = 1000
const maxPartHeaderBytes = 8192

/**
 * A small bounded multipart/form-data parser (RFC 7578) for inspection only: finds the parts by
 * boundary with Buffer.indexOf (linear scans, no regex), reads each part's Content-Disposition
 * name and filename, and keeps text contents. Binary file contents (a NUL in the first KiB) are
 * skipped. Returns undefined when the body is not multipart at all.
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] | undefined {
  const boundary = boundaryOf(contentType)
  if (boundary === undefined) return undefined
  const delimiter = Buffer.from(`--${boundary}`, 'latin1')
  let at = body.indexOf(delimiter)
  if (at === -1) return undefined
  const parts: MultipartPart[] = []
  while (parts.length < maxParts) {
    let start = at + delimiter.length
    // `--boundary--` closes the body.
    if (body[start] === 45 && body[start + 1] === 45) break
    if (body[start] === 13) start++
    if (body[start] === 10) start++
    const next = body.indexOf(delimiter, start)
    const end = next === -1 ? body.length : next
    const headerEnd = body.indexOf('\r\n\r\n', start)
    if (headerEnd === -1 || headerEnd > end || headerEnd - start > maxPartHeaderBytes) break
    const headers = body.subarray(start, headerEnd).toString('utf8')
    let contentEnd = end
    if (body[contentEnd - 1] === 10) contentEnd--
    if (body[contentEnd - 1] === 13) contentEnd--
    const content = body.subarray(headerEnd + 4, Math.max(headerEnd + 4, contentEnd))
    parts.push(describePart(headers, content))
    if (next === -1) break
    at = next
  }
  return parts
}

function describePart(headers: string, content: Buffer): MultipartPart {
  let name = ''
  let filename: string | undefined
  let type = ''
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon === -1) continue
    const header = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (header === 'content-disposition') {
      name = paramOf(value, 'name') ?? ''
      filename = paramOf(value, 'filename')
    } else if (header === 'content-type') {
      type = value.toLowerCase()
    }
  }
  // Sniffed, not trusted from the part's Content-Type: a PHP shell sent as image/jpeg is text, while
  // real images, audio and archives have NUL bytes in their first KiB.
  const binary = content.subarray(0, 1024).includes(0)
  return binary ? { name, filename } : { name, filename, text: content.toString('utf8') }
}

/** Reads `key=value` or `key="value"` from a header value; plain string scanning, no regex. */
function paramOf(header: string, key: string): string | undefined {
  const lower = header.toLowerCase()
  let from = 0
  while (from < lower.length) {
    const at = lower.indexOf(key, from)
    if (at === -1) return undefined
    const before = at === 0 ? ';' : lower[at - 1]
    let i = at + key.length
    while (lower[i] === ' ') i++
    if ((before === ';' || before === ' ') && lower[i] === '=') {
      i++
      while (header[i] === ' ') i++
      if (header[i] === '"') {
        const close = header.indexOf('"', i + 1)
        return header.slice(i + 1, close === -1 ? header.length : close)
      }
      const semi = header.indexOf(';', i)
      return header.slice(i, semi === -1 ? header.length : semi).trim()
    }
    from = at + key.length
  }
  return undefined
}

function boundaryOf(contentType: string): string | undefined {
  const value = paramOf(contentType, 'boundary')
  return value === undefined || value.length === 0 || value.length > 200 ? undefined : value
}
