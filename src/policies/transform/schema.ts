import RE2 from 're2'
import { z } from 'zod'
import { isToken } from '../cors/safelist.js'
import { findUnknownPlaceholders, hasPlaceholder } from './placeholders.js'

/** Headers that frame the message or the connection; only the proxy may set them. */
const framingHeaders = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'host'])

const HeaderName = z
  .string()
  .max(256)
  .refine(isToken, { error: (issue) => `'${String(issue.input)}' is not an HTTP header name` })
  .refine((name) => !framingHeaders.has(name.toLowerCase()), {
    error: (issue) => `'${String(issue.input)}' frames the message or connection; the gateway manages it and a transform cannot change it`,
  })
  .transform((name) => name.toLowerCase())

// Field values: printable ASCII, space, tab, obs-text; no CR or LF (header injection).
const valuePattern = /^[\t\x20-\x7e\x80-\xff]*$/

const HeaderValue = z
  .string()
  .max(8192)
  .regex(valuePattern, { error: 'a header value cannot contain line breaks or control characters' })
  .superRefine((value, ctx) => {
    for (const name of findUnknownPlaceholders(value)) {
      ctx.addIssue({ code: 'custom', message: `unknown placeholder '\${${name}}'; use \${consumer}, \${tenant}, \${requestId} or \${clientIp}` })
    }
  })

const headerMap = (what: string) =>
  z
    .record(HeaderName, HeaderValue.describe('The header value; at most 8192 characters, no line breaks.'))
    .refine((map) => Object.keys(map).length <= 100, { error: 'at most 100 headers' })
    .optional()
    .describe(what)

/** Counts capture groups: an alternation with the empty pattern always matches ''. */
function countGroups(re: string): number {
  const match = new RE2(`(?:${re})|`).exec('')
  return match ? match.length - 1 : 0
}

/** Why `source` is not an RE2 pattern, or undefined. */
function describeRe2Problem(source: string): string | undefined {
  try {
    new RE2(source)
    return undefined
  } catch (error) {
    return `not a valid RE2 pattern (${(error as Error).message}); RE2 has no backreferences or lookarounds`
  }
}

const Rewrite = z
  .object({
    from: z
      .string()
      .min(1)
      .max(1024)
      .describe(
        "RE2 regular expression matched against the request path (without query string), e.g. '^/v1/(.*)$'. RE2 runs in linear time; backreferences and lookarounds are not supported. Required.",
      ),
    to: z
      .string()
      .max(2048)
      .regex(/^[^\s?#]*$/, { error: 'the replacement is a path: no spaces, ? or #' })
      .describe(
        "Replacement path for the first match: $1..$9 insert capture groups, $<name> a named group, $$ a dollar sign. The query string is kept as sent. Required.",
      ),
  })
  .strict()
  .superRefine((rewrite, ctx) => {
    const problem = describeRe2Problem(rewrite.from)
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: problem })
      return
    }
    const groups = countGroups(rewrite.from)
    for (const match of rewrite.to.matchAll(/\$([0-9])/g)) {
      if (Number(match[1]) > groups) {
        ctx.addIssue({ code: 'custom', path: ['to'], message: `'$${match[1]}' refers to a capture group that 'from' does not have (it has ${groups})` })
      }
    }
  })

/** Config of the `transform` policy: `routes[].policies.transform`. */
export const TransformConfig = z
  .object({
    request: z
      .object({
        set: headerMap(
          "Headers sent to the upstream, replacing any the client sent under the same name, so clients cannot spoof them. Values may use ${consumer}, ${tenant}, ${requestId} and ${clientIp}; when a placeholder has no value (an anonymous caller's ${consumer}) the header is not sent at all. Example: { x-consumer: '${consumer}' }.",
        ),
        add: headerMap(
          'Headers sent to the upstream only when the client did not send them (defaults). Placeholders are not allowed here, because a client-sent value would win: use set for identity headers.',
        ),
        remove: z
          .array(HeaderName)
          .max(100)
          .optional()
          .describe('Request headers not forwarded to the upstream, by name (case-insensitive).'),
        rename: z
          .record(HeaderName, HeaderName.describe('The name the header is forwarded under.'))
          .optional()
          .describe('Request headers forwarded under another name: { from: to }. The original name is not forwarded.'),
      })
      .strict()
      .superRefine((request, ctx) => {
        for (const [name, value] of Object.entries(request.add ?? {})) {
          if (hasPlaceholder(value)) {
            ctx.addIssue({ code: 'custom', path: ['add', name], message: 'placeholders are not allowed in add: a client-sent header of the same name would be kept, so a client could spoof it; use set' })
          }
        }
      })
      .optional()
      .describe('Edits to the request before it goes upstream, applied in the order remove, rename, add, set.'),
    response: z
      .object({
        set: headerMap("Headers set on the upstream's response before it reaches the client, replacing the upstream's. Placeholders are allowed."),
        remove: z
          .array(HeaderName)
          .max(100)
          .optional()
          .describe("Response headers removed before the client sees them, e.g. 'server' or 'x-powered-by'."),
      })
      .strict()
      .optional()
      .describe("Edits to the upstream's response headers. Answers the gateway gives itself (denials) are not edited."),
    rewrite: Rewrite.optional().describe('Rewrites the path sent to the upstream with an RE2 regular expression. Paths that do not match are sent unchanged.'),
  })
  .strict()
  .describe('Edits requests on their way to the upstream and responses on their way back: headers, identity propagation, path rewrite. Runs last, after every check passed.')

export type TransformConfig = z.output<typeof TransformConfig>
