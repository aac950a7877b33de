import { z } from 'zod'
import { describeTrail } from '../../cli/print.js'
import { defineEndpoint, type AdminEndpoint } from '../types.js'

/** `1h`, `30m`, `2d`, or an ISO time → epoch ms. */
function parseSince(value: string, now = Date.now()): number | undefined {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value)
  if (relative) return now - Number(relative[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[relative[2] as 's' | 'm' | 'h' | 'd']
  const time = Date.parse(value)
  return Number.isNaN(time) ? undefined : time
}

const CallsQuery = z
  .object({
    denied: z.enum(['true', 'false']).optional().describe('Only calls refused by the gateway or the upstream (status >= 400).'),
    route: z.string().max(200).optional().describe('Route name.'),
    consumer: z.string().max(200).optional().describe('Consumer name.'),
    tenant: z.string().max(200).optional().describe('Tenant name.'),
    layer: z.string().max(50).optional().describe('Deciding layer (authz, upstream, ...).'),
    status: z.coerce.number().int().min(100).max(599).optional().describe('Exact status.'),
    since: z
      .string()
      .max(40)
      .refine((v) => parseSince(v) !== undefined, "expected a duration like '1h' or an ISO time")
      .optional()
      .describe("Lower time bound: '15m', '1h', '2d' or an ISO time."),
    until: z
      .string()
      .max(40)
      .refine((v) => parseSince(v) !== undefined, "expected a duration like '1h' (that long ago) or an ISO time")
      .optional()
      .describe("Upper time bound, exclusive: '1h' (an hour ago) or an ISO time. With `limit`, pages back through older calls."),
    limit: z.coerce.number().int().min(1).max(1000).default(50).describe('Rows to return, newest first. Default 50, at most 1000.'),
  })
  .strict()

export const listCalls = defineEndpoint({
  method: 'GET',
  path: '/api/calls',
  summary: 'The call log, newest first',
  action: 'read',
  query: CallsQuery,
  async handle({ principal, query }, deps) {
    if (!deps.store) return { status: 200, body: { calls: [], note: 'the call log is off (store: off)' } }
    // A tenant admin sees its tenant's calls only, whatever it asked for.
    const tenant = principal.role === 'tenant-admin' ? principal.tenant : query.tenant
    const calls = await deps.store.query({
      denied: query.denied === 'true',
      route: query.route,
      consumer: query.consumer,
      tenant,
      layer: query.layer,
      status: query.status,
      since: query.since ? parseSince(query.since) : undefined,
      until: query.until ? parseSince(query.until) : undefined,
      limit: query.limit,
    })
    return { status: 200, body: { calls } }
  },
})

export const getCall = defineEndpoint({
  method: 'GET',
  path: '/api/calls/:requestId',
  summary: 'One call with its decision trace explained layer by layer',
  action: 'read',
  async handle({ principal, params }, deps) {
    const call = deps.store ? await deps.store.get(params.requestId) : null
    if (!call || (principal.role === 'tenant-admin' && call.tenant !== principal.tenant)) {
      return { status: 404, body: { title: 'No such call', detail: `No logged call has request id '${params.requestId}'.` } }
    }
    return { status: 200, body: { call, explanation: describeTrail({ trail: call.trail, denial: call.denial, status: call.status }) } }
  },
})

export const callEndpoints: AdminEndpoint[] = [listCalls, getCall] as AdminEndpoint[]
