import type { IncomingHttpHeaders } from 'node:http'
import type { JWTPayload } from 'jose'
import { GatewayError } from '../../core/errors.js'
import type { JsonObject, JsonValue } from '../../core/json.js'
import type { Identity, RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type ConsumerRecord, type Deny, type PolicyDeps, type Verdict } from '../define.js'
import { JwksCache } from './jwks.js'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, algorithmsForPublicKey, createJwtVerifier, tryParsePublicKey, type JwtCheck, type JwtFailure, type TokenHeader, type VerificationKey } from './jwt.js'
import { createKeyChecker, type KeyCheck } from './key.js'
import { rules } from './rules.js'
import { AuthnConfig } from './schema.js'

const REALM = 'gatehouse'
/** Seconds a caller is told to wait after authn.jwks-unavailable (matches the JWKS retry pace). */
const JWKS_RETRY_AFTER_SECONDS = '5'
const MAX_SCOPES = 256
const MAX_CONSUMER_CHARS = 256

type KeyFailure = Extract<KeyCheck, { ok: false }> & { source: string }

/** One failed method, ranked so the most specific one names the denial. */
interface Failure {
  method: 'key' | 'jwt'
  rank: number
  deny: () => Deny
  attempt: JsonObject
}

/**
 * Authentication by API key and/or JWT (`routes[].policies.auth`). On success the request
 * carries an `identity`; otherwise it is refused once with the most specific failure and
 * `detail.attempts` listing every method's outcome. 401s carry one WWW-Authenticate
 * challenge per configured method (RFC 9110 §11.6.1, RFC 6750 §3).
 */
export const authnPolicy = definePolicy({
  name: 'authn',
  configKey: 'auth',
  order: 500,
  schema: AuthnConfig,
  rules,
  compile(config, deps) {
    return compileAuthn(config, deps)
  },
})

function compileAuthn(config: AuthnConfig, deps: PolicyDeps): (ctx: RequestContext) => Verdict | Promise<Verdict> {
  const route = deps.routeName
  const usesKey = config.methods.includes('key')
  const usesJwt = config.methods.includes('jwt')
  const keyHeader = config.key?.header ?? 'x-api-key'
  const keyHeaderLabel = displayHeader(keyHeader)
  // OpenAI-style SDKs send the key as a bearer token; that is unambiguous only when the
  // route does not also expect JWTs there.
  const bearerIsKey = usesKey && !usesJwt
  const checkKey = usesKey ? createKeyChecker(deps.consumers) : undefined
  const jwt = usesJwt ? compileJwt(config, deps) : undefined
  const consumersByName = new Map<string, ConsumerRecord>(deps.consumers.map((c) => [c.name, c]))

  const accepted = config.methods
    .map((m) => (m === 'key' ? `an API key (${keyHeaderLabel} header or Authorization: ApiKey <key>${bearerIsKey ? ' or Authorization: Bearer <key>' : ''})` : 'a bearer token (Authorization: Bearer <JWT>)'))
    .join(' or ')
  const plainChallenges = challengeHeader(config.methods, undefined)
  const missingAttempts: JsonValue[] = config.methods.map((method) => ({ method, result: 'missing' }))

  function denyMissing(unsupportedScheme: string | undefined): Deny {
    return deny(rules.missingCredentials, {
      message: `This route needs ${accepted}.${unsupportedScheme === undefined ? '' : ` The '${unsupportedScheme}' authorization scheme is not accepted.`}`,
      remediation: `The caller sent none of the credentials route '${route}' accepts (${config.methods.join(', ')}). Give it a key (consumers[].keys) or a token from the trusted issuer, and have it send ${accepted}.`,
      detail: unsupportedScheme === undefined ? { attempts: missingAttempts } : { attempts: missingAttempts, unsupportedScheme },
      headers: { 'www-authenticate': plainChallenges },
    })
  }
  // Anonymous traffic is the common failure; its verdict never changes, so build it once.
  const missingVerdict = deepFreeze(denyMissing(undefined))

  function keyFailureEntry(failure: KeyFailure): Failure {
    const reason = failure.reason === 'empty' ? 'is empty' : failure.reason === 'too-long' ? 'is too long' : 'is not valid'
    const attempt: JsonObject = { method: 'key', result: 'invalid', rule: rules.keyInvalid.id, source: failure.source, reason: failure.reason }
    if (failure.keyId !== undefined) attempt.keyId = failure.keyId
    return {
      method: 'key',
      rank: 50,
      attempt,
      deny: () =>
        deny(rules.keyInvalid, {
          message: `The API key sent in ${failure.source} ${reason}.`,
          remediation:
            failure.keyId === undefined
              ? `The caller sent an API key that ${reason}; give it a key listed under consumers[].keys.`
              : `No consumer has the key the caller sent (its sha256 starts with ${failure.keyId}). Check consumers[].keys, and whether the caller uses a key of another environment or a revoked one.`,
          detail: failure.keyId === undefined ? { source: failure.source, reason: failure.reason } : { source: failure.source, reason: failure.reason, keyId: failure.keyId },
        }),
    }
  }

  function jwtFailureEntry(failure: JwtFailure): Failure {
    return {
      method: 'jwt',
      rank: rankOf(failure),
      attempt: { method: 'jwt', result: 'invalid', rule: failure.rule.id, ...failure.detail },
      deny: () =>
        deny(failure.rule, {
          message: failure.message,
          remediation: jwt === undefined ? failure.rule.remedy : jwt.remediationFor(failure),
          detail: { ...failure.detail },
        }),
    }
  }

  function finish(keyFailure: KeyFailure | undefined, jwtCheck: JwtCheck | undefined, unsupportedScheme: string | undefined): Verdict {
    let jwtFailure: JwtFailure | undefined
    if (jwtCheck !== undefined) {
      if (jwtCheck.ok) {
        const identity = identityFromToken(jwtCheck.header, jwtCheck.payload)
        if (!('rule' in identity)) return allow({ identity, detail: { method: 'jwt', consumer: identity.consumer, ...identity.claims } })
        jwtFailure = identity
      } else {
        jwtFailure = jwtCheck.failure
      }
    }
    if (keyFailure === undefined && jwtFailure === undefined) {
      return unsupportedScheme === undefined ? missingVerdict : denyMissing(unsupportedScheme)
    }
    const failures: Failure[] = []
    if (keyFailure !== undefined) failures.push(keyFailureEntry(keyFailure))
    if (jwtFailure !== undefined) failures.push(jwtFailureEntry(jwtFailure))
    let chosen = failures[0]
    for (const failure of failures) if (failure.rank > chosen.rank) chosen = failure
    const verdict = chosen.deny()
    const denial = verdict.denial
    denial.detail = {
      ...denial.detail,
      attempts: config.methods.map((method) => failures.find((f) => f.method === method)?.attempt ?? { method, result: 'missing' }),
    }
    denial.headers =
      denial.status === 401
        ? { 'www-authenticate': challengeHeader(config.methods, jwtFailure) }
        : { 'retry-after': JWKS_RETRY_AFTER_SECONDS }
    return verdict
  }

  function identityFromToken(header: TokenHeader, payload: JWTPayload): Identity | JwtFailure {
    const claimName = config.jwt?.consumerClaim ?? 'sub'
    const name = payload[claimName]
    if (typeof name !== 'string' || name === '' || name.length > MAX_CONSUMER_CHARS) {
      return {
        rule: rules.jwtMissingClaim,
        description: 'The token does not identify its subject',
        message: `The token has no '${claimName}' claim naming who you are.`,
        detail: { alg: header.alg, ...(header.kid === undefined ? {} : { kid: header.kid }), claim: claimName },
      }
    }
    const known = consumersByName.get(name)
    let scopes = readScopes(payload, config.jwt?.scopesClaim ?? 'scope')
    if (known !== undefined && known.scopes.length > 0) scopes = [...new Set([...scopes, ...known.scopes])]
    const tenantClaim = config.jwt?.tenantClaim
    const claimedTenant = tenantClaim === undefined ? undefined : payload[tenantClaim]
    // The operator's consumer entry outranks what the token says about the tenant.
    const tenant = known?.tenant ?? (typeof claimedTenant === 'string' && claimedTenant !== '' ? claimedTenant : undefined)
    const claims: JsonObject = {}
    if (typeof payload.iss === 'string') claims.iss = payload.iss
    if (typeof payload.sub === 'string') claims.sub = payload.sub
    if (typeof payload.aud === 'string' || Array.isArray(payload.aud)) claims.aud = payload.aud
    if (typeof payload.exp === 'number') claims.exp = payload.exp
    if (header.kid !== undefined) claims.kid = header.kid
    return tenant === undefined ? { consumer: name, method: 'jwt', scopes, claims } : { consumer: name, tenant, method: 'jwt', scopes, claims }
  }

  return function evaluateAuthn(ctx: RequestContext): Verdict | Promise<Verdict> {
    const headers = ctx.headers
    let authKey: string | undefined
    let token: string | undefined
    let unsupportedScheme: string | undefined
    const authorization = headers.authorization
    if (authorization !== undefined && authorization !== '') {
      const space = authorization.indexOf(' ')
      const scheme = space === -1 ? authorization : authorization.slice(0, space)
      const credentials = space === -1 ? '' : authorization.slice(space + 1).trim()
      // Auth schemes are case-insensitive (RFC 9110 §11.1).
      const lower = scheme.toLowerCase()
      if (lower === 'apikey' && usesKey) authKey = credentials
      else if (lower === 'bearer' && usesJwt) token = credentials
      else if (lower === 'bearer' && bearerIsKey) authKey = credentials
      else unsupportedScheme = scheme.length > 32 ? `${scheme.slice(0, 32)}…` : scheme
    }

    let keyFailure: KeyFailure | undefined
    if (checkKey !== undefined) {
      const fromHeader = headerString(headers, keyHeader)
      if (fromHeader !== undefined) {
        const result = checkKey(fromHeader)
        if (result.ok) return result.verdict
        keyFailure = { ...result, source: keyHeaderLabel }
      }
      if (authKey !== undefined) {
        const result = checkKey(authKey)
        if (result.ok) return result.verdict
        keyFailure ??= { ...result, source: 'Authorization' }
      }
    }

    if (token !== undefined && jwt !== undefined) {
      const check = jwt.verify(token)
      if (check instanceof Promise) return check.then((resolved) => finish(keyFailure, resolved, unsupportedScheme))
      return finish(keyFailure, check, unsupportedScheme)
    }
    if (keyFailure === undefined && unsupportedScheme === undefined) return missingVerdict
    return finish(keyFailure, undefined, unsupportedScheme)
  }
}

interface CompiledJwt {
  verify: (token: string) => JwtCheck | Promise<JwtCheck>
  remediationFor: (failure: JwtFailure) => string
}

function compileJwt(config: AuthnConfig, deps: PolicyDeps): CompiledJwt {
  const options = config.jwt
  const where = `auth.jwt on route '${deps.routeName}'`
  if (options === undefined) throw new GatewayError('config.compile', `${where}: methods includes 'jwt' but no jwt options are given`)
  let key: VerificationKey
  let algorithms: readonly string[]
  let keySource: string
  if (options.secret !== undefined) {
    key = { kind: 'secret', secret: resolveSecret(options.secret, where, deps.env) }
    algorithms = HMAC_ALGORITHMS
    keySource = 'jwt.secret'
  } else if (options.publicKey !== undefined) {
    const parsed = tryParsePublicKey(options.publicKey)
    if (!parsed.ok) throw new GatewayError('config.compile', `${where}: publicKey ${parsed.message}`)
    key = { kind: 'public', key: parsed.key }
    algorithms = algorithmsForPublicKey(parsed.key)
    keySource = 'jwt.publicKey'
  } else if (options.jwksUrl !== undefined) {
    // The cache lives in deps.shared so a config reload keeps the fetched keys and the
    // rotation cooldown instead of refetching on every reload.
    const sharedKey = `authn:jwks:${options.jwksUrl}`
    const cacheOptions = {
      url: options.jwksUrl,
      clock: deps.clock,
      cacheSeconds: options.jwksCacheSeconds,
      cooldownSeconds: options.jwksCooldownSeconds,
    }
    let cache = deps.shared.get(sharedKey)
    if (cache instanceof JwksCache) cache.configure(cacheOptions)
    else {
      cache = new JwksCache(cacheOptions)
      deps.shared.set(sharedKey, cache)
    }
    key = { kind: 'jwks', jwks: cache as JwksCache }
    algorithms = ASYMMETRIC_ALGORITHMS
    keySource = 'jwt.jwksUrl'
  } else {
    throw new GatewayError('config.compile', `${where}: give exactly one of jwt.secret, jwt.publicKey or jwt.jwksUrl`)
  }
  if (options.algorithms !== undefined) algorithms = options.algorithms

  const verify = createJwtVerifier({
    key,
    algorithms,
    issuer: options.issuer,
    audience: options.audience,
    clockSkewSeconds: options.clockSkewSeconds,
    requireExpiration: options.requireExpiration,
    clock: deps.clock,
  })

  const skew = `auth.jwt.clockSkewSeconds (${options.clockSkewSeconds} s)`
  function remediationFor(failure: JwtFailure): string {
    const d = failure.detail
    switch (failure.rule.id) {
      case rules.jwtExpired.id:
        return `The caller must refresh its token (it expired ${String(d.expiredSecondsAgo)} s ago). Tolerance for clock drift is ${skew}.`
      case rules.jwtNotYetValid.id:
        return `The token becomes valid in ${String(d.validInSeconds)} s: check the clock of the issuer or the gateway, or raise ${skew}.`
      case rules.jwtWrongIssuer.id:
        return `The token's iss is ${JSON.stringify(d.iss)}; ${where} trusts ${list(options?.issuer)}. Add the issuer to auth.jwt.issuer if it is trusted.`
      case rules.jwtWrongAudience.id:
        return `The token's aud is ${JSON.stringify(d.aud)}; ${where} accepts ${list(options?.audience)}. The caller must request a token for this API, or add its audience to auth.jwt.audience.`
      case rules.jwtBadSignature.id:
        return `The token was not signed by the key in ${keySource} (${where}). Check that the caller's issuer matches that key${key.kind === 'jwks' ? ' and the JWKS' : ''}.`
      case rules.jwtUnknownKey.id:
        return `kid ${JSON.stringify(d.kid ?? null)} is not in the JWKS at ${options?.jwksUrl ?? '?'}${d.jwksRefetched === true ? ' even after a refetch' : ` (refetches are limited to one per ${options?.jwksCooldownSeconds ?? 30} s)`}. The issuer may not have published a rotated key yet, or the token comes from another issuer.`
      case rules.jwtAlgorithmNotAllowed.id:
        return `The token uses ${JSON.stringify(d.alg)}; ${where} accepts ${algorithms.join(', ')} (auth.jwt.algorithms, and the kind of key in ${keySource}).`
      case rules.jwtMissingClaim.id:
        return `Tokens must carry a string '${options?.consumerClaim ?? 'sub'}' claim naming the consumer (auth.jwt.consumerClaim).`
      case rules.jwksUnavailable.id:
        return `Fetching the JWKS at ${options?.jwksUrl ?? '?'} failed: ${String(d.jwksError)}. Check the URL and that the gateway can reach it; tokens are refused until it can.`
      default:
        return `The caller's bearer token is not a JWT (${String(d.reason)}). If it sends an API key there, it should use 'Authorization: ApiKey <key>' instead.`
    }
  }
  return { verify, remediationFor }
}

/** `env:NAME` secrets are read once per config load; a missing variable stops the load. */
function resolveSecret(secret: string, where: string, env: Record<string, string | undefined>): Uint8Array {
  if (!secret.startsWith('env:')) return Buffer.from(secret, 'utf8')
  const name = secret.slice(4)
  const value = env[name]
  if (value === undefined || value === '') {
    throw new GatewayError('config.compile', `${where}: environment variable ${name} (jwt.secret) is not set`, {
      remediation: `Set ${name} to the HMAC secret the issuer signs tokens with.`,
    })
  }
  return Buffer.from(value, 'utf8')
}

/**
 * Failures that prove more about the caller rank higher: a token whose signature verified
 * but is expired says more than a key that matched nobody, which says more than garbage.
 * An unreachable JWKS outranks all: the caller may be fine, so 503 beats a 401.
 */
function rankOf(failure: JwtFailure): number {
  switch (failure.rule.id) {
    case rules.jwksUnavailable.id:
      return 100
    case rules.jwtExpired.id:
    case rules.jwtNotYetValid.id:
    case rules.jwtWrongIssuer.id:
    case rules.jwtWrongAudience.id:
    case rules.jwtMissingClaim.id:
      return 80
    case rules.jwtMalformed.id:
      return 40
    default:
      return 60
  }
}

/**
 * One challenge per configured method, in config order (RFC 9110 §11.6.1). The Bearer
 * challenge carries `error="invalid_token"` only when a token was presented and refused
 * (RFC 6750 §3.1: no error code when the request had no credentials).
 */
function challengeHeader(methods: readonly ('key' | 'jwt')[], jwtFailure: JwtFailure | undefined): string {
  return methods
    .map((method) => {
      if (method === 'key') return `ApiKey realm="${REALM}"`
      if (jwtFailure === undefined) return `Bearer realm="${REALM}"`
      return `Bearer realm="${REALM}", error="invalid_token", error_description="${jwtFailure.description}"`
    })
    .join(', ')
}

function readScopes(payload: JWTPayload, claim: string): string[] {
  let value = payload[claim]
  // Azure AD and others use `scp`; read it when the default claim is absent.
  if (value === undefined && claim === 'scope') value = payload.scp
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '').slice(0, MAX_SCOPES)
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s !== '').slice(0, MAX_SCOPES)
  return []
}

function headerString(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  if (value === undefined) return undefined
  return typeof value === 'string' ? value.trim() : value.join(', ')
}

function displayHeader(lower: string): string {
  return lower
    .split('-')
    .map((part) => (part.length <= 3 && part !== 'key' ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('-')
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

function list(value: string | string[] | undefined): string {
  if (value === undefined) return 'any value'
  return (Array.isArray(value) ? value : [value]).map((v) => `'${v}'`).join(', ')
}
