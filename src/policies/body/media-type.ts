/**
 * Media types as the body policy compares them: the `type/subtype` of a Content-Type,
 * lowercased, parameters dropped (RFC 9110 §8.3.1).
 */

// RFC 6838 restricted-name characters; one class per part keeps the patterns linear.
const mediaTypePattern = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/
const mediaRangePattern = /^(?:\*\/\*|[a-z0-9!#$&^_.+-]+\/(?:\*|\*\+[a-z0-9!#$&^_.-]+|[a-z0-9!#$&^_.+-]+))$/

// Longer Content-Type values are not something a client sends by accident.
const maxContentTypeLength = 1024

/** Why `text` is not a media range we can match, or undefined when it is fine. */
export function describeMediaRangeProblem(text: string): string | undefined {
  if (text.includes(';')) return `'${text}' has parameters; list the media type alone (parameters such as charset are ignored)`
  if (!mediaRangePattern.test(text.trim().toLowerCase())) {
    return `'${text}' is not a media type: write type/subtype, type/* or type/*+suffix (e.g. application/json, text/*, application/*+json)`
  }
  return undefined
}

/**
 * The media type of a Content-Type header value, or undefined when the value is not one
 * (`""`, `json`, an absurdly long value).
 */
export function parseMediaType(contentType: string): string | undefined {
  if (contentType.length > maxContentTypeLength) return undefined
  const semicolon = contentType.indexOf(';')
  const essence = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return mediaTypePattern.test(essence) ? essence : undefined
}

/** JSON is `application/json` and any `+json` structured syntax suffix (RFC 6839), e.g. problem+json. */
export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json')
}

/** Matches media types against the configured ranges; built once per config load. */
export class MediaRangeSet {
  private readonly exact = new Set<string>()
  private readonly wholeTypes = new Set<string>()
  private readonly suffixes: { prefix: string; suffix: string }[] = []
  private readonly any: boolean

  /** `ranges` must be valid (see `describeMediaRangeProblem`). */
  constructor(ranges: readonly string[]) {
    let any = false
    for (const raw of ranges) {
      const range = raw.trim().toLowerCase()
      const slash = range.indexOf('/')
      const type = range.slice(0, slash)
      const subtype = range.slice(slash + 1)
      if (range === '*/*') any = true
      else if (subtype === '*') this.wholeTypes.add(type)
      else if (subtype.startsWith('*+')) this.suffixes.push({ prefix: `${type}/`, suffix: subtype.slice(1) })
      else this.exact.add(range)
    }
    this.any = any
  }

  has(mediaType: string): boolean {
    if (this.any || this.exact.has(mediaType)) return true
    const slash = mediaType.indexOf('/')
    if (this.wholeTypes.has(mediaType.slice(0, slash))) return true
    for (const { prefix, suffix } of this.suffixes) {
      if (mediaType.startsWith(prefix) && mediaType.endsWith(suffix) && mediaType.length > prefix.length + suffix.length) return true
    }
    return false
  }
}
