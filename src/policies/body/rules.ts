import type { Rule } from '../../core/denial.js'

/** Rules of the `body` layer; the only place their ids are spelled. */
export const rules = {
  tooLarge: {
    id: 'body.too-large',
    status: 413,
    title: 'Request body too large',
    meaning: "The request body (declared in Content-Length or counted while reading) is larger than the route's body.maxBytes.",
    remedy: 'Send a smaller request body.',
  },
  unsupportedType: {
    id: 'body.unsupported-type',
    status: 415,
    title: 'Unsupported media type',
    meaning: "The request has a body whose Content-Type is missing or not one of the route's body.types.",
    remedy: 'Send the body with a Content-Type header this API accepts (see its documentation).',
  },
  malformedJson: {
    id: 'body.malformed-json',
    status: 400,
    title: 'Malformed JSON body',
    meaning: 'The Content-Type says JSON but the body is not valid JSON (or not valid UTF-8).',
    remedy: 'Send a valid JSON body; the error names the line and column where it breaks.',
  },
} as const satisfies Record<string, Rule>
