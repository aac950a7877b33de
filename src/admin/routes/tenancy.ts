import { z } from 'zod'
import type { AdminPrincipal } from '../auth.js'
import type { SubscriptionChange } from '../../tenancy/types.js'
import { defineEndpoint, type AdminDeps, type AdminEndpoint, type AdminResult } from '../types.js'

function tenantOfApi(deps: AdminDeps, api: string): string | undefined {
  return deps.runtime().tenancy.api(api)?.tenant
}

/** A tenant admin manages subscriptions to its own tenant's APIs only. */
function mayManage(principal: AdminPrincipal, apiTenant: string | undefined): boolean {
  if (principal.role === 'admin') return true
  return principal.role === 'tenant-admin' && apiTenant !== undefined && apiTenant === principal.tenant
}

/** Keeps a subscription change in the admin state, so it survives restarts. */
export async function persist(deps: AdminDeps, change: SubscriptionChange): Promise<void> {
  if (!change.ok || !deps.changeAdminState) return
  const s = change.subscription
  await deps.changeAdminState((state) => ({
    ...state,
    subscriptions: [
      ...state.subscriptions.filter((x) => String(x.id) !== s.id),
      { id: s.id, consumer: s.consumer, api: s.api, state: s.state, updatedAt: s.updatedAt },
    ],
  }))
}

function changeResult(change: SubscriptionChange): AdminResult {
  if (change.ok) return { status: 200, body: { subscription: change.subscription } }
  const status = change.error === 'not-found' ? 404 : change.error === 'invalid-transition' ? 409 : 400
  return { status, body: { title: change.error === 'invalid-transition' ? 'Invalid transition' : 'Cannot change subscription', detail: change.message } }
}

export const listTenants = defineEndpoint({
  method: 'GET',
  path: '/api/tenants',
  summary: 'Tenants with their APIs',
  action: 'read',
  async handle({ principal }, deps) {
    const config = deps.runtime().config as { tenants?: { name: string }[]; apis?: { name: string; tenant: string }[] }
    const tenants = (config.tenants ?? [])
      .filter((t) => principal.role !== 'tenant-admin' || t.name === principal.tenant)
      .map((t) => ({ ...t, apis: (config.apis ?? []).filter((a) => a.tenant === t.name).map((a) => a.name) }))
    return { status: 200, body: { tenants } }
  },
})

export const listSubscriptions = defineEndpoint({
  method: 'GET',
  path: '/api/subscriptions',
  summary: 'Subscriptions, filtered by consumer, api or state (the approval queue is state=pending)',
  action: 'read',
  query: z
    .object({
      consumer: z.string().max(200).optional().describe('Consumer name.'),
      api: z.string().max(200).optional().describe('API name.'),
      state: z.enum(['pending', 'approved', 'rejected', 'revoked']).optional().describe('Subscription state.'),
    })
    .strict(),
  async handle({ principal, query }, deps) {
    const subscriptions = deps.runtime().tenancy.subscriptions.list(query)
      .filter((s) => principal.role !== 'tenant-admin' || tenantOfApi(deps, s.api) === principal.tenant)
    return { status: 200, body: { subscriptions } }
  },
})

export const requestSubscription = defineEndpoint({
  method: 'POST',
  path: '/api/subscriptions',
  summary: 'Request a subscription of a consumer to an API (it starts pending)',
  action: 'write',
  body: z.object({ consumer: z.string().min(1).max(200), api: z.string().min(1).max(200) }).strict(),
  async handle({ principal, body, audit }, deps) {
    if (!mayManage(principal, tenantOfApi(deps, body.api))) {
      return { status: 403, body: { title: 'Not permitted', detail: `This token may not manage subscriptions to '${body.api}'.` } }
    }
    const change = deps.runtime().tenancy.subscriptions.request(body.consumer, body.api)
    await persist(deps, change)
    if (change.ok) audit('subscription.request', change.subscription.id, { consumer: body.consumer, api: body.api })
    return changeResult(change)
  },
})

function transition(verb: 'approve' | 'reject' | 'revoke') {
  return defineEndpoint({
    method: 'POST',
    path: `/api/subscriptions/:id/${verb}`,
    summary: `${verb[0].toUpperCase()}${verb.slice(1)} a subscription`,
    action: 'write',
    body: z.object({ reason: z.string().max(500).optional() }).strict().default({}),
    async handle({ principal, params, body, audit }, deps) {
      const registry = deps.runtime().tenancy.subscriptions
      const current = registry.get(params.id)
      if (!current) return { status: 404, body: { title: 'No such subscription', detail: `No subscription has id '${params.id}'.` } }
      if (!mayManage(principal, tenantOfApi(deps, current.api))) {
        return { status: 403, body: { title: 'Not permitted', detail: `This token may not manage subscriptions to '${current.api}'.` } }
      }
      const change = verb === 'approve' ? registry.approve(params.id) : registry[verb](params.id, body.reason)
      await persist(deps, change)
      if (change.ok) audit(`subscription.${verb}`, params.id, { consumer: current.consumer, api: current.api, ...(body.reason ? { reason: body.reason } : {}) })
      return changeResult(change)
    },
  })
}

export const tenancyEndpoints: AdminEndpoint[] = [
  listTenants,
  listSubscriptions,
  requestSubscription,
  transition('approve'),
  transition('reject'),
  transition('revoke'),
] as AdminEndpoint[]
