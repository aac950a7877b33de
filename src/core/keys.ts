import { createHash } from 'node:crypto'

/** Environment lookup used to resolve `env:NAME` references (process.env in production). */
export type EnvSource = Readonly<Record<string, string | undefined>>

/** Result of {@link parseKeyRef}: the key's sha256 digest, or why the reference is unusable. */
export type KeyRefResult = { ok: true; hash: Buffer } | { ok: false; message: string }

const SHA256_REF = /^sha256:([0-9a-fA-F]{64})$/
const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/

/** sha256 digest of an API key as presented by a caller (32 bytes). */
export function hashKey(plain: string): Buffer {
  return createHash('sha256').update(plain, 'utf8').digest()
}

/**
 * Resolves a consumer key reference from the config file to its sha256 digest.
 * Accepts `sha256:<64 hex digits>` (the digest itself) or `env:NAME` (the plain key lives
 * in an environment variable and is hashed here). The error message never repeats the
 * reference, because an operator may have pasted a plain key by mistake.
 */
export function parseKeyRef(ref: string, env: EnvSource): KeyRefResult {
  const digest = SHA256_REF.exec(ref)
  if (digest) return { ok: true, hash: Buffer.from(digest[1], 'hex') }
  const named = ENV_REF.exec(ref)
  if (named) {
    const value = env[named[1]]
    if (value === undefined || value === '') {
      return { ok: false, message: `environment variable ${named[1]} is not set (or is empty); set it to the consumer's key` }
    }
    return { ok: true, hash: hashKey(value) }
  }
  if (ref.startsWith('sha256:')) {
    return { ok: false, message: "expected 'sha256:' followed by exactly 64 hex digits (the sha256 of the key)" }
  }
  return {
    ok: false,
    message: "expected 'sha256:<64 hex digits>' or 'env:NAME'; plain keys are not accepted in the file (hash one with: printf %s \"$KEY\" | sha256sum)",
  }
}

/** Short, non-secret identifier of a key for traces and logs: the first 8 hex chars of its digest. */
export function keyFingerprint(hash: Buffer): string {
  return hash.subarray(0, 4).toString('hex')
}
