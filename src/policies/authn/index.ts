import type { IncomingHttpHeaders } from 'node:http'
import type { JWTPayload } from 'jose'
import { GatewayError } from '../../core/errors.js'
import type { JsonObject, JsonValue } from '../../core/json.js'
import type { Identity, RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, deny, type Allow, type ConsumerRecord, type Deny, type PolicyDeps, type Verdict } from '../define.js'
import { compileBasic } from './basic.js'
import { compileHmac } from './hmac.js'
import { compileIntrospection, looksLikeJwt } from './introspection.js'
import { JwksCache } from './jwks.js'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, algorithmsForPublicKey, createJwtVerifier, tryParsePublicKey, type JwtCheck, type JwtFailure, type TokenHeader, type VerificationKey } from './jwt.js'
import { createKeyChecker, type KeyCheck } from './key.js'
import { isPromise, noAuthorization, type AuthMethod, type AuthorizationParts, type MethodCheck, type MethodFailure, type MethodOutcome } from './method.js'
import { compileMtls } from './mtls.js'
import { rules } from './rules.js'
import { AuthnConfig } from './schema.js'
import { compileSession } from './session.js'

const REALM = 'gatehouse'
/** Seconds a caller is told to wait after a 503 (matches the JWKS retry pace). */
const JWKS_RETRY_AFTER_SECONDS = '5'
const MAX_SCOPES = 256
const MAX_CONSUMER_CHARS = 256

type KeyFailure = Extract<KeyCheck, { ok: false }> & { source: string }

/** One failed method, ranked so the most specific one names the denial. */
interface Failure {
  kind: 'failure'
  method: AuthMethod
  rank: number
  deny: () => Deny
  attempt: JsonObject
  /** RFC 6750 error_description when a bearer token was refused. */
  bearerError?: string
}

type Outcome = Allow | Failure | undefined

/** A configured method, compiled: reads the request and says allow, fail or not presented. */
interface Handler {
  method: AuthMethod
  check: (ctx: RequestContext, authorization: AuthorizationParts) => Outcome | Promise<Outcome>
}

/**
 * Authentication by API key, JWT, HTTP Basic, HMAC-signed request, session cookie, token
 * introspection and/or TLS client certificate (`routes[].policies.auth`). On success the
 * request carries an `identity`; otherwise it is refused once with the most specific
 * failure and `detail.attempts` listing every method's outcome. 401s carry one
 * WWW-Authenticate challenge per configured HTTP scheme (RFC 9110 §11.6.1, RFC 6750 §3).
 */
export const authnPolicy = definePolicy({
  name: 'authn',
  configKey: 'auth',
  order: 500,
  schema: AuthnConfig,
  rules,
  // A signed request's digest is checked against the body, so the pipeline must buffer it.
  needsBody: (config) => config.methods.includes('hmac'),
  lint(config, route) {
    const findings: { path: (string | number)[]; message: string }[] = []
    const session = config.methods.indexOf('session')
    // Browsers attach cookies to cross-site requests too; without the csrf layer, any site
    // the user visits can make authenticated calls.
    if (session !== -1 && route.policies.csrf === undefined) {
      findings.push({ path: ['methods', session], message: "authenticates by session cookie but the route has no 'csrf' policy: other sites can make requests with the user's cookie" })
    }
    const required = config.hmac?.requiredHeaders
    if (required !== undefined) {
      if (!required.includes('(request-target)')) findings.push({ path: ['hmac', 'requiredHeaders'], message: "does not include '(request-target)': a signed request could be replayed against another method or path within clockSkewSeconds" })
      if (!required.includes('host')) findings.push({ path: ['hmac', 'requiredHeaders'], message: "does not include 'host': a signed request could be replayed against another host that trusts the same key" })
    }
    return findings
  },
  compile(config, deps) {
    return compileAuthn(config, deps)
  },
})

function compileAuthn(config: AuthnConfig, deps: PolicyDeps): (ctx: RequestContext) => Verdict | Promise<Verdict> {
  const route = deps.routeName
  const where = `auth on route '${route}'`
  const methods = config.methods
  const usesKey = methods.includes('key')
  const usesJwt = methods.includes('jwt')
  const usesIntrospection = methods.includes('introspection')
  const keyHeader = config.key?.header ?? 'x-api-key'
  const keyHeaderLabel = displayHeader(keyHeader)
  // OpenAI-style SDKs send the key as a bearer token; that is unambiguous only when the
  // route does not also expect tokens there.
  const bearerIsKey = usesKey && !usesJwt && !usesIntrospection
  const checkKey = usesKey ? createKeyChecker(deps.consumers) : undefined
  const jwt = usesJwt ? compileJwt(config, deps) : undefined
  const consumersByName = new Map<string, ConsumerRecord>(deps.consumers.map((c) => [c.name, c]))

  // The schema already requires these; this guards compile() called with an unparsed config.
  for (const method of ['basic', 'hmac', 'session', 'introspection', 'mtls'] as const) {
    if (methods.includes(method) && config[method] === undefined) throw new GatewayError('config.compile', `${where}: methods includes '${method}' but no ${method} options are given`)
  }
  const challenges: Partial<Record<AuthMethod, string>> = {}
  const handlers: Handler[] = []
  const asyncHandlers: Handler[] = []
  // Cheap, synchronous methods run first so a good credential never waits for hashing or I/O.
  if (usesKey) handlers.push({ method: 'key', check: checkKeys })
  if (config.mtls !== undefined && methods.includes('mtls')) handlers.push(wrap('mtls', compileMtls(config.mtls, consumersByName, where).check))
  if (config.session !== undefined && methods.includes('session')) handlers.push(wrap('session', compileSession(config.session, deps.clock, consumersByName, deps.env, where).check))
  if (config.hmac !== undefined && methods.includes('hmac')) {
    const hmac = compileHmac(config.hmac, deps.clock, consumersByName, deps.env, where)
    challenges.hmac = hmac.challenge
    handlers.push(wrap('hmac', hmac.check))
  }
  if (jwt !== undefined) asyncHandlers.push({ method: 'jwt', check: checkJwt })
  if (config.introspection !== undefined && usesIntrospection) {
    asyncHandlers.push(wrap('introspection', compileIntrospection(config.introspection, deps.clock, consumersByName, deps.shared, deps.env, where, usesJwt).check))
  }
  if (config.basic !== undefined && methods.includes('basic')) {
    const basic = compileBasic(config.basic, deps.clock, consumersByName, where)
    challenges.basic = basic.challenge
    asyncHandlers.push(wrap('basic', basic.check))
  }
  handlers.push(...asyncHandlers)

  const accepted = methods
    .map((m) => describeMethod(m))
    .filter((text): text is string => text !== undefined)
    .join(' or ')
  const plainChallenges = challengeHeader(undefined)
  const missingAttempts: JsonValue[] = methods.map((method) => ({ method, result: 'missing' }))

  function describeMethod(method: AuthMethod): string | undefined {
    switch (method) {
      case 'key':
        return `an API key (${keyHeaderLabel} header or Authorization: ApiKey <key>${bearerIsKey ? ' or Authorization: Bearer <key>' : ''})`
      case 'jwt':
        return usesIntrospection ? 'a bearer token (Authorization: Bearer <token>)' : 'a bearer token (Authorization: Bearer <JWT>)'
      case 'introspection':
        return usesJwt ? undefined : 'an access token (Authorization: Bearer <token>)'
      case 'basic':
        return 'a user name and password (Authorization: Basic)'
      case 'hmac':
        return 'a signed request (Authorization: Signature keyId=..., hmac-sha256)'
      case 'session':
        return `a session cookie (${config.session?.cookie ?? 'gh_session'})`
      case 'mtls':
        return 'a client certificate (over HTTPS)'
    }
  }

  /**
   * One challenge per configured HTTP scheme, in config order (RFC 9110 §11.6.1); jwt and
   * introspection share one Bearer challenge. It carries `error="invalid_token"` only when a
   * token was presented and refused (RFC 6750 §3.1). Cookies and client certificates have
   * no HTTP scheme: their `Session`/`Mutual` challenges are sent only when nothing else is,
   * since every 401 needs at least one.
   */
  function challengeHeader(bearerError: string | undefined): string {
    const parts: string[] = []
    let bearerDone = false
    for (const method of methods) {
      if (method === 'key') parts.push(`ApiKey realm="${REALM}"`)
      else if (method === 'jwt' || method === 'introspection') {
        if (bearerDone) continue
        bearerDone = true
        parts.push(bearerError === undefined ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="invalid_token", error_description="${bearerError}"`)
      } else if (method === 'basic' || method === 'hmac') parts.push(challenges[method] ?? '')
    }
    if (parts.length === 0) {
      for (const method of methods) {
        if (method === 'session') parts.push(`Session realm="${REALM}"`)
        else if (method === 'mtls') parts.push(`Mutual realm="${REALM}"`)
      }
    }
    return parts.join(', ')
  }

  function denyMissing(unsupportedScheme: string | undefined): Deny {
    return deny(rules.missingCredentials, {
      message: `This route needs ${accepted}.${unsupportedScheme === undefined ? '' : ` The '${unsupportedScheme}' authorization scheme is not accepted.`}`,
      remediation: `The caller sent none of the credentials route '${route}' accepts (${methods.join(', ')}). Give it credentials for one of them (a key in consumers[].keys, a token from the trusted issuer, a user, signing key or certificate under auth), and have it send ${accepted}.`,
      detail: unsupportedScheme === undefined ? { attempts: missingAttempts } : { attempts: missingAttempts, unsupportedScheme },
      headers: { 'www-authenticate': plainChallenges },
    })
  }
  // Anonymous traffic is the common failure; its verdict never changes, so build it once.
  const mtlsOnly = methods.length === 1 && methods[0] === 'mtls'
  const missingVerdict = deepFreeze(mtlsOnly ? denyMissingCertificate('no-certificate') : denyMissing(undefined))
  const notTlsVerdict = mtlsOnly ? deepFreeze(denyMissingCertificate('not-tls')) : missingVerdict

  function denyMissingCertificate(reason: 'not-tls' | 'no-certificate'): Deny {
    return deny(rules.mtlsMissingCertificate, {
      message: reason === 'not-tls' ? 'This route needs a client certificate, which requires HTTPS; the request came over plain HTTP.' : 'This route needs a client certificate, and the connection presented none.',
      remediation:
        reason === 'not-tls'
          ? `Route '${route}' authenticates by client certificate (auth.methods: [mtls]) but the request arrived without TLS. Serve it over HTTPS (tls: with ca and requestCert: true) and have the caller connect that way.`
          : `Route '${route}' authenticates by client certificate; the caller sent none. Check that tls.requestCert is true and that the caller's client is configured with its certificate and key.`,
      detail: { reason, attempts: [{ method: 'mtls', result: 'missing', reason }] },
      headers: { 'www-authenticate': plainChallenges },
    })
  }

  function wrap(method: AuthMethod, check: MethodCheck): Handler {
    const toOutcome = (outcome: MethodOutcome): Outcome => (outcome === undefined || outcome.kind === 'allow' ? outcome : methodFailureEntry(method, outcome))
    return {
      method,
      check(ctx, authorization) {
        const outcome = check(ctx, authorization)
        return isPromise<MethodOutcome>(outcome) ? outcome.then(toOutcome) : toOutcome(outcome)
      },
    }
  }

  function methodFailureEntry(method: AuthMethod, failure: MethodFailure): Failure {
    const entry: Failure = {
      kind: 'failure',
      method,
      rank: failure.rank,
      attempt: { method, result: 'invalid', rule: failure.rule.id, ...failure.detail },
      deny: () => deny(failure.rule, { message: failure.message, remediation: failure.remediation, detail: { ...failure.detail } }),
    }
    if (failure.bearerError !== undefined) entry.bearerError = failure.bearerError
    return entry
  }

  function keyFailureEntry(failure: KeyFailure): Failure {
    const reason = failure.reason === 'empty' ? 'is empty' : failure.reason === 'too-long' ? 'is too long' : 'is not valid'
    const attempt: JsonObject = { method: 'key', result: 'invalid', rule: rules.keyInvalid.id, source: failure.source, reason: failure.reason }
    if (failure.keyId !== undefined) attempt.keyId = failure.keyId
    return {
      kind: 'failure',
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
      kind: 'failure',
      method: 'jwt',
      rank: rankOf(failure),
      attempt: { method: 'jwt', result: 'invalid', rule: failure.rule.id, ...failure.detail },
      bearerError: failure.description,
      deny: () =>
        deny(failure.rule, {
          message: failure.message,
          remediation: jwt === undefined ? failure.rule.remedy : jwt.remediationFor(failure),
          detail: { ...failure.detail },
        }),
    }
  }

  function checkKeys(ctx: RequestContext, authorization: AuthorizationParts): Outcome {
    if (checkKey === undefined) return undefined
    let keyFailure: KeyFailure | undefined
    const fromHeader = headerString(ctx.headers, keyHeader)
    if (fromHeader !== undefined) {
      const result = checkKey(fromHeader)
      if (result.ok) return result.verdict
      keyFailure = { ...result, source: keyHeaderLabel }
    }
    if (authorization.scheme === 'apikey' || (authorization.scheme === 'bearer' && bearerIsKey)) {
      const result = checkKey(authorization.credentials)
      if (result.ok) return result.verdict
      keyFailure ??= { ...result, source: 'Authorization' }
    }
    return keyFailure === undefined ? undefined : keyFailureEntry(keyFailure)
  }

  function checkJwt(_ctx: RequestContext, authorization: AuthorizationParts): Outcome | Promise<Outcome> {
    if (jwt === undefined || authorization.scheme !== 'bearer') return undefined
    const token = authorization.credentials
    // Opaque tokens go to introspection when it is configured too.
    if (usesIntrospection && !looksLikeJwt(token)) return undefined
    const check = jwt.verify(token)
    return isPromise<JwtCheck>(check) ? check.then(jwtOutcome) : jwtOutcome(check)
  }

  function jwtOutcome(check: JwtCheck): Outcome {
    if (!check.ok) return jwtFailureEntry(check.failure)
    const identity = identityFromToken(check.header, check.payload)
    if ('rule' in identity) return jwtFailureEntry(identity)
    return allow({ identity, detail: { method: 'jwt', consumer: identity.consumer, ...identity.claims } })
  }

  function finish(failures: Failure[] | undefined, unsupportedScheme: string | undefined, ctx: RequestContext): Verdict {
    if (failures === undefined || failures.length === 0) {
      if (unsupportedScheme !== undefined) return denyMissing(unsupportedScheme)
      return ctx.secure ? missingVerdict : notTlsVerdict
    }
    // Highest rank wins; on a tie, the method listed first in auth.methods.
    let chosen = failures[0]
    for (const failure of failures) {
      if (failure.rank > chosen.rank || (failure.rank === chosen.rank && methods.indexOf(failure.method) < methods.indexOf(chosen.method))) chosen = failure
    }
    const verdict = chosen.deny()
    const denial = verdict.denial
    denial.detail = {
      ...denial.detail,
      attempts: methods.map((method) => failures.find((f) => f.method === method)?.attempt ?? { method, result: 'missing' }),
    }
    const bearerError = failures.find((f) => f.bearerError !== undefined)?.bearerError
    denial.headers = denial.status === 401 ? { 'www-authenticate': challengeHeader(bearerError) } : { 'retry-after': JWKS_RETRY_AFTER_SECONDS }
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

  /** Schemes some configured method reads from the Authorization header. */
  function isHandledScheme(lower: string): boolean {
    if (lower === 'apikey') return usesKey
    if (lower === 'bearer') return usesJwt || usesIntrospection || bearerIsKey
    if (lower === 'basic') return challenges.basic !== undefined
    if (lower === 'signature') return challenges.hmac !== undefined
    return false
  }

  // hideCredentials: the proven credential's headers do not go upstream.
  const hidden = config.hideCredentials ? [...new Set([keyHeader.toLowerCase(), 'authorization', 'signature'])] : undefined
  const passed = hidden === undefined ? (verdict: Verdict) => verdict : (verdict: Verdict): Verdict => ({ ...(verdict as Allow), dropUpstreamHeaders: hidden })

  return function evaluateAuthn(ctx: RequestContext): Verdict | Promise<Verdict> {
    let authorization = noAuthorization
    let unsupportedScheme: string | undefined
    const header = ctx.headers.authorization
    if (header !== undefined && header !== '') {
      const space = header.indexOf(' ')
      const rawScheme = space === -1 ? header : header.slice(0, space)
      // Auth schemes are case-insensitive (RFC 9110 §11.1).
      const scheme = rawScheme.toLowerCase()
      if (isHandledScheme(scheme)) authorization = { scheme, rawScheme, credentials: space === -1 ? '' : header.slice(space + 1).trim() }
      else unsupportedScheme = rawScheme.length > 32 ? `${rawScheme.slice(0, 32)}…` : rawScheme
    }

    let failures: Failure[] | undefined
    let pending: Promise<Outcome>[] | undefined
    for (let i = 0; i < handlers.length; i++) {
      const outcome = handlers[i].check(ctx, authorization)
      if (outcome === undefined) continue
      if (isPromise<Outcome>(outcome)) (pending ??= []).push(outcome)
      else if (outcome.kind === 'allow') return passed(outcome)
      else (failures ??= []).push(outcome)
    }
    if (pending === undefined) {
      if (failures === undefined && unsupportedScheme === undefined && (ctx.secure || !mtlsOnly)) return missingVerdict
      return finish(failures, unsupportedScheme, ctx)
    }
    return Promise.all(pending).then((outcomes) => {
      for (const outcome of outcomes) {
        if (outcome === undefined) continue
        if (outcome.kind === 'allow') return passed(outcome)
        ;(failures ??= []).push(outcome)
      }
      return finish(failures, unsupportedScheme, ctx)
    })
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
