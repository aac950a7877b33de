import { z } from 'zod'
import { isToken } from '../cors/safelist.js'
import { describeOriginProblem } from '../cors/schema.js'

const Origin = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    if (value === '*') {
      ctx.addIssue({ code: 'custom', message: "'*' would trust every site, which turns CSRF protection off; list the origins of your own front ends" })
      return
    }
    const problem = describeOriginProblem(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  })

const HeaderName = z
  .string()
  .max(256)
  .refine(isToken, { error: (issue) => `'${String(issue.input)}' is not an HTTP header name` })
  .transform((name) => name.toLowerCase())

// RFC 6265 cookie-name is an RFC 9110 token.
const CookieName = z
  .string()
  .max(256)
  .refine(isToken, { error: (issue) => `'${String(issue.input)}' is not a cookie name` })

const Method = z
  .string()
  .regex(/^[A-Z]{1,32}$/, { error: 'methods are upper-case tokens such as POST' })

/** Config of the `csrf` policy: `routes[].policies.csrf`. */
export const CsrfConfig = z
  .object({
    origins: z
      .array(Origin)
      .max(1000)
      .default([])
      .describe(
        "Origins of front ends allowed to send cookie-authenticated state-changing requests, as browsers send them (scheme://host[:port], e.g. https://app.example.com). The gateway's own origin (its Host header with http or https) is always trusted. Behind a proxy that terminates TLS, list the public https origin here. Default: empty (same origin only).",
      ),
    token: z
      .object({
        cookie: CookieName.default('csrf_token').describe("Name of the cookie that carries the CSRF token. Default csrf_token."),
        header: HeaderName.default('x-csrf-token').describe('Name of the request header the page copies the token into. Default x-csrf-token.'),
      })
      .strict()
      .optional()
      .describe(
        'Double-submit token check, after the origin check: the cookie and the header must both be present and equal (compared in constant time). The application sets the cookie; the gateway only compares. Off when absent.',
      ),
    requireReferer: z
      .boolean()
      .default(true)
      .describe(
        'When true, a cookie-authenticated state-changing request with neither Origin nor Referer (nor Sec-Fetch-Site) is refused with csrf.no-referer. Every current browser sends Origin on such requests, so this costs real users nothing and closes the gap older browsers and stripped headers leave; turn it off only for non-browser clients that must send cookies. Default true.',
      ),
    methods: z
      .array(Method)
      .min(1, { error: 'list at least one method, or remove the csrf policy' })
      .max(32)
      .default(['POST', 'PUT', 'PATCH', 'DELETE'])
      .describe(
        'Methods that are checked. Safe methods (GET, HEAD, OPTIONS) must not change state and are never worth checking. Default POST, PUT, PATCH, DELETE.',
      ),
  })
  .strict()
  .describe(
    "Cross-site request forgery protection for cookie-authenticated routes: checks Sec-Fetch-Site, then Origin (or Referer), then an optional double-submit token. Requests authenticated by an API key or bearer token in a header are not checked: a browser never adds those to a forged request.",
  )

export type CsrfConfig = z.output<typeof CsrfConfig>
