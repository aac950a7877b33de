import type { RequestContext } from '../../gateway/context.js'

/**
 * Placeholders a transform header value may use, filled per request. The config loader
 * leaves these names alone when it interpolates `${ENV}` variables.
 */
export const requestPlaceholderNames: ReadonlySet<string> = new Set(['consumer', 'tenant', 'requestId', 'clientIp'])

type Placeholder = 'consumer' | 'tenant' | 'requestId' | 'clientIp'

/** A header value split at its placeholders: literal text and placeholder names alternate. */
export interface Template {
  parts: readonly (string | { placeholder: Placeholder })[]
  /** True when there is no placeholder: the value is `parts[0]` (or ''). */
  isStatic: boolean
}

// `${name}`: a bounded run of letters, so matching is linear.
const placeholderPattern = /\$\{([A-Za-z]{1,32})\}/g

/** Placeholder names in `value` that are not supported (for schema errors). */
export function findUnknownPlaceholders(value: string): string[] {
  return [...value.matchAll(placeholderPattern)].map((m) => m[1]).filter((name) => !requestPlaceholderNames.has(name))
}

/** True when `value` uses at least one placeholder. */
export function hasPlaceholder(value: string): boolean {
  return [...value.matchAll(placeholderPattern)].length > 0
}

/** Parses a configured value once, at compile time. */
export function parseTemplate(value: string): Template {
  const parts: (string | { placeholder: Placeholder })[] = []
  let last = 0
  for (const match of value.matchAll(placeholderPattern)) {
    if (match.index > last) parts.push(value.slice(last, match.index))
    parts.push({ placeholder: match[1] as Placeholder })
    last = match.index + match[0].length
  }
  if (last < value.length) parts.push(value.slice(last))
  return { parts, isStatic: parts.every((p) => typeof p === 'string') }
}

// Printable ASCII, tab and obs-text (RFC 9110 §5.5 field-vchar); one class, linear.
const unsafeValue = /[^\t\x20-\x7e\x80-\xff]/

/**
 * Fills a template for one request. Returns undefined when a placeholder has no value (an
 * anonymous caller's `${consumer}`) or the result is not a legal header value (a token
 * subject with a newline): the header is then not sent at all, rather than sent empty or
 * broken.
 */
export function renderTemplate(template: Template, ctx: RequestContext): string | undefined {
  let out = ''
  for (const part of template.parts) {
    if (typeof part === 'string') {
      out += part
      continue
    }
    const value = valueOf(part.placeholder, ctx)
    if (value === undefined || value === '') return undefined
    out += value
  }
  return unsafeValue.test(out) ? undefined : out
}

function valueOf(name: Placeholder, ctx: RequestContext): string | undefined {
  if (name === 'consumer') return ctx.identity?.consumer
  if (name === 'tenant') return ctx.identity?.tenant
  if (name === 'requestId') return ctx.id
  return ctx.clientIp
}
