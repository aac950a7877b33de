import { z } from 'zod'
import type { CallRecord } from '../../store/types.js'
import { defineEndpoint, type AdminEndpoint } from '../types.js'

/** How often an idle stream sends a comment, so proxies and browsers keep it open. */
export const heartbeatMs = 15_000
/** A client this far behind loses events instead of growing the gateway's memory. */
const maxBufferedBytes = 1024 * 1024

const StreamQuery = z
  .object({
    denied: z.enum(['true', 'false']).optional().describe('Only calls refused by the gateway or the upstream (status >= 400).'),
    route: z.string().max(200).optional().describe('Route name.'),
    consumer: z.string().max(200).optional().describe('Consumer name.'),
    tenant: z.string().max(200).optional().describe('Tenant name (a tenant admin always gets its own only).'),
    layer: z.string().max(50).optional().describe('Deciding layer (authz, upstream, ...).'),
    status: z.coerce.number().int().min(100).max(599).optional().describe('Exact status.'),
    since: z.string().max(40).optional().describe('Accepted for parity with /api/calls; the stream starts now.'),
    until: z.string().max(40).optional().describe('Accepted for parity with /api/calls; ignored.'),
    limit: z.string().max(10).optional().describe('Accepted for parity with /api/calls; ignored.'),
  })
  .strict()

export const streamCalls = defineEndpoint({
  method: 'GET',
  path: '/api/calls/stream',
  summary: 'Live tail: every call as it is logged, as server-sent events (event: call), with the /api/calls filters; the token may be given as ?access_token= here only',
  action: 'read',
  tokenInQuery: true,
  query: StreamQuery,
  async handle({ principal, query }, deps) {
    const subscribe = deps.onCall
    if (!subscribe) return { status: 503, body: { title: 'Live tail unavailable', detail: 'This gateway was started without the live call feed.' } }
    // A tenant admin gets its tenant's calls only, whatever it asked for.
    const tenant = principal.role === 'tenant-admin' ? principal.tenant : query.tenant
    const matches = (call: CallRecord) =>
      (query.denied !== 'true' || call.status >= 400) &&
      (query.route === undefined || call.route === query.route) &&
      (query.consumer === undefined || call.consumer === query.consumer) &&
      (tenant === undefined || call.tenant === tenant) &&
      (query.layer === undefined || call.layer === query.layer) &&
      (query.status === undefined || call.status === query.status)
    return {
      status: 200,
      body: null,
      stream(req, res) {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
        res.write('retry: 3000\n: connected\n\n')
        let dropped = 0
        const unsubscribe = subscribe((call) => {
          if (!matches(call)) return
          if (res.writableLength > maxBufferedBytes) {
            dropped++
            return
          }
          if (dropped > 0) {
            res.write(`event: dropped\ndata: {"count":${dropped}}\n\n`)
            dropped = 0
          }
          res.write(`event: call\ndata: ${JSON.stringify(call)}\n\n`)
        })
        const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs)
        heartbeat.unref()
        let closed = false
        const close = () => {
          if (closed) return
          closed = true
          clearInterval(heartbeat)
          unsubscribe()
        }
        req.on('close', close)
        res.on('close', close)
        res.on('error', close)
      },
    }
  },
})

export const streamEndpoints: AdminEndpoint[] = [streamCalls] as AdminEndpoint[]
