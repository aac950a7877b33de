import { z } from 'zod'
import { tryParsePasswordHash } from './basic.js'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, SUPPORTED_ALGORITHMS, algorithmsForPublicKey, tryParsePublicKey } from './jwt.js'
import { AUTH_METHODS } from './method.js'

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

/** Realm text goes inside a quoted challenge parameter: no quotes, backslashes or controls. */
const REALM_TEXT = /^[ !#-[\]-~]{1,64}$/
/** Colon-separated (or plain) hex SHA-256 fingerprint: 32 bytes. */
const FINGERPRINT = /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/
const SIGNED_HEADER = /^(\(request-target\)|[!#$%&'*+.^_`|~0-9a-z-]+)$/
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/

const secretField = (description: string) =>
  z
    .string()
    .min(1)
    // `secret: true` marks the field for redaction wherever config is shown (admin API).
    .meta({ secret: true, description })

const BasicOptions = z
  .strictObject({
    realm: z
      .string()
      .regex(REALM_TEXT, { error: 'must be 1 to 64 printable characters without quotes or backslashes' })
      .default('gatehouse')
      .describe('Realm named in the Basic challenge (WWW-Authenticate: Basic realm="...", charset="UTF-8"); browsers show it in their login prompt. Default gatehouse.'),
    cacheSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(60)
      .describe(
        'Seconds a successful password check is remembered in memory (under a keyed hash of user and password, never the password), so a busy client does not pay for password hashing on every request. 0 turns it off. Default 60; a changed or removed user takes effect at the next config load regardless.',
      ),
    maxConcurrentChecks: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(16)
      .describe(
        'Most password checks (hash computations) running at once for this route; beyond it, new logins are refused with 503 authn.basic-busy instead of queueing, so a flood of guesses cannot stall the gateway. Logins found in the cache are never refused. Default 16.',
      ),
    users: z
      .array(
        z
          .strictObject({
            username: z
              .string()
              .min(1)
              .max(128)
              .refine((u) => !u.includes(':'), { error: "a user name cannot contain ':' (RFC 7617)" })
              .describe('User name the caller sends, compared exactly (case-sensitive).'),
            password: z
              .string()
              .min(1)
              .meta({
                secret: true,
                description:
                  "Hash of the user's password, never the password itself: 'scrypt$N$r$p$<salt base64>$<hash base64>' (node:crypto scrypt), a bcrypt hash ('$2b$...') or an argon2 PHC string ('$argon2id$...'). Make an scrypt one with: node -e \"const c=require('crypto'),s=c.randomBytes(16);console.log('scrypt$16384$8$1$'+s.toString('base64')+'$'+c.scryptSync(process.argv[1],s,32).toString('base64'))\" 'the password' (or call hashPassword() from src/policies/authn/basic.ts). bcrypt only looks at the first 72 bytes of a password.",
              }),
            consumer: z.string().min(1).describe('Name of the configured consumer (consumers[].name) this user authenticates as; its tenant and scopes apply.'),
          })
          .describe('One user allowed to sign in with HTTP Basic.'),
      )
      .min(1)
      .describe('Users who may authenticate with HTTP Basic (RFC 7617), each mapped to a consumer. Unknown users take as long to refuse as wrong passwords, so response times do not reveal which names exist.'),
  })
  .optional()
  .describe("Options for HTTP Basic authentication (Authorization: Basic). Required when methods includes 'basic'. Send Basic only over HTTPS: the password travels in every request.")

const HmacOptions = z
  .strictObject({
    keys: z
      .array(
        z
          .strictObject({
            id: z.string().min(1).max(256).describe('Key id the caller puts in keyId="...".'),
            secret: secretField(`Shared HMAC-SHA256 secret of this key, literally (at least ${MIN_SECRET_BYTES} characters) or as 'env:NAME' to read it from an environment variable at load time.`),
            consumer: z.string().min(1).describe('Name of the configured consumer (consumers[].name) requests signed with this key authenticate as.'),
          })
          .describe('One signing key.'),
      )
      .min(1)
      .describe('Keys that may sign requests, each mapped to a consumer.'),
    clockSkewSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(300)
      .describe('Largest difference in seconds between the signed Date header and the gateway clock; older (or future) signed requests are refused with authn.hmac-clock-skew, which limits how long a captured request can be replayed. Default 300.'),
    requiredHeaders: z
      .array(z.string().transform((h) => h.toLowerCase()).pipe(z.string().regex(SIGNED_HEADER, { error: "must be a header name or '(request-target)'" })))
      .min(1)
      .default(['(request-target)', 'host', 'date'])
      .describe(
        "Headers every signature must cover, in lower case; '(request-target)' stands for the method and path. Must include date. Default (request-target), host and date. Requests with a body must in addition sign a Digest (RFC 3230) or Content-Digest (RFC 9530) header, which is checked against the body.",
      ),
  })
  .optional()
  .describe(
    "Options for HMAC-signed requests ('Authorization: Signature keyId=\"..\",algorithm=\"hmac-sha256\",headers=\"..\",signature=\"..\"', as in draft-cavage-http-signatures-12; a 'Signature:' header is accepted too). Required when methods includes 'hmac'. The signing string is one 'name: value' line per signed header, joined by newlines.",
  )

const SessionOptions = z
  .strictObject({
    cookie: z
      .string()
      .regex(COOKIE_NAME, { error: 'must be a cookie name (letters, digits and !#$%&\'*+-.^_`|~)' })
      .default('gh_session')
      .describe('Name of the session cookie. Default gh_session.'),
    secret: secretField(
      `Secret that signs session cookies (HMAC-SHA256), literally (at least ${MIN_SECRET_BYTES} characters) or as 'env:NAME'. The cookie value is base64url(JSON {sub, tenant?, scopes?, exp, iat?}) + '.' + base64url(HMAC of the first part); signSession() in src/policies/authn/session.ts makes one.`,
    ),
    previousSecrets: z
      .array(secretField('A secret that signed sessions before the current one, in the same form as secret.'))
      .max(4)
      .optional()
      .describe('Earlier secrets whose cookies are still accepted, so the secret can be rotated without signing everyone out. Remove them once those sessions have expired.'),
    maxAgeSeconds: z
      .number()
      .int()
      .min(60)
      .max(31_536_000)
      .default(86_400)
      .describe("Longest a session lives, in seconds, counted from its iat (when the cookie carries one); its exp applies in any case. Default 86400 (one day)."),
  })
  .optional()
  .describe(
    "Options for signed session cookies. Required when methods includes 'session'. The identity's method is 'session', which the csrf layer uses to know the request rides on a cookie. When session is the route's only method, 401s carry a 'Session realm=\"gatehouse\"' challenge, since HTTP defines no scheme for cookies and every 401 needs one.",
  )

const IntrospectionOptions = z
  .strictObject({
    url: z
      .string()
      .describe("Introspection endpoint of the authorization server (RFC 7662), for example https://id.example.com/oauth2/introspect. Must be https, except for loopback hosts (127.0.0.1, ::1, localhost)."),
    clientId: z.string().min(1).describe("Client id the gateway authenticates to the endpoint with (HTTP Basic, RFC 6749 §2.3.1)."),
    clientSecret: secretField("Client secret for clientId, literally or as 'env:NAME' to read it from an environment variable at load time."),
    cacheSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(60)
      .describe(
        "Seconds an answer is reused for the same token (stored under the token's sha256, never the token). Active answers are never kept past the token's exp; inactive answers are kept too, so a flood of bad tokens does not become a flood of introspection calls. 0 asks every time. Default 60; a revoked token may keep working this long.",
      ),
    timeoutMs: z
      .number()
      .int()
      .min(50)
      .max(30_000)
      .default(2000)
      .describe('Milliseconds to wait for the endpoint. On timeout, an error status or an unreadable answer, tokens are refused with 503 authn.introspection-unavailable (fail closed). Default 2000.'),
  })
  .optional()
  .describe(
    "Options for opaque bearer tokens checked with the authorization server (RFC 7662). Required when methods includes 'introspection'. With 'jwt' also listed, tokens shaped like a JWT are verified locally and the others are introspected. The consumer is the answer's sub, else client_id, else username; scopes come from its scope.",
  )

const MtlsOptions = z
  .strictObject({
    consumers: z
      .array(
        z
          .strictObject({
            subject: z
              .string()
              .min(3)
              .regex(/^[A-Za-z0-9.]+=/, { error: "must look like 'CN=name' or 'CN=name,O=org'" })
              .optional()
              .describe("Subject attributes the certificate must have, as 'CN=orders-client' or 'CN=orders-client,O=Acme'; every attribute listed must equal the certificate's."),
            fingerprint256: z
              .string()
              .regex(FINGERPRINT, { error: "must be a SHA-256 fingerprint: 32 hex bytes, colon-separated ('AB:CD:...') or not" })
              .optional()
              .describe("SHA-256 fingerprint of the certificate (openssl x509 -noout -fingerprint -sha256 prints it), case and colons ignored."),
            san: z
              .string()
              .regex(/^(DNS|URI|IP Address|email):.+/, { error: "must start with DNS:, URI:, IP Address: or email:" })
              .optional()
              .describe("A subject alternative name the certificate must carry, as Node prints it: 'URI:spiffe://example.org/ns/prod/sa/orders', 'DNS:orders.internal' or 'email:ops@example.com'."),
            consumer: z.string().min(1).describe('Name of the configured consumer (consumers[].name) a matching certificate authenticates as.'),
          })
          .refine((e) => e.subject !== undefined || e.fingerprint256 !== undefined || e.san !== undefined, {
            error: 'give at least one of subject, fingerprint256 or san',
          })
          .describe('Maps certificates to a consumer; every criterion given must match. The first matching entry wins.'),
      )
      .min(1)
      .describe('Which verified client certificates are which consumer.'),
  })
  .optional()
  .describe(
    "Options for TLS client-certificate (mTLS) authentication. Required when methods includes 'mtls'; needs tls.ca and tls.requestCert on the listener, which verifies the chain. 401s carry a 'Mutual realm=\"gatehouse\"' challenge (the scheme name of RFC 8120) when no other method offers one.",
  )

/**
 * `routes[].policies.auth`: which credentials a route accepts. Cross-field rules: 'jwt'
 * needs exactly one of secret/publicKey/jwksUrl, and the algorithms must fit that key.
 */
export const AuthnConfig = z
  .strictObject({
    hideCredentials: z
      .boolean()
      .default(false)
      .describe("Remove the credential headers (Authorization, the API key header, Signature) before the request goes upstream, so the gateway's keys and tokens never reach the service behind it. Default false, as in Kong and APISIX, because some upstreams read the JWT themselves. Session cookies and client certificates are left as they are."),
    methods: z
      .array(z.enum(AUTH_METHODS))
      .min(1, { error: `list at least one method: ${AUTH_METHODS.map((m) => `'${m}'`).join(', ')}` })
      .describe(
        "Accepted credentials; the first that proves who the caller is wins: 'key' (API key of a configured consumer), 'jwt' (signed bearer token), 'basic' (user and password, RFC 7617), 'hmac' (HMAC-signed request), 'session' (signed session cookie), 'introspection' (opaque bearer token checked with the authorization server, RFC 7662) and 'mtls' (TLS client certificate). At least one.",
      ),
    key: KeyOptions,
    jwt: JwtOptions,
    basic: BasicOptions,
    hmac: HmacOptions,
    session: SessionOptions,
    introspection: IntrospectionOptions,
    mtls: MtlsOptions,
  })
  .superRefine((config, ctx) => {
    const usesJwt = config.methods.includes('jwt')
    if (new Set(config.methods).size !== config.methods.length) {
      ctx.addIssue({ code: 'custom', path: ['methods'], message: 'each method may be listed once' })
    }
    checkOtherMethods(config, (path, message) => ctx.addIssue({ code: 'custom', path, message }))
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
  .describe(
    'Authenticates the caller by API key, JWT, HTTP Basic, signed request, session cookie, token introspection and/or client certificate. Missing or bad credentials are refused with 401 and a WWW-Authenticate challenge; an unreachable JWKS or introspection endpoint with 503.',
  )

export type AuthnConfig = z.output<typeof AuthnConfig>

type AddIssue = (path: (string | number)[], message: string) => void

/** Cross-field checks of the methods beyond key and jwt: options present exactly when listed. */
function checkOtherMethods(config: z.output<typeof AuthnConfig>, addIssue: AddIssue): void {
  for (const method of ['basic', 'hmac', 'session', 'introspection', 'mtls'] as const) {
    const listed = config.methods.includes(method)
    if (listed && config[method] === undefined) addIssue(['methods'], `methods includes '${method}', so give ${method} options (auth.${method})`)
    if (!listed && config[method] !== undefined) addIssue([method], `${method} options are set but methods does not include '${method}'`)
  }
  const basic = config.basic
  if (basic !== undefined) {
    const seen = new Set<string>()
    basic.users.forEach((user, i) => {
      if (seen.has(user.username)) addIssue(['basic', 'users', i, 'username'], `user '${user.username}' is listed twice`)
      seen.add(user.username)
      const parsed = tryParsePasswordHash(user.password)
      if (!parsed.ok) addIssue(['basic', 'users', i, 'password'], parsed.message)
    })
  }
  const hmac = config.hmac
  if (hmac !== undefined) {
    const seen = new Set<string>()
    hmac.keys.forEach((key, i) => {
      if (seen.has(key.id)) addIssue(['hmac', 'keys', i, 'id'], `key id '${key.id}' is listed twice`)
      seen.add(key.id)
      checkSecret(key.secret, ['hmac', 'keys', i, 'secret'], addIssue)
    })
    // Without a signed Date, a captured request could be replayed forever.
    if (!hmac.requiredHeaders.includes('date')) addIssue(['hmac', 'requiredHeaders'], "must include 'date': the signed Date is what limits replays")
  }
  const session = config.session
  if (session !== undefined) {
    checkSecret(session.secret, ['session', 'secret'], addIssue)
    session.previousSecrets?.forEach((secret, i) => checkSecret(secret, ['session', 'previousSecrets', i], addIssue))
  }
  if (config.introspection !== undefined) {
    const problem = checkEndpointUrl(config.introspection.url, 'https://id.example.com/oauth2/introspect')
    if (problem !== undefined) addIssue(['introspection', 'url'], problem)
  }
}

function checkSecret(secret: string, path: (string | number)[], addIssue: AddIssue): void {
  if (!ENV_REF.test(secret) && Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    addIssue(path, `an HMAC secret must be at least ${MIN_SECRET_BYTES} bytes; or use 'env:NAME'`)
  }
}

function checkJwksUrl(value: string): string | undefined {
  return checkEndpointUrl(value, 'https://issuer.example.com/.well-known/jwks.json')
}

function checkEndpointUrl(value: string, example: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `must be an absolute URL such as ${example}`
  }
  if (url.protocol === 'https:') return undefined
  if (url.protocol !== 'http:') return 'must be an https URL'
  // Plain http lets anyone on the path swap the keys; only loopback (tests, sidecars) is exempt.
  const host = url.hostname
  if (host === 'localhost' || host === '[::1]' || host.startsWith('127.')) return undefined
  return 'must be https (plain http is accepted only for loopback hosts): answers fetched over http can be forged in transit'
}
