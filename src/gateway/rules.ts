import type { Rule } from '../core/denial.js'

/** Answers the gateway gives before any route policy runs. */
export const gatewayRules = {
  noRoute: {
    id: 'gateway.no-route',
    status: 404,
    title: 'No route matches',
    meaning: 'No route in the configuration matches the method, host and path of the request.',
    remedy: 'Check the method, host and path of the request against the published API.',
  },
  methodNotAllowed: {
    id: 'gateway.method-not-allowed',
    status: 405,
    title: 'Method not allowed on this path',
    meaning: 'A route matches the path but not the method; the Allow header lists the methods it answers.',
    remedy: 'Use one of the methods in the Allow header.',
  },
  badPath: {
    id: 'gateway.bad-path',
    status: 400,
    title: 'Malformed request path',
    meaning: 'The path is malformed or ambiguous: an invalid or non-UTF-8 percent-encoding, an encoded slash, a backslash, a `;` path parameter, a double-encoded escape, a control character, or `..` climbing above the root.',
    remedy: 'Send a well-formed path.',
  },
  malformedRequest: {
    id: 'gateway.malformed-request',
    status: 400,
    title: 'Malformed HTTP request',
    meaning: "Node's HTTP parser rejected the request: bad request line, invalid header, or conflicting Content-Length and Transfer-Encoding.",
    remedy: 'Send a well-formed HTTP/1.1 request.',
  },
  headersTooLarge: {
    id: 'gateway.headers-too-large',
    status: 431,
    title: 'Request header fields too large',
    meaning: 'The header section is larger than 16 KiB.',
    remedy: 'Send fewer or smaller headers (large cookies are the usual cause).',
  },
  requestTimeout: {
    id: 'gateway.request-timeout',
    status: 408,
    title: 'Request timeout',
    meaning: 'The client took longer than 10 s to send the headers, or 60 s to send the whole request.',
    remedy: 'Send the request without pausing.',
  },
  internal: {
    id: 'gateway.internal-error',
    status: 500,
    title: 'Internal gateway error',
    meaning: 'The gateway failed while handling the request; the log has the stack.',
    remedy: 'Retry later; if it persists, report the request id to the API operator.',
  },
} as const satisfies Record<string, Rule>

/** Upstream failures: never 403, so they are never mistaken for a policy decision. */
export const upstreamRules = {
  connectFailed: {
    id: 'upstream.connect-failed',
    status: 502,
    title: 'Upstream refused the connection',
    meaning: 'The gateway could not connect to any target of the upstream (connection refused, reset or DNS failure).',
    remedy: 'The API behind the gateway is not reachable; retry later.',
  },
  connectTimeout: {
    id: 'upstream.connect-timeout',
    status: 504,
    title: 'Upstream connection timed out',
    meaning: 'Opening a connection to the upstream took longer than connectTimeoutMs.',
    remedy: 'The API behind the gateway is slow to accept connections; retry later.',
  },
  timeout: {
    id: 'upstream.timeout',
    status: 504,
    title: 'Upstream timed out',
    meaning: 'The upstream did not send response headers within readTimeoutMs.',
    remedy: 'The API behind the gateway is slow to answer; retry later.',
  },
  unavailable: {
    id: 'upstream.unavailable',
    status: 503,
    title: 'No healthy upstream target',
    meaning: 'Every target of the upstream is marked unhealthy by active or passive health checks.',
    remedy: 'The API behind the gateway is down; retry later.',
  },
  badResponse: {
    id: 'upstream.bad-response',
    status: 502,
    title: 'Upstream sent an invalid response',
    meaning: 'The upstream closed the connection or sent a response the gateway could not parse.',
    remedy: 'The API behind the gateway failed; retry later.',
  },
} as const satisfies Record<string, Rule>
