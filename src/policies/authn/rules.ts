import type { Rule } from '../../core/denial.js'

/** Every rule the authn layer can deny with. The only place these ids are spelled. */
export const rules = {
  missingCredentials: {
    id: 'authn.missing-credentials',
    status: 401,
    title: 'Credentials required',
    meaning: 'The route requires authentication and the request carried no API key or bearer token the route accepts.',
    remedy: 'Send your credentials as the WWW-Authenticate header of this response describes.',
  },
  keyInvalid: {
    id: 'authn.key-invalid',
    status: 401,
    title: 'Invalid API key',
    meaning: 'An API key was presented but it matches no configured consumer key (mistyped, revoked or for another environment).',
    remedy: 'Check that you send the current API key for this environment.',
  },
  jwtMalformed: {
    id: 'authn.jwt-malformed',
    status: 401,
    title: 'Malformed token',
    meaning: 'The bearer token is not a well-formed signed JWT (wrong number of parts, bad base64url, header or claims not JSON, or claims of the wrong type).',
    remedy: 'Send a signed JWT in compact form: Authorization: Bearer <header>.<payload>.<signature>.',
  },
  jwtBadSignature: {
    id: 'authn.jwt-bad-signature',
    status: 401,
    title: 'Token signature invalid',
    meaning: "The token's signature does not verify with the configured key: it was signed by another issuer or key, or altered after signing.",
    remedy: 'Obtain a new token from the issuer this API trusts.',
  },
  jwtExpired: {
    id: 'authn.jwt-expired',
    status: 401,
    title: 'Token expired',
    meaning: "The token's exp claim is in the past, beyond the allowed clock skew.",
    remedy: 'Obtain a fresh token and retry.',
  },
  jwtNotYetValid: {
    id: 'authn.jwt-not-yet-valid',
    status: 401,
    title: 'Token not yet valid',
    meaning: "The token's nbf claim is in the future, beyond the allowed clock skew; often a clock out of sync on the issuer.",
    remedy: 'Retry later, or check the clock of the system that issued the token.',
  },
  jwtWrongIssuer: {
    id: 'authn.jwt-wrong-issuer',
    status: 401,
    title: 'Token from an untrusted issuer',
    meaning: "The token's iss claim is missing or is not one of the issuers the route trusts.",
    remedy: 'Obtain a token from the issuer this API trusts.',
  },
  jwtWrongAudience: {
    id: 'authn.jwt-wrong-audience',
    status: 401,
    title: 'Token for another audience',
    meaning: "The token's aud claim is missing or names no audience the route accepts; the token was issued for another API.",
    remedy: 'Request a token whose audience is this API.',
  },
  jwtUnknownKey: {
    id: 'authn.jwt-unknown-key',
    status: 401,
    title: 'Token signed with an unknown key',
    meaning: "No key in the issuer's JWKS matches the token's kid and algorithm, even after fetching the JWKS again.",
    remedy: 'Obtain a new token from the issuer this API trusts.',
  },
  jwtAlgorithmNotAllowed: {
    id: 'authn.jwt-algorithm-not-allowed',
    status: 401,
    title: 'Token algorithm not allowed',
    meaning: "The token's alg header is not in the route's allowed algorithms (alg none and algorithm-confusion attempts land here).",
    remedy: 'Obtain a token signed with an algorithm this API accepts.',
  },
  jwtMissingClaim: {
    id: 'authn.jwt-missing-claim',
    status: 401,
    title: 'Token lacks the identity claim',
    meaning: 'The token verified, but the claim that names the consumer (sub, or auth.jwt.consumerClaim) is missing or not a string.',
    remedy: 'Obtain a token that identifies you.',
  },
  jwksUnavailable: {
    id: 'authn.jwks-unavailable',
    status: 503,
    title: 'Token keys unavailable',
    meaning: "The gateway could not fetch the issuer's JWKS (unreachable, timeout, error status or invalid JSON), so it cannot verify tokens and refuses them rather than let them through unchecked.",
    remedy: 'Retry shortly; this is a temporary problem on our side.',
  },
} as const satisfies Record<string, Rule>
