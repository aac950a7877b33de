import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import type { Clock } from '../../core/clock.js'
import { allow, type Allow, type ConsumerRecord } from '../define.js'
import { RANK, consumerIdentity, deepFreeze, failure, requireConsumer, ExpiringCache, type MethodCheck, type MethodOutcome } from './method.js'
import { rules } from './rules.js'

/** A stored password hash, parsed once at load time. */
export type PasswordHash =
  | { kind: 'scrypt'; n: number; r: number; p: number; salt: Buffer; hash: Buffer }
  | { kind: 'bcrypt'; encoded: string }
  | { kind: 'argon2'; encoded: string }

export type PasswordHashKind = 'scrypt' | 'bcrypt' | 'argon2id'

/** Base64 credentials longer than this are refused unparsed (RFC 7617 sets no limit; we do). */
const MAX_CREDENTIALS_CHARS = 4096
/** Passwords longer than this are refused before hashing, so nobody can make us hash megabytes. */
const MAX_PASSWORD_BYTES = 1024
const MAX_CACHED = 10_000
/** Standard base64 with optional padding; one class and a bounded tail, so linear. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
/** RFC 7617 §2: neither user-id nor password may contain control characters. */
const CONTROL = /[\u0000-\u001f\u007f]/
const SCRYPT_FORMAT = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/
const BCRYPT_FORMAT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/
const ARGON2_FORMAT = /^\$argon2(id|i|d)\$v=\d+\$m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/
const SCRYPT_DEFAULTS = { n: 16_384, r: 8, p: 1 }
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses a stored password hash: `scrypt$N$r$p$<salt base64>$<hash base64>` (node:crypto
 * scrypt), a bcrypt hash (`$2b$...`) or a PHC argon2 string (`$argon2id$...`).
 */
export function tryParsePasswordHash(value: string): { ok: true; hash: PasswordHash } | { ok: false; message: string } {
  const scryptMatch = SCRYPT_FORMAT.exec(value)
  if (scryptMatch) {
    const [n, r, p] = [Number(scryptMatch[1]), Number(scryptMatch[2]), Number(scryptMatch[3])]
    // Bounds keep a hostile or mistyped config from making every login allocate gigabytes.
    if (n < 2 || n > 2 ** 20 || (n & (n - 1)) !== 0) return { ok: false, message: 'scrypt N must be a power of two between 2 and 1048576' }
    if (r < 1 || r > 32 || p < 1 || p > 16) return { ok: false, message: 'scrypt r must be 1..32 and p 1..16' }
    const salt = Buffer.from(scryptMatch[4], 'base64')
    const hash = Buffer.from(scryptMatch[5], 'base64')
    if (salt.length < 8) return { ok: false, message: 'the scrypt salt must be at least 8 bytes' }
    if (hash.length < 16 || hash.length > 128) return { ok: false, message: 'the scrypt hash must be 16 to 128 bytes' }
    return { ok: true, hash: { kind: 'scrypt', n, r, p, salt, hash } }
  }
  if (BCRYPT_FORMAT.test(value)) return { ok: true, hash: { kind: 'bcrypt', encoded: value } }
  if (ARGON2_FORMAT.test(value)) return { ok: true, hash: { kind: 'argon2', encoded: value } }
  if (value.startsWith('scrypt$')) return { ok: false, message: 'expected scrypt$N$r$p$<salt base64>$<hash base64>' }
  return { ok: false, message: "expected a password hash: 'scrypt$N$r$p$salt$hash', a bcrypt '$2b$...' or an argon2 '$argon2id$...' string; plain passwords are not accepted" }
}

/** Checks a password against a stored hash, off the event loop (libuv pool or native threads). */
export async function verifyPassword(stored: PasswordHash, password: string): Promise<boolean> {
  try {
    if (stored.kind === 'bcrypt') return await bcrypt.compare(password, stored.encoded)
    if (stored.kind === 'argon2') return await argon2Verify(stored.encoded, password)
    const derived = await scryptAsync(password, stored.salt, stored.hash.length, stored.n, stored.r, stored.p)
    return timingSafeEqual(derived, stored.hash)
  } catch {
    return false
  }
}

/**
 * Hashes a password for `auth.basic.users[].password`. scrypt uses N=16384, r=8, p=1 and a
 * 16-byte random salt; bcrypt cost 12; argon2id with the library's defaults.
 */
export async function hashPassword(plain: string, kind: PasswordHashKind = 'scrypt'): Promise<string> {
  if (kind === 'bcrypt') return bcrypt.hash(plain, 12)
  if (kind === 'argon2id') return argon2Hash(plain)
  const salt = randomBytes(16)
  const { n, r, p } = SCRYPT_DEFAULTS
  const derived = await scryptAsync(plain, salt, 32, n, r, p)
  return `scrypt$${n}$${r}$${p}$${salt.toString('base64')}$${derived.toString('base64')}`
}

function scryptAsync(password: string, salt: Buffer, length: number, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes (plus slack), or node refuses large N.
    scrypt(password, salt, length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

/** `auth.basic` after schema parsing. */
export interface BasicOptions {
  realm: string
  cacheSeconds: number
  maxConcurrentChecks: number
  users: { username: string; password: string; consumer: string }[]
}

interface BasicUser {
  hash: PasswordHash
  verdict: Allow
}

/**
 * HTTP Basic (RFC 7617) against password hashes in the config. Hashing is slow on purpose,
 * so it runs asynchronously; a successful check is remembered for `cacheSeconds` under an
 * HMAC of "user:password" with a per-load random key (neither the password nor a plain,
 * brute-forceable digest of it is kept), so a busy client costs one hash per minute.
 */
export function compileBasic(
  options: BasicOptions,
  clock: Clock,
  consumersByName: ReadonlyMap<string, ConsumerRecord>,
  where: string,
): { check: MethodCheck; challenge: string } {
  const users = new Map<string, BasicUser>()
  options.users.forEach((user, i) => {
    const consumer: ConsumerRecord = requireConsumer(consumersByName, user.consumer, `basic.users[${i}].consumer`, where)
    const parsed = tryParsePasswordHash(user.password)
    // The schema already refused bad hashes; this guards direct compile() calls.
    if (!parsed.ok) throw new Error(`${where}: basic.users[${i}].password: ${parsed.message}`)
    const identity = consumerIdentity(consumer, 'basic', { username: user.username })
    users.set(user.username, { hash: parsed.hash, verdict: deepFreeze(allow({ identity, detail: { method: 'basic', consumer: consumer.name, username: user.username } })) })
  })
  // Unknown users are checked against a real user's hash so the answer takes as long as for
  // a known user with a wrong password: response time does not reveal which names exist.
  const decoy = users.values().next().value?.hash
  const cacheKey = randomBytes(32)
  const verified = new ExpiringCache<Allow>(MAX_CACHED)
  const inflight = new Map<string, Promise<MethodOutcome>>()
  const ttlMs = options.cacheSeconds * 1000
  // Hashing runs on the libuv pool (scrypt), native threads (argon2) or the event loop in
  // slices (bcryptjs): a flood of guesses must not starve everything else that needs them.
  let checking = 0

  async function verify(username: string, password: string, digest: string): Promise<MethodOutcome> {
    const user = users.get(username)
    if (user === undefined) {
      if (decoy !== undefined) await verifyPassword(decoy, password)
      return invalid(username, 'unknown-user')
    }
    if (!(await verifyPassword(user.hash, password))) return invalid(username, 'wrong-password')
    if (ttlMs > 0) verified.set(digest, user.verdict, clock.now() + ttlMs)
    return user.verdict
  }

  function invalid(fullName: string, reason: 'unknown-user' | 'wrong-password') {
    const username = fullName.length > 128 ? `${fullName.slice(0, 128)}…` : fullName
    return failure(
      rules.basicInvalid,
      RANK.badProof,
      'The user name or password is wrong.',
      reason === 'unknown-user'
        ? `No user '${username}' in auth.basic.users of ${where}. Add it with a password hash, or check the name the caller sends.`
        : `The password sent for user '${username}' does not match auth.basic.users[].password of ${where}. The caller may use an old password; hash the new one into the config.`,
      { username, reason },
    )
  }

  function malformed(reason: string) {
    return failure(rules.basicMalformed, RANK.malformed, `The Basic credentials are malformed (${reason}).`, `The caller's Authorization: Basic value is not base64 of "user:password" (${reason}).`, { reason })
  }

  const check: MethodCheck = (_ctx, authorization) => {
    if (authorization.scheme !== 'basic') return undefined
    const encoded = authorization.credentials
    if (encoded === '') return malformed('empty')
    if (encoded.length > MAX_CREDENTIALS_CHARS) return malformed('too long')
    if (!BASE64.test(encoded)) return malformed('not base64')
    let decoded: string
    try {
      decoded = utf8.decode(Buffer.from(encoded, 'base64'))
    } catch {
      return malformed('not UTF-8')
    }
    const colon = decoded.indexOf(':')
    if (colon === -1) return malformed("no ':' between user name and password")
    const username = decoded.slice(0, colon)
    const password = decoded.slice(colon + 1)
    if (CONTROL.test(decoded)) return malformed('control characters')
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return malformed('password too long')
    const digest = createHmac('sha256', cacheKey).update(decoded).digest('hex')
    const cached = verified.get(digest, clock.now())
    if (cached !== undefined) return cached
    let pending = inflight.get(digest)
    if (pending === undefined) {
      if (checking >= options.maxConcurrentChecks) {
        return failure(
          rules.basicBusy,
          RANK.unavailable,
          'Too many sign-ins are being checked right now; retry shortly.',
          `${checking} Basic password checks were running on ${where} (auth.basic.maxConcurrentChecks is ${options.maxConcurrentChecks}). If this is not an attack (many wrong passwords), raise the limit; users verified in the last ${options.cacheSeconds} s are not affected.`,
          { username: username.length > 128 ? `${username.slice(0, 128)}…` : username, checking },
        )
      }
      checking++
      // Concurrent requests with the same credentials share one hash computation.
      pending = verify(username, password, digest).finally(() => {
        checking--
        inflight.delete(digest)
      })
      inflight.set(digest, pending)
    }
    return pending
  }

  return { check, challenge: `Basic realm="${options.realm}", charset="UTF-8"` }
}
