import { createPublicKey, type KeyObject } from 'node:crypto'
import { errors, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyOptions } from 'jose'
import type { Clock } from '../../core/clock.js'
import type { Rule } from '../../core/denial.js'
import type { JsonObject } from '../../core/json.js'
import type { JwksCache } from './jwks.js'
import { rules } from './rules.js'

/** HMAC algorithms: verified with the shared `secret`. */
export const HMAC_ALGORITHMS: readonly string[] = ['HS256', 'HS384', 'HS512']
/** Public-key algorithms: verified with `publicKey` or keys from `jwksUrl`. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]
/** Every JWS algorithm `auth.jwt.algorithms` may list. `none` is never accepted. */
export const SUPPORTED_ALGORITHMS: readonly string[] = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS]

/** Tokens longer than this are refused unparsed; real ones are well under 8 KB. */
const MAX_TOKEN_CHARS = 16 * 1024
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** Result of parsing a `publicKey` config value. */
export type PublicKeyParse = { ok: true; key: KeyObject } | { ok: false; message: string }

/**
 * Parses `auth.jwt.publicKey`: a PEM (SPKI `PUBLIC KEY`, `RSA PUBLIC KEY` or an X.509
 * certificate) or a JWK as JSON. Private keys are refused, so a signing key pasted into the
 * gateway config by mistake is noticed instead of silently used.
 */
export function tryParsePublicKey(text: string): PublicKeyParse {
  const trimmed = text.trim()
  if (trimmed.includes('PRIVATE KEY')) return { ok: false, message: 'this is a private key; give the public key (SPKI PEM or public JWK) instead' }
  try {
    if (trimmed.startsWith('{')) {
      const jwk: unknown = JSON.parse(trimmed)
      if (typeof jwk !== 'object' || jwk === null) return { ok: false, message: 'expected a JWK object' }
      if ('d' in jwk) return { ok: false, message: "this JWK holds private material ('d'); give the public key instead" }
      if ((jwk as { kty?: unknown }).kty === 'oct') return { ok: false, message: "a symmetric JWK (kty 'oct') is a secret; put it in auth.jwt.secret instead" }
      return { ok: true, key: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }) }
    }
    return { ok: true, key: createPublicKey(trimmed) }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return { ok: false, message: `not a readable public key (PEM or JWK JSON): ${reason}` }
  }
}

/**
 * The algorithms a public key can verify, so an RSA key never lets an ES or HS token
 * through and an EC key only accepts the algorithm of its curve.
 */
export function algorithmsForPublicKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512']
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve
      if (curve === 'prime256v1') return ['ES256']
      if (curve === 'secp384r1') return ['ES384']
      if (curve === 'secp521r1') return ['ES512']
      return []
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519']
    default:
      return []
  }
}

/** Where signatures are checked against. */
export type VerificationKey =
  | { kind: 'secret'; secret: Uint8Array }
  | { kind: 'public'; key: KeyObject }
  | { kind: 'jwks'; jwks: JwksCache }

export interface JwtVerifierOptions {
  key: VerificationKey
  /** Allowed `alg` values; anything else is refused before any crypto runs. */
  algorithms: readonly string[]
  issuer?: string | string[]
  audience?: string | string[]
  clockSkewSeconds: number
  /** Refuse tokens without an `exp` claim. */
  requireExpiration: boolean
  clock: Clock
}

/** The token's protected header, as far as traces may show it. */
export interface TokenHeader {
  alg: string
  kid?: string
}

/** Why a token was refused: the rule, a short text for `error_description`, and trace facts. */
export interface JwtFailure {
  rule: Rule
  /** Fixed wording from this module: safe in a header (RFC 6750 §3 charset), reveals nothing. */
  description: string
  /** One sentence for the consumer. */
  message: string
  detail: JsonObject
}

/** Outcome of checking one token. */
export type JwtCheck = { ok: true; header: TokenHeader; payload: JWTPayload } | { ok: false; failure: JwtFailure }

/**
 * Builds the per-request token check. Shape problems and disallowed algorithms are
 * answered synchronously; only a token worth verifying costs a Promise.
 */
export function createJwtVerifier(options: JwtVerifierOptions): (token: string) => JwtCheck | Promise<JwtCheck> {
  const allowed = new Set(options.algorithms)
  const baseOptions: JWTVerifyOptions = {
    algorithms: [...options.algorithms],
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockSkewSeconds,
    requiredClaims: options.requireExpiration ? ['exp'] : [],
  }
  const { key, clock } = options

  async function verifyWith(token: string, header: TokenHeader, candidates: readonly (CryptoKey | KeyObject | Uint8Array)[], extra: JsonObject): Promise<JwtCheck> {
    // A fresh options object per call: currentDate must be the injected clock's now.
    const verifyOptions: JWTVerifyOptions = { ...baseOptions, currentDate: new Date(clock.now()) }
    let lastError: unknown
    for (const candidate of candidates) {
      try {
        const { payload } = await jwtVerify(token, candidate, verifyOptions)
        return { ok: true, header, payload }
      } catch (error) {
        lastError = error
        // Only a signature mismatch means "maybe another candidate key"; anything else
        // (claims, expiry) was decided after the signature verified and is final.
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break
      }
    }
    return { ok: false, failure: describeError(lastError, header, extra, options, clock) }
  }

  return function checkToken(token: string): JwtCheck | Promise<JwtCheck> {
    const parsed = parseHeader(token)
    if (!parsed.ok) return { ok: false, failure: malformed(parsed.reason, {}) }
    const header = parsed.header
    if (!allowed.has(header.alg)) {
      return {
        ok: false,
        failure: {
          rule: rules.jwtAlgorithmNotAllowed,
          description: 'The token signing algorithm is not accepted',
          message: `Tokens signed with '${header.alg}' are not accepted here.`,
          detail: { ...describeHeader(header), allowedAlgorithms: [...options.algorithms] },
        },
      }
    }
    if (key.kind === 'secret') return verifyWith(token, header, [key.secret], {})
    if (key.kind === 'public') return verifyWith(token, header, [key.key], {})
    return key.jwks.resolve(header.kid === undefined ? { alg: header.alg } : { alg: header.alg, kid: header.kid }).then((resolution) => {
      if (resolution.ok) return verifyWith(token, header, resolution.keys, resolution.stale ? { jwksStale: true } : {})
      const failure = resolution.failure
      if (failure.kind === 'unavailable') {
        return {
          ok: false,
          failure: {
            rule: rules.jwksUnavailable,
            description: 'Token keys are temporarily unavailable',
            message: 'The gateway cannot check tokens right now; retry shortly.',
            detail: { ...describeHeader(header), jwksError: failure.reason },
          },
        } satisfies JwtCheck
      }
      return {
        ok: false,
        failure: {
          rule: rules.jwtUnknownKey,
          description: 'The token signing key is not known',
          message: header.kid === undefined ? 'No trusted key matches the token.' : `No trusted key has id '${header.kid}'.`,
          detail: { ...describeHeader(header), jwksRefetched: failure.refetched, keysInSet: failure.keysInSet },
        },
      } satisfies JwtCheck
    })
  }
}

type HeaderParse = { ok: true; header: TokenHeader } | { ok: false; reason: string }

/** Checks the compact shape and decodes the protected header, without trusting anything in it. */
function parseHeader(token: string): HeaderParse {
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: `longer than ${MAX_TOKEN_CHARS} characters` }
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  if (first === -1 || second === -1 || token.indexOf('.', second + 1) !== -1) {
    return { ok: false, reason: 'not three dot-separated parts' }
  }
  const encodedHeader = token.slice(0, first)
  if (!BASE64URL.test(encodedHeader) || !BASE64URL.test(token.slice(first + 1, second)) || !BASE64URL.test(token.slice(second + 1))) {
    return { ok: false, reason: 'a part is empty or not base64url' }
  }
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'))
  } catch {
    return { ok: false, reason: 'the header is not JSON' }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { ok: false, reason: 'the header is not a JSON object' }
  const { alg, kid } = header as { alg?: unknown; kid?: unknown }
  if (typeof alg !== 'string' || alg === '') return { ok: false, reason: 'the header has no alg' }
  if (kid !== undefined && typeof kid !== 'string') return { ok: false, reason: 'the header kid is not a string' }
  return { ok: true, header: kid === undefined ? { alg: clip(alg) } : { alg: clip(alg), kid: clip(kid) } }
}

/** Header values are attacker-chosen: keep what reaches traces short. */
function clip(value: string): string {
  return value.length > 128 ? `${value.slice(0, 128)}…` : value
}

function describeHeader(header: TokenHeader): JsonObject {
  return header.kid === undefined ? { alg: header.alg } : { alg: header.alg, kid: header.kid }
}

function malformed(reason: string, headerDetail: JsonObject): JwtFailure {
  return {
    rule: rules.jwtMalformed,
    description: 'The token is malformed',
    message: `The bearer token is not a well-formed JWT: ${reason}.`,
    detail: { ...headerDetail, reason },
  }
}

function isoSeconds(seconds: unknown): string | null {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : null
}

/** Maps a jose error to our rule; the error's own text never reaches the caller. */
function describeError(error: unknown, header: TokenHeader, extra: JsonObject, options: JwtVerifierOptions, clock: Clock): JwtFailure {
  const base = { ...describeHeader(header), ...extra }
  const nowSeconds = Math.floor(clock.now() / 1000)
  if (error instanceof errors.JWTExpired) {
    const exp = error.payload.exp
    const ago = typeof exp === 'number' ? nowSeconds - exp : null
    return {
      rule: rules.jwtExpired,
      description: 'The token has expired',
      message: `The token expired at ${isoSeconds(exp) ?? 'an unknown time'}.`,
      detail: { ...base, exp: isoSeconds(exp), expiredSecondsAgo: ago, clockSkewSeconds: options.clockSkewSeconds },
    }
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claims = error.payload
    if (error.reason === 'invalid') return malformed(`the ${error.claim} claim has the wrong type`, base)
    switch (error.claim) {
      case 'nbf':
        return {
          rule: rules.jwtNotYetValid,
          description: 'The token is not valid yet',
          message: `The token is not valid before ${isoSeconds(claims.nbf) ?? 'an unknown time'}.`,
          detail: { ...base, nbf: isoSeconds(claims.nbf), validInSeconds: typeof claims.nbf === 'number' ? claims.nbf - nowSeconds : null, clockSkewSeconds: options.clockSkewSeconds },
        }
      case 'iss':
        return {
          rule: rules.jwtWrongIssuer,
          description: 'The token issuer is not trusted',
          message: typeof claims.iss === 'string' ? `Tokens issued by '${clip(claims.iss)}' are not accepted here.` : 'The token names no issuer.',
          detail: { ...base, iss: typeof claims.iss === 'string' ? clip(claims.iss) : null, expectedIssuer: options.issuer ?? null },
        }
      case 'aud':
        return {
          rule: rules.jwtWrongAudience,
          description: 'The token is meant for another audience',
          message: 'The token was not issued for this API (aud claim).',
          detail: { ...base, aud: jsonAudience(claims.aud), expectedAudience: options.audience ?? null },
        }
      case 'exp':
        return malformed('it has no exp claim, and tokens here must expire', base)
      default:
        return malformed(`the ${error.claim} claim failed validation`, base)
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return {
      rule: rules.jwtBadSignature,
      description: 'The token signature is invalid',
      message: 'The token signature does not verify.',
      detail: base,
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return {
      rule: rules.jwtAlgorithmNotAllowed,
      description: 'The token signing algorithm is not accepted',
      message: `Tokens signed with '${header.alg}' are not accepted here.`,
      detail: { ...base, allowedAlgorithms: [...options.algorithms] },
    }
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid || error instanceof TypeError) {
    // jose throws TypeError for claims of the wrong type ("iss" must be a string, ...)
    return malformed('its header or claims are not valid', base)
  }
  // A key that cannot do the token's algorithm (say an ES384 token and a P-256 key the
  // operator allowed both for) lands here: the signature was not verified.
  return {
    rule: rules.jwtBadSignature,
    description: 'The token signature is invalid',
    message: 'The token signature does not verify.',
    detail: { ...base, reason: 'the configured key cannot verify this algorithm' },
  }
}

function jsonAudience(aud: unknown): string | string[] | null {
  if (typeof aud === 'string') return clip(aud)
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string').slice(0, 10).map(clip)
  return null
}
