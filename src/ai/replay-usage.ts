import type { CallLogStore } from '../store/types.js'

/** Rows read per call-log query while replaying usage. */
const pageSize = 1000

/**
 * The AI calls of one route in `[since, until)`, newest first, paged through the call log's own
 * query (so it works on SQLite and PostgreSQL alike). Calls that share the millisecond at a page
 * boundary are read again and skipped by request id, so none is counted twice or missed.
 */
export async function* aiCallsOf(store: CallLogStore, route: string, since: number, until: number): AsyncGenerator<{ time: number; consumer: string | null; tenant: string | null; clientIp: string; totalTokens: number; costUsd: number | null }> {
  let upper = until
  let seenAtBoundary = new Set<string>()
  for (;;) {
    const page = await store.query({ route, since, until: upper, limit: pageSize })
    let fresh = 0
    for (const call of page) {
      if (seenAtBoundary.has(call.requestId)) continue
      fresh++
      if (call.ai) yield { time: call.time, consumer: call.consumer, tenant: call.tenant, clientIp: call.clientIp, totalTokens: call.ai.totalTokens, costUsd: call.ai.costUsd }
    }
    if (page.length < pageSize || fresh === 0) return
    const oldest = page[page.length - 1].time
    seenAtBoundary = new Set(page.filter((c) => c.time === oldest).map((c) => c.requestId))
    upper = oldest + 1
  }
}
