import { z } from 'zod'
import { isToken } from './safelist.js'

// scheme://host[:port] and nothing after it. One bounded character class per part: linear.
const originPattern = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s\\]+$/

/** Why `text` is not an origin browsers could send, or undefined when it is fine. */
export function describeOriginProblem(text: string): string | undefined {
  if (text === '*') return undefined
  if (text === 'null') {
    return "'null' is the origin of sandboxed iframes, file: pages and some redirects; any site can produce it, so it cannot be allowed. List the real origins"
  }
  if (text.includes('*')) return `'${text}' has a wildcard; only a lone '*' is supported, so list each origin exactly`
  if (!originPattern.test(text)) {
    const suggestion = suggestOrigin(text)
    return `'${text}' is not an origin: write scheme://host[:port] with no path, query or trailing slash` +
      (suggestion === undefined ? '' : `, e.g. '${suggestion}'`)
  }
  if (text.startsWith('http://') || text.startsWith('https://')) {
    const origin = suggestOrigin(text)
    if (origin === undefined) return `'${text}' is not an origin: the host is not valid`
    // Browsers send the origin lowercased, punycoded and without a default port; an exact
    // comparison against anything else would never match.
    if (origin !== text) return `'${text}' never matches: browsers send this origin as '${origin}'`
  }
  return undefined
}

function suggestOrigin(text: string): string | undefined {
  try {
    const origin = new URL(text).origin
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

const Origin = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = describeOriginProblem(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  })

const Method = z
  .string()
  .max(64)
  .refine(isToken, { error: (issue) => `'${String(issue.input)}' is not an HTTP method name` })

const HeaderName = z
  .string()
  .max(256)
  .refine(isToken, { error: (issue) => `'${String(issue.input)}' is not an HTTP header name` })

/** Config of the `cors` policy: `routes[].policies.cors`. */
export const CorsConfig = z
  .object({
    origins: z
      .array(Origin)
      .min(1, { error: "List at least one origin, or '*' for any." })
      .max(1000)
      .describe(
        "Origins (scheme://host[:port], exactly as browsers send them, e.g. https://app.example.com) whose pages may call the route, or a single '*' for any origin. " +
          'A preflight from another origin is refused with cors.origin-not-allowed. Required.',
      ),
    methods: z
      .array(Method)
      .max(100)
      .default([])
      .describe(
        'Methods a preflight may ask for, beyond GET, HEAD and POST, which browsers never preflight for and which are always allowed. ' +
          "Matched case-insensitively. '*' allows any method. Default: none beyond the safelisted three.",
      ),
    headers: z
      .array(HeaderName)
      .max(200)
      .default([])
      .describe(
        'Request headers a preflight may ask for, matched case-insensitively (e.g. content-type, x-api-key). ' +
          'Accept, Accept-Language, Content-Language and Range never need listing. Content-Type must be listed for values other than ' +
          "text/plain, multipart/form-data and application/x-www-form-urlencoded (so for JSON). '*' allows any header. Default: none.",
      ),
    exposeHeaders: z
      .array(HeaderName)
      .max(200)
      .default([])
      .describe(
        'Response headers browser code may read, in Access-Control-Expose-Headers. Gatehouse-Decision and X-Request-Id are always exposed ' +
          'so browser apps can see why a request was refused. Default: only those two.',
      ),
    credentials: z
      .boolean()
      .default(false)
      .describe(
        'When true, browsers may send cookies and HTTP authentication with cross-origin requests (Access-Control-Allow-Credentials: true). ' +
          "Cannot be combined with origins '*'. Default: false.",
      ),
    maxAgeSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(600)
      .describe(
        'How long, in seconds, a browser may cache a preflight answer (Access-Control-Max-Age). Browsers cap it themselves ' +
          '(Chromium at 7200). 0 disables caching. Default: 600.',
      ),
  })
  .strict()
  .superRefine((config, ctx) => {
    const wildcard = config.origins.indexOf('*')
    if (wildcard === -1) return
    if (config.origins.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['origins', wildcard],
        message: "'*' already allows every origin; use it alone or list exact origins",
      })
    }
    if (config.credentials) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentials'],
        message: "credentials: true cannot be combined with origins: ['*']; browsers refuse a wildcard origin on credentialed requests, so list the exact origins",
      })
    }
  })
  .describe('Answers CORS preflights and adds CORS headers to cross-origin responses (Fetch standard, HTTP CORS protocol).')

export type CorsConfig = z.output<typeof CorsConfig>
