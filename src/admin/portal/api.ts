import { z } from 'zod'
import { shortRuleName, type Denial } from '../../core/denial.js'
import { allRules } from '../../docs/errors-doc.js'
import type { RequestContext } from '../../gateway/context.js'
import { renderProblem } from '../../gateway/respond.js'
import type { ConsumerRecord } from '../../policies/define.js'
import type { CallRecord } from '../../store/types.js'
import type { Api, Subscription } from '../../tenancy/types.js'
import { keyFingerprint } from '../../core/keys.js'
import { persist } from '../routes/tenancy.js'
import type { AdminDeps, AdminResult } from '../types.js'
import { generateApiDocument, readApiDocument } from './openapi.js'

export interface PortalRequest {
  consumer: ConsumerRecord
  params: Record<string, string>
  query: Record<string, unknown>
  body: unknown
}

/** One developer-portal endpoint; the caller is the consumer whose key it sent. */
export interface PortalEndpoint {
  method: 'GET' | 'POST'
  path: string
  summary: string
  query?: z.ZodType
  body?: z.ZodType
  handle(request: PortalRequest, deps: AdminDeps): Promise<AdminResult>
}

/** APIs a consumer may see: its tenant's, those shared with its tenant, and any it is subscribed to. */
function visibleApis(consumer: ConsumerRecord, deps: AdminDeps): Api[] {
  const { config, tenancy } = deps.runtime()
  const out: Api[] = []
  for (const entry of config.apis) {
    const api = tenancy.api(entry.name)
    if (!api) continue
    const mine = consumer.tenant !== undefined && (api.tenant === consumer.tenant || api.sharedWith.includes(consumer.tenant))
    if (mine || tenancy.subscriptions.find(consumer.name, api.name) !== undefined) out.push(api)
  }
  return out
}

function visibleApi(consumer: ConsumerRecord, deps: AdminDeps, name: string): Api | undefined {
  return visibleApis(consumer, deps).find((a) => a.name === name)
}

const notFound = (name: string): AdminResult => ({ status: 404, body: { title: 'No such API', detail: `No API named '${name}' is offered to you.` } })

function showSubscription(s: Subscription) {
  return { id: s.id, api: s.api, state: s.state, updatedAt: s.updatedAt, ...(s.reason ? { reason: s.reason } : {}) }
}

// Remedies by rule id: the log keeps the operator's remediation, a consumer gets the public one.
let remedies: Map<string, string> | undefined
function publicRemedy(ruleId: string): string {
  remedies ??= new Map(allRules().map((rule) => [rule.id, rule.remedy]))
  return remedies.get(ruleId) ?? 'Quote the request id to the API owner.'
}

/**
 * A logged call as its own consumer may read it: what the gateway answered at the `consumer`
 * explain level (the same renderProblem the gateway uses for a caller that proved who it is),
 * never the trail, the stored facts, the operator's remediation, nor anything of the config.
 */
export function callForConsumer(call: CallRecord) {
  const base = { requestId: call.requestId, time: call.time, method: call.method, path: call.path, status: call.status, layer: call.layer, rule: call.rule }
  const stored = call.denial as { layer?: string; rule?: string; status?: number; title?: string; message?: string } | null
  if (!stored?.rule) return { ...base, title: null, detail: null, remedy: null }
  const denial: Denial = {
    layer: String(stored.layer ?? call.layer),
    rule: stored.rule,
    status: Number(stored.status ?? call.status),
    title: String(stored.title ?? ''),
    message: String(stored.message ?? ''),
    remediation: '',
    publicRemedy: publicRemedy(stored.rule),
  }
  // renderProblem reads only the request id, the route and whether the caller was identified.
  const seenAs = { id: call.requestId, routeName: call.route ?? undefined, identity: { consumer: call.consumer } } as unknown as RequestContext
  const shown = renderProblem(denial, seenAs, 'consumer')
  return { ...base, rule: shortRuleName(stored.rule), title: shown.title as string, detail: shown.detail as string, remedy: shown.remedy as string }
}

export const portalEndpoints: PortalEndpoint[] = [
  {
    method: 'GET',
    path: '/portal/api/me',
    summary: 'The consumer the key belongs to: its tenant, scopes and key fingerprints',
    async handle({ consumer }) {
      return { status: 200, body: { consumer: consumer.name, tenant: consumer.tenant ?? null, scopes: consumer.scopes, keys: consumer.keyHashes.map((h) => ({ fingerprint: keyFingerprint(h) })) } }
    },
  },
  {
    method: 'GET',
    path: '/portal/api/apis',
    summary: "APIs of the consumer's tenant and those shared with it, with its subscription state and their routes",
    async handle({ consumer }, deps) {
      const runtime = deps.runtime()
      const apis = visibleApis(consumer, deps).map((api) => {
        const entry = runtime.config.apis.find((a) => a.name === api.name)
        return {
          name: api.name,
          tenant: api.tenant,
          description: entry?.description ?? null,
          subscription: api.subscription,
          state: runtime.tenancy.subscriptions.find(consumer.name, api.name)?.state ?? 'none',
          routes: runtime.routes.filter((r) => api.routes.includes(r.name)).map((r) => ({ name: r.name, methods: r.config.match.methods ?? ['*'], path: r.config.match.path })),
        }
      })
      return { status: 200, body: { apis } }
    },
  },
  {
    method: 'GET',
    path: '/portal/api/apis/:name/openapi.json',
    summary: "OpenAPI 3.1 document of one API (its apis[].openapi file, else generated from its routes)",
    async handle({ consumer, params }, deps) {
      const api = visibleApi(consumer, deps, params.name)
      if (!api) return notFound(params.name)
      const runtime = deps.runtime()
      const entry = runtime.config.apis.find((a) => a.name === api.name)
      if (entry?.openapi) {
        const read = await readApiDocument(entry.openapi, deps.configFile)
        if (!read.ok) return { status: 500, body: { title: 'OpenAPI document unavailable', detail: `${read.message}; tell the API owner.` } }
        return { status: 200, body: read.document }
      }
      return { status: 200, body: generateApiDocument(api, entry?.description, runtime.routes.filter((r) => api.routes.includes(r.name)), runtime.config) }
    },
  },
  {
    method: 'POST',
    path: '/portal/api/subscriptions',
    summary: 'Request a subscription to an API; it stays pending until a tenant admin approves it',
    body: z.object({ api: z.string().min(1).max(200) }).strict(),
    async handle({ consumer, body }, deps) {
      const { api: name } = body as { api: string }
      const api = visibleApi(consumer, deps, name)
      if (!api) return notFound(name)
      const registry = deps.runtime().tenancy.subscriptions
      const before = registry.find(consumer.name, api.name)
      if (before && (before.state === 'pending' || before.state === 'approved')) return { status: 200, body: { subscription: showSubscription(before) } }
      // The same path as POST /api/subscriptions: the live registry, persisted in the admin state.
      const change = registry.request(consumer.name, api.name)
      if (!change.ok) return { status: 409, body: { title: 'Cannot request subscription', detail: change.message } }
      await persist(deps, change)
      deps.onAudit?.({ time: Date.now(), actor: `consumer:${consumer.name}`, role: 'consumer', action: 'subscription.request', target: change.subscription.id, detail: { consumer: consumer.name, api: api.name, via: 'portal' } })
      return { status: 201, body: { subscription: showSubscription(change.subscription) } }
    },
  },
  {
    method: 'GET',
    path: '/portal/api/subscriptions',
    summary: "The consumer's own subscriptions",
    async handle({ consumer }, deps) {
      return { status: 200, body: { subscriptions: deps.runtime().tenancy.subscriptions.list({ consumer: consumer.name }).map(showSubscription) } }
    },
  },
  {
    method: 'GET',
    path: '/portal/api/calls',
    summary: "The consumer's own recent calls, denials explained at the consumer level",
    query: z
      .object({
        limit: z.coerce.number().int().min(1).max(200).default(50).describe('Calls to return, newest first. Default 50, at most 200.'),
        denied: z.enum(['true', 'false']).optional().describe('true: only refused calls (status >= 400).'),
      })
      .strict(),
    async handle({ consumer, query }, deps) {
      if (!deps.store) return { status: 200, body: { calls: [] } }
      const { limit, denied } = query as { limit: number; denied?: 'true' | 'false' }
      // Filtered by the key's own consumer in the query itself: other consumers' rows are never read.
      const calls = await deps.store.query({ consumer: consumer.name, denied: denied === 'true', limit })
      return { status: 200, body: { calls: calls.filter((c) => c.consumer === consumer.name).map(callForConsumer) } }
    },
  },
]
