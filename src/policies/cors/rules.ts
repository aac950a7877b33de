import type { Rule } from '../../core/denial.js'

/** Rules of the `cors` layer; the only place their ids are spelled. All refuse preflights only. */
export const rules = {
  originNotAllowed: {
    id: 'cors.origin-not-allowed',
    status: 403,
    title: 'CORS origin not allowed',
    meaning: "A browser preflight came from an origin that is not in the route's cors.origins.",
    remedy: 'This API does not accept cross-origin calls from your web page. Ask the API operator to allow your origin.',
  },
  methodNotAllowed: {
    id: 'cors.method-not-allowed',
    status: 403,
    title: 'CORS method not allowed',
    meaning: "A browser preflight asked for a method that is neither CORS-safelisted (GET, HEAD, POST) nor in the route's cors.methods.",
    remedy: 'This API does not accept this method from cross-origin web pages. Ask the API operator to allow it.',
  },
  headerNotAllowed: {
    id: 'cors.header-not-allowed',
    status: 403,
    title: 'CORS request header not allowed',
    meaning: "A browser preflight asked to send a request header that is not CORS-safelisted and not in the route's cors.headers.",
    remedy: 'This API does not accept one of the request headers your web page sends cross-origin. Ask the API operator to allow it.',
  },
} as const satisfies Record<string, Rule>
