import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { defineEndpoint, type AdminDeps, type AdminEndpoint, type AdminResult } from '../types.js'
import type { AdminPrincipal } from '../auth.js'

const name = z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore')

function unavailable(): AdminResult {
  return { status: 503, body: { title: 'Admin changes unavailable', detail: 'This gateway was started without admin state.' } }
}

/** Whether a principal may manage a consumer of `tenant`. */
function mayManage(principal: AdminPrincipal, tenant: string | undefined): boolean {
  if (principal.role === 'admin') return true
  return principal.role === 'tenant-admin' && tenant !== undefined && tenant === principal.tenant
}

function findConsumer(deps: AdminDeps, consumer: string) {
  return deps.runtime().consumers.find((c) => c.name === consumer)
}

export const createConsumer = defineEndpoint({
  method: 'POST',
  path: '/api/consumers',
  summary: 'Create a consumer (its keys are issued with POST /api/consumers/{name}/keys)',
  action: 'write',
  body: z
    .object({
      name,
      tenant: z.string().min(1).max(100).optional(),
      scopes: z.array(z.string().min(1).max(200)).max(100).default([]),
      roles: z.array(z.string().min(1).max(100)).max(100).default([]),
    })
    .strict(),
  async handle({ principal, body, audit }, deps) {
    if (!deps.changeAdminState) return unavailable()
    const tenant = principal.role === 'tenant-admin' ? principal.tenant : body.tenant
    if (!mayManage(principal, tenant)) return { status: 403, body: { title: 'Not permitted', detail: `This token may not create consumers in tenant '${tenant ?? '(none)'}'.` } }
    if (findConsumer(deps, body.name)) return { status: 409, body: { title: 'Consumer exists', detail: `A consumer named '${body.name}' already exists.` } }
    const result = await deps.changeAdminState((state) => ({
      ...state,
      consumers: [...state.consumers.filter((c) => c.name !== body.name), { name: body.name, tenant, scopes: body.scopes, roles: body.roles, createdAt: Date.now() }],
      // A consumer deleted by an import may be created again.
      ...(state.deleted?.consumers?.includes(body.name) ? { deleted: { ...state.deleted, consumers: state.deleted.consumers.filter((n) => n !== body.name) } } : {}),
    }))
    if (!result.ok) return { status: 400, body: { title: 'Cannot create consumer', detail: result.message } }
    audit('consumer.create', body.name, { tenant: tenant ?? null })
    return { status: 201, body: { consumer: { name: body.name, tenant: tenant ?? null, scopes: body.scopes, roles: body.roles } } }
  },
})

export const issueKey = defineEndpoint({
  method: 'POST',
  path: '/api/consumers/:name/keys',
  summary: 'Issue a new API key for a consumer; the key is in this answer only, and stored as its SHA-256',
  action: 'write',
  async handle({ principal, params, audit }, deps) {
    if (!deps.changeAdminState) return unavailable()
    const consumer = findConsumer(deps, params.name)
    if (!consumer) return { status: 404, body: { title: 'No such consumer', detail: `No consumer is named '${params.name}'.` } }
    if (!mayManage(principal, consumer.tenant)) return { status: 403, body: { title: 'Not permitted', detail: `This token may not issue keys for '${params.name}'.` } }
    // 192 random bits; the prefix makes leaked keys easy to recognise in secret scanners.
    const key = `gh_${randomBytes(24).toString('base64url')}`
    const sha256 = createHash('sha256').update(key).digest('hex')
    const fingerprint = sha256.slice(0, 8)
    const result = await deps.changeAdminState((state) => ({ ...state, keys: [...state.keys, { consumer: consumer.name, sha256, fingerprint, createdAt: Date.now() }] }))
    if (!result.ok) return { status: 400, body: { title: 'Cannot issue key', detail: result.message } }
    audit('key.issue', consumer.name, { fingerprint })
    return { status: 201, body: { consumer: consumer.name, key, fingerprint, note: 'Store this key now: it is not shown again, only its fingerprint.' } }
  },
})

export const revokeKey = defineEndpoint({
  method: 'DELETE',
  path: '/api/consumers/:name/keys/:fingerprint',
  summary: 'Revoke a key issued through the admin API (keys written in the config file are changed there)',
  action: 'write',
  async handle({ principal, params, audit }, deps) {
    if (!deps.changeAdminState || !deps.adminState) return unavailable()
    const consumer = findConsumer(deps, params.name)
    if (!consumer) return { status: 404, body: { title: 'No such consumer', detail: `No consumer is named '${params.name}'.` } }
    if (!mayManage(principal, consumer.tenant)) return { status: 403, body: { title: 'Not permitted', detail: `This token may not revoke keys of '${params.name}'.` } }
    const issued = deps.adminState().keys.find((k) => k.consumer === params.name && k.fingerprint === params.fingerprint && k.revokedAt === undefined)
    if (!issued) {
      const inFile = consumer.keyHashes.some((h) => h.toString('hex').startsWith(params.fingerprint))
      return inFile
        ? { status: 409, body: { title: 'Key is in the config file', detail: `Key ${params.fingerprint} of '${params.name}' is written in the config file; remove it there.` } }
        : { status: 404, body: { title: 'No such key', detail: `'${params.name}' has no live admin-issued key ${params.fingerprint}.` } }
    }
    const result = await deps.changeAdminState((state) => ({
      ...state,
      keys: state.keys.map((k) => (k === issued || (k.sha256 === issued.sha256 && k.consumer === issued.consumer) ? { ...k, revokedAt: Date.now() } : k)),
    }))
    if (!result.ok) return { status: 400, body: { title: 'Cannot revoke key', detail: result.message } }
    audit('key.revoke', params.name, { fingerprint: params.fingerprint })
    return { status: 200, body: { revoked: params.fingerprint } }
  },
})

export const consumerEndpoints: AdminEndpoint[] = [createConsumer, issueKey, revokeKey] as AdminEndpoint[]
