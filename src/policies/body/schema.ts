import { z } from 'zod'
import { describeMediaRangeProblem } from './media-type.js'

/** Default `maxBytes`: 1 MiB. */
export const defaultMaxBytes = 1_048_576
// The body is held in memory while the policies look at it; beyond this, stream to the upstream instead.
const maxMaxBytes = 104_857_600

const MediaRange = z
  .string()
  .max(255)
  .superRefine((value, ctx) => {
    const problem = describeMediaRangeProblem(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  })

/** Config of the `body` policy: `routes[].policies.body`. */
export const BodyConfig = z
  .object({
    maxBytes: z
      .number()
      .int()
      .min(0)
      .max(maxMaxBytes)
      .default(defaultMaxBytes)
      .describe(
        'Largest request body accepted, in bytes. Larger bodies (by Content-Length, or counted while reading) are refused with ' +
          'body.too-large (413) before they reach the upstream. The body is buffered in memory, so at most 104857600 (100 MiB). ' +
          'Default: 1048576 (1 MiB).',
      ),
    types: z
      .array(MediaRange)
      .max(100)
      .optional()
      .describe(
        'Media types a request body may have, matched case-insensitively on the Content-Type without its parameters: exact ' +
          '(application/json), a whole type (text/*), a structured suffix (application/*+json) or */*. Other types, and a body ' +
          'without Content-Type, are refused with body.unsupported-type (415). Requests without a body are not checked. ' +
          'Default: not set, so any type (or none) is accepted.',
      ),
    json: z
      .boolean()
      .default(true)
      .describe(
        'When true, a body whose media type is JSON (application/json or any +json type) must be valid JSON (RFC 8259, UTF-8); ' +
          'otherwise it is refused with body.malformed-json (400) naming the line and column. The parsed body is kept for later ' +
          'layers. Default: true.',
      ),
  })
  .strict()
  .describe('Checks the request body before anyone acts on it: its size, its media type and, for JSON, its syntax.')

export type BodyConfig = z.output<typeof BodyConfig>
