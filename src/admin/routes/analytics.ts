import { z } from 'zod'
import { buildDenialReport, maxReportBuckets, parseDurationMs } from '../../analytics/denials.js'
import { defineEndpoint, type AdminEndpoint } from '../types.js'

const duration = (what: string, fallback: string) =>
  z
    .string()
    .max(12)
    .refine((v) => parseDurationMs(v) !== undefined, "expected a duration like '90s', '15m', '1h' or '7d' (at most 400d)")
    .default(fallback)
    .describe(what)

const DenialsQuery = z
  .object({
    since: duration("How far back the report goes: '15m', '1h', '7d'. The previous period of the same length is compared. Default 24h.", '24h'),
    bucket: duration("Width of each time bucket: '1m', '5m', '1h'. Default 1h.", '1h'),
    by: z.enum(['route', 'consumer', 'tenant', 'layer', 'rule']).default('route').describe('What the groups are: route, consumer, tenant, layer or rule. Default route.'),
    route: z.string().max(200).optional().describe('Only calls to this route.'),
    consumer: z.string().max(200).optional().describe('Only calls by this consumer.'),
    tenant: z.string().max(200).optional().describe('Only calls of this tenant (a tenant admin always sees its own only).'),
  })
  .strict()

export const denialAnalytics = defineEndpoint({
  method: 'GET',
  path: '/api/analytics/denials',
  summary: 'Rates of 401/403/429 per time bucket and per route, consumer, tenant, layer or rule, compared with the previous period, with the top denial reasons',
  action: 'read',
  query: DenialsQuery,
  async handle({ principal, query }, deps) {
    if (!deps.store?.aggregate) return { status: 404, body: { title: 'Analytics off', detail: 'Denial analytics need a call log (store: sqlite:... or postgres://...).' } }
    const spanMs = parseDurationMs(query.since) as number
    const bucketMs = parseDurationMs(query.bucket) as number
    if (bucketMs > spanMs) return { status: 400, body: { title: 'Invalid query', detail: `bucket (${query.bucket}) is longer than since (${query.since}).` } }
    if (spanMs / bucketMs > maxReportBuckets) return { status: 400, body: { title: 'Invalid query', detail: `since/bucket gives more than ${maxReportBuckets} buckets; use a wider bucket.` } }
    // A tenant admin sees its tenant's calls only, whatever it asked for.
    const tenant = principal.role === 'tenant-admin' ? principal.tenant : query.tenant
    const report = await buildDenialReport(deps.store, { until: Date.now(), spanMs, bucketMs, by: query.by, route: query.route, consumer: query.consumer, tenant })
    return { status: 200, body: report }
  },
})

const AlertsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50).describe('Alerts to return, newest first. Default 50, at most 200.'),
  })
  .strict()

export const denialAlerts = defineEndpoint({
  method: 'GET',
  path: '/api/analytics/alerts',
  summary: 'Recent denial-spike alerts, newest first, with their webhook deliveries',
  action: 'read',
  query: AlertsQuery,
  async handle({ principal, query }, deps) {
    const all = deps.alerts?.() ?? []
    // Alerts are per route; a tenant admin sees those of routes its tenant owns.
    const visible = principal.role === 'tenant-admin' ? all.filter((alert) => alert.tenant !== null && alert.tenant === principal.tenant) : all
    return { status: 200, body: { enabled: deps.alerts !== undefined && deps.runtime().config.alerts !== undefined, alerts: visible.slice(0, query.limit) } }
  },
})

export const analyticsEndpoints: AdminEndpoint[] = [denialAnalytics, denialAlerts] as AdminEndpoint[]
