import { createHash, timingSafeEqual } from 'node:crypto'
import type { GatehouseConfig } from '../config/schema.js'

export type AdminRole = 'admin' | 'tenant-admin' | 'viewer'

/** Who is calling the admin API. Never holds the token itself. */
export interface AdminPrincipal {
  role: AdminRole
  /** Set for tenant-admin: the only tenant it may see or change. */
  tenant?: string
  /** Name from config, or the token's fingerprint, for the audit log. */
  name: string
}

export type TokenCheck = { ok: true; principal: AdminPrincipal } | { ok: false; reason: 'missing' | 'malformed' | 'unknown' }

type TokenEntry = NonNullable<GatehouseConfig['admin']>['tokens'][number]

/**
 * Verifies `Authorization: Bearer <token>` against the configured admin tokens. Tokens are
 * hashed once; a request's token is hashed and looked up by digest (a hash-table lookup on a
 * SHA-256 digest reveals nothing about the token), then confirmed with timingSafeEqual.
 */
export function createTokenVerifier(tokens: readonly TokenEntry[]): (authorization: string | undefined) => TokenCheck {
  const byDigest = new Map<string, { digest: Buffer; principal: AdminPrincipal }>()
  for (const entry of tokens) {
    const token = typeof entry === 'string' ? entry : entry.token
    const digest = createHash('sha256').update(token).digest()
    const fingerprint = digest.toString('hex').slice(0, 8)
    const principal: AdminPrincipal = typeof entry === 'string'
      ? { role: 'admin', name: `token:${fingerprint}` }
      : { role: entry.role, name: entry.name ?? `token:${fingerprint}`, ...(entry.tenant ? { tenant: entry.tenant } : {}) }
    byDigest.set(digest.toString('hex'), { digest, principal })
  }
  return (authorization) => {
    if (!authorization) return { ok: false, reason: 'missing' }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (!match) return { ok: false, reason: 'malformed' }
    const digest = createHash('sha256').update(match[1]).digest()
    const found = byDigest.get(digest.toString('hex'))
    if (!found || !timingSafeEqual(found.digest, digest)) return { ok: false, reason: 'unknown' }
    return { ok: true, principal: found.principal }
  }
}

/** Whether a principal may do something: viewers read, tenant-admins act on their tenant. */
export function isAllowed(principal: AdminPrincipal, action: 'read' | 'write', tenant?: string | null): boolean {
  if (principal.role === 'viewer') return action === 'read'
  if (principal.role === 'tenant-admin') return tenant !== undefined && tenant !== null && tenant === principal.tenant
  return true
}
