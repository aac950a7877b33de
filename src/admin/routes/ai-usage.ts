import { z } from 'zod'
import { maxReportBuckets, parseDurationMs } from '../../analytics/denials.js'
import type { CallLogStore, CallRecord } from '../../store/types.js'
import { defineEndpoint, type AdminEndpoint } from '../types.js'

const duration = (what: string, fallback: string) =>
  z
    .string()
    .max(12)
    .refine((v) => parseDurationMs(v) !== undefined, "expected a duration like '90s', '15m', '1h' or '7d' (at most 400d)")
    .default(fallback)
    .describe(what)

const dimensions = ['consumer', 'tenant', 'model', 'provider', 'route', 'requested'] as const
type Dimension = (typeof dimensions)[number]

const AiUsageQuery = z
  .object({
    since: duration("How far back the report goes: '15m', '1h', '7d', '30d'. Default 24h.", '24h'),
    bucket: duration("Width of each time bucket: '5m', '1h', '1d'. Default 1h.", '1h'),
    by: z.enum(dimensions).default('consumer').describe('What the groups are: consumer, tenant, model (provider/model that answered), provider, route or requested (the alias the client named). Default consumer.'),
    route: z.string().max(200).optional().describe('Only calls to this route.'),
    consumer: z.string().max(200).optional().describe('Only calls by this consumer.'),
    tenant: z.string().max(200).optional().describe('Only calls of this tenant (a tenant admin always sees its own only).'),
  })
  .strict()

/** Most AI calls one report reads; beyond it the report says `truncated`. */
const maxCallsRead = 200_000
const pageSize = 1000

interface Sums {
  calls: number
  failed: number
  promptTokens: number
  completionTokens: number
  totalTokens: number
  costUsd: number
  /** Calls whose tokens the gateway counted because the provider reported none. */
  estimated: number
}

const emptySums = (): Sums => ({ calls: 0, failed: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0, estimated: 0 })

function add(sums: Sums, record: CallRecord): void {
  const ai = record.ai
  if (!ai) return
  sums.calls++
  if (record.status >= 400) sums.failed++
  sums.promptTokens += ai.promptTokens
  sums.completionTokens += ai.completionTokens
  sums.totalTokens += ai.totalTokens
  sums.costUsd += ai.costUsd ?? 0
  if (ai.estimated) sums.estimated++
}

function rounded(sums: Sums): Sums {
  return { ...sums, costUsd: Math.round(sums.costUsd * 1e6) / 1e6 }
}

function keyOf(record: CallRecord, by: Dimension): string | null {
  const ai = record.ai
  if (by === 'consumer') return record.consumer
  if (by === 'tenant') return record.tenant
  if (by === 'route') return record.route
  if (!ai) return null
  if (by === 'provider') return ai.provider
  if (by === 'requested') return ai.requested
  return `${ai.provider}/${ai.model}`
}

/**
 * The AI calls of `routes` in [since, until), newest first, page by page. The call log has no
 * filter on `ai`, so each ai route is read by route and time; a page ends at the oldest time
 * it saw and the next one starts there again, skipping request ids already counted.
 */
async function readAiCalls(store: CallLogStore, routes: string[], filter: { since: number; until: number; consumer?: string; tenant?: string }, visit: (record: CallRecord) => void): Promise<boolean> {
  let read = 0
  for (const route of routes) {
    let until = filter.until
    let seen = new Set<string>()
    for (;;) {
      const page = await store.query({ route, since: filter.since, until, consumer: filter.consumer, tenant: filter.tenant, limit: pageSize })
      let fresh = 0
      const next = new Set<string>()
      for (const record of page) {
        if (seen.has(record.requestId)) continue
        fresh++
        if (record.ai) visit(record)
        if (++read >= maxCallsRead) return true
      }
      if (page.length < pageSize || fresh === 0) break
      const oldest = page[page.length - 1].time
      for (const record of page) if (record.time === oldest) next.add(record.requestId)
      // Re-read from the oldest millisecond (inclusive), so calls sharing it are not lost.
      until = oldest + 1
      seen = next
    }
  }
  return false
}

export const aiUsage = defineEndpoint({
  method: 'GET',
  path: '/api/analytics/ai',
  summary: 'AI usage and cost per time bucket and per consumer, tenant, model, provider, route or requested alias',
  action: 'read',
  query: AiUsageQuery,
  async handle({ principal, query }, deps) {
    if (!deps.store) return { status: 404, body: { title: 'Analytics off', detail: 'AI usage analytics need a call log (store: sqlite:... or postgres://...).' } }
    const spanMs = parseDurationMs(query.since) as number
    const bucketMs = parseDurationMs(query.bucket) as number
    if (bucketMs > spanMs) return { status: 400, body: { title: 'Invalid query', detail: `bucket (${query.bucket}) is longer than since (${query.since}).` } }
    if (spanMs / bucketMs > maxReportBuckets) return { status: 400, body: { title: 'Invalid query', detail: `since/bucket gives more than ${maxReportBuckets} buckets; use a wider bucket.` } }
    // A tenant admin sees its tenant's usage only, whatever it asked for.
    const tenant = principal.role === 'tenant-admin' ? principal.tenant : query.tenant
    const until = Date.now()
    const since = until - spanMs
    const aiRoutes = deps.runtime().routes.filter((r) => r.ai !== undefined).map((r) => r.name)
    const routes = query.route === undefined ? aiRoutes : aiRoutes.filter((r) => r === query.route)

    const totals = emptySums()
    const groups = new Map<string | null, Sums>()
    const buckets = new Map<string, { bucket: number; key: string | null; sums: Sums }>()
    const truncated = await readAiCalls(deps.store, routes, { since, until, consumer: query.consumer, tenant }, (record) => {
      const key = keyOf(record, query.by)
      add(totals, record)
      let group = groups.get(key)
      if (!group) groups.set(key, (group = emptySums()))
      add(group, record)
      const bucket = since + Math.floor((record.time - since) / bucketMs) * bucketMs
      const slot = `${bucket}\u0000${key ?? ''}`
      let entry = buckets.get(slot)
      if (!entry) buckets.set(slot, (entry = { bucket, key, sums: emptySums() }))
      add(entry.sums, record)
    })

    return {
      status: 200,
      body: {
        since,
        until,
        bucketMs,
        by: query.by,
        tenant: tenant ?? null,
        routes,
        totals: rounded(totals),
        groups: [...groups.entries()].map(([key, sums]) => ({ key, ...rounded(sums) })).sort((a, b) => b.costUsd - a.costUsd || b.totalTokens - a.totalTokens),
        buckets: [...buckets.values()].map(({ bucket, key, sums }) => ({ bucket, key, ...rounded(sums) })).sort((a, b) => a.bucket - b.bucket),
        truncated,
      },
    }
  },
})

/** AI usage and cost endpoints (issue 7). */
export const aiUsageEndpoints: AdminEndpoint[] = [aiUsage] as AdminEndpoint[]
