import { z } from 'zod'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, SUPPORTED_ALGORITHMS, algorithmsForPublicKey, tryParsePublicKey } from './jwt.js'

/** HTTP field-name characters (RFC 9110 §5.1 token). Linear: one character class. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const ENV_REF = /^env:[A-Za-z_][A-Za-z0-9_]*$/
/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output (32 bytes for HS256). */
const MIN_SECRET_BYTES = 32

const StringOrList = (what: string) =>
  z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional().describe(what)

const KeyOptions = z
  .strictObject({
    header: z
      .string()
      .regex(HEADER_NAME, { error: 'must be an HTTP header name (letters, digits and -)' })
      .transform((name) => name.toLowerCase())
      .default('x-api-key')
      .describe(
        "Request header that carries the API key, matched case-insensitively. Default 'x-api-key'. " +
          "'Authorization: ApiKey <key>' is always accepted too, and 'Authorization: Bearer <key>' when 'jwt' is not among the methods.",
      ),
  })
  .optional()
  .describe('Options for API-key authentication. Keys themselves are configured under consumers[].keys.')

const JwtOptions = z
  .strictObject({
    issuer: StringOrList(
      "Issuer (iss claim) the route trusts, or a list of them. When set, tokens without a matching iss are refused with authn.jwt-wrong-issuer. Not checked when omitted.",
    ),
    audience: StringOrList(
      'Audience (aud claim) this API answers to, or a list; a token must name at least one. Not checked when omitted, which lets tokens minted for other APIs of the same issuer in.',
    ),
    algorithms: z
      .array(z.enum(SUPPORTED_ALGORITHMS as [string, ...string[]]))
      .min(1)
      .optional()
      .describe(
        "JWS algorithms accepted in the token's alg header. Default: HS256, HS384 and HS512 with 'secret'; the algorithms that fit the key with 'publicKey'; every public-key algorithm (RS*, PS*, ES*, EdDSA) with 'jwksUrl'. 'none' is never accepted.",
      ),
    secret: z
      .string()
      .min(1)
      .optional()
      // `secret: true` marks the field for redaction wherever config is shown (admin API).
      .meta({
        secret: true,
        description: `Shared secret for HS256/384/512 tokens, either literally (at least ${MIN_SECRET_BYTES} characters) or as 'env:NAME' to read it from an environment variable at load time. Exactly one of secret, publicKey and jwksUrl is required when methods includes 'jwt'.`,
      }),
    publicKey: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Public key that verifies RS*, PS*, ES* or EdDSA tokens: a PEM (SPKI "BEGIN PUBLIC KEY" or an X.509 certificate) or a public JWK as JSON. Private keys are refused.',
      ),
    jwksUrl: z
      .string()
      .optional()
      .describe(
        "URL of the issuer's JSON Web Key Set (for example https://issuer.example.com/.well-known/jwks.json). Keys are picked by the token's kid. Must be https, except for loopback hosts (127.0.0.1, ::1, localhost). If it cannot be fetched, tokens are refused with 503 authn.jwks-unavailable.",
      ),
    clockSkewSeconds: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(30)
      .describe('Seconds of clock difference tolerated when checking exp and nbf. Default 30.'),
    jwksCacheSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .describe('Seconds a fetched JWKS is used before it is fetched again. Default 600 (10 minutes).'),
    jwksCooldownSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(30)
      .describe(
        'Minimum seconds between two JWKS fetches caused by a token whose kid is unknown, so key rotation is picked up without a restart but random kids cannot make the gateway hammer the issuer. Default 30.',
      ),
    requireExpiration: z
      .boolean()
      .default(true)
      .describe('When true (the default), tokens without an exp claim are refused as malformed, because a token that never expires cannot be revoked by waiting.'),
    scopesClaim: z
      .string()
      .min(1)
      .default('scope')
      .describe(
        "Claim that carries the token's scopes, as a space-separated string or an array of strings. Default 'scope'; with the default, 'scp' is read when 'scope' is absent.",
      ),
    consumerClaim: z
      .string()
      .min(1)
      .default('sub')
      .describe("Claim that names the consumer. Default 'sub'. When a configured consumer has that name, its tenant and scopes are added to the token's."),
    tenantClaim: z
      .string()
      .min(1)
      .optional()
      .describe("Claim that names the consumer's tenant. Unset by default; a configured consumer's tenant takes precedence over the claim."),
  })
  .optional()
  .describe('Options for JSON Web Token (bearer) authentication. Required when methods includes jwt.')

/**
 * `routes[].policies.auth`: which credentials a route accepts. Cross-field rules: 'jwt'
 * needs exactly one of secret/publicKey/jwksUrl, and the algorithms must fit that key.
 */
export const AuthnConfig = z
  .strictObject({
    methods: z
      .array(z.enum(['key', 'jwt']))
      .min(1, { error: "list at least one method: 'key' or 'jwt'" })
      .describe("Accepted credentials, tried in this order: 'key' (API key of a configured consumer) and/or 'jwt' (signed bearer token). At least one."),
    key: KeyOptions,
    jwt: JwtOptions,
  })
  .superRefine((config, ctx) => {
    const usesJwt = config.methods.includes('jwt')
    if (new Set(config.methods).size !== config.methods.length) {
      ctx.addIssue({ code: 'custom', path: ['methods'], message: 'each method may be listed once' })
    }
    if (config.key !== undefined && !config.methods.includes('key')) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: "key options are set but methods does not include 'key'" })
    }
    if (!usesJwt) {
      if (config.jwt !== undefined) ctx.addIssue({ code: 'custom', path: ['jwt'], message: "jwt options are set but methods does not include 'jwt'" })
      return
    }
    const jwt = config.jwt
    const given = jwt === undefined ? [] : (['secret', 'publicKey', 'jwksUrl'] as const).filter((field) => jwt[field] !== undefined)
    if (jwt === undefined || given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: jwt === undefined ? ['methods'] : ['jwt'],
        message:
          given.length === 0
            ? "methods includes 'jwt', so give exactly one of jwt.secret, jwt.publicKey or jwt.jwksUrl"
            : `give exactly one of jwt.secret, jwt.publicKey or jwt.jwksUrl, not ${given.map((f) => `jwt.${f}`).join(' and ')}`,
      })
      return
    }
    let fitting: readonly string[] = ASYMMETRIC_ALGORITHMS
    if (jwt.secret !== undefined) {
      fitting = HMAC_ALGORITHMS
      if (!ENV_REF.test(jwt.secret) && Buffer.byteLength(jwt.secret) < MIN_SECRET_BYTES) {
        ctx.addIssue({ code: 'custom', path: ['jwt', 'secret'], message: `an HMAC secret must be at least ${MIN_SECRET_BYTES} bytes (RFC 7518 §3.2); or use 'env:NAME'` })
      }
    }
    if (jwt.publicKey !== undefined) {
      const parsed = tryParsePublicKey(jwt.publicKey)
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', path: ['jwt', 'publicKey'], message: parsed.message })
        return
      }
      fitting = algorithmsForPublicKey(parsed.key)
      if (fitting.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['jwt', 'publicKey'], message: `key type '${parsed.key.asymmetricKeyType ?? 'unknown'}' cannot verify any supported algorithm` })
        return
      }
    }
    if (jwt.jwksUrl !== undefined) {
      const problem = checkJwksUrl(jwt.jwksUrl)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['jwt', 'jwksUrl'], message: problem })
    }
    jwt.algorithms?.forEach((alg, i) => {
      if (!fitting.includes(alg)) {
        const source = jwt.secret !== undefined ? 'jwt.secret' : jwt.publicKey !== undefined ? 'jwt.publicKey' : 'jwt.jwksUrl'
        ctx.addIssue({ code: 'custom', path: ['jwt', 'algorithms', i], message: `'${alg}' cannot be verified with ${source}; it accepts ${fitting.join(', ')}` })
      }
    })
  })
  .describe("Authenticates the caller by API key and/or JWT. Missing or bad credentials are refused with 401 and a WWW-Authenticate challenge.")

export type AuthnConfig = z.output<typeof AuthnConfig>

function checkJwksUrl(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URL such as https://issuer.example.com/.well-known/jwks.json'
  }
  if (url.protocol === 'https:') return undefined
  if (url.protocol !== 'http:') return 'must be an https URL'
  // Plain http lets anyone on the path swap the keys; only loopback (tests, sidecars) is exempt.
  const host = url.hostname
  if (host === 'localhost' || host === '[::1]' || host.startsWith('127.')) return undefined
  return 'must be https (plain http is accepted only for loopback hosts): keys fetched over http can be replaced in transit'
}
