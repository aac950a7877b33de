import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../core/logger.js'
import { resolveTraceparent } from '../gateway/request-id.js'
import { buildUpstreamHeaders } from '../gateway/upstream/proxy.js'
import { makeContext } from '../testing/make-context.js'
import { ObservabilityConfig, createObservability } from './index.js'
import { makeCallRecord } from './make-call-record.js'
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js'
import { createTracing } from './tracing.js'

const incomingTraceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const incomingSpanId = '00f067aa0ba902b7'
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/

/** A context as createContext builds it for a request that carried `traceparent` (or none). */
function contextFor(traceparent: string | undefined, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...extra }
  if (traceparent !== undefined) headers.traceparent = traceparent
  const resolved = resolveTraceparent(traceparent)
  return makeContext({ method: 'POST', url: '/orders', headers, traceparent: resolved.traceparent, traceId: resolved.traceId })
}

let receiver: OtlpReceiver
beforeEach(async () => {
  receiver = await startOtlpReceiver()
})
afterEach(async () => {
  await receiver.close()
})

function tracingConfig(tracing: Record<string, unknown>) {
  return ObservabilityConfig.parse({ tracing: { enabled: true, endpoint: receiver.endpoint, ...tracing } })
}

describe('tracing', () => {
  it('exports a server span that is a child of the caller and becomes the upstream parent', async () => {
    const obs = createObservability(tracingConfig({ serviceName: 'edge-gw', headers: { 'x-collector-key': 'env:COLLECTOR_KEY' } }), { logger: silentLogger, env: { COLLECTOR_KEY: 'k-123' } })
    const ctx = contextFor(`00-${incomingTraceId}-${incomingSpanId}-01`)
    obs.onRequestStart(ctx)

    const replaced = traceparentPattern.exec(ctx.traceparent)
    expect(replaced).not.toBeNull()
    expect(replaced?.[1]).toBe(incomingTraceId)
    expect(replaced?.[2]).not.toBe(incomingSpanId)
    expect(replaced?.[3]).toBe('01')
    expect(ctx.traceId).toBe(incomingTraceId)

    obs.onRequestEnd(
      ctx,
      makeCallRecord({ method: 'POST', path: '/orders', traceId: ctx.traceId, status: 403, decision: 'authz', layer: 'authz', rule: 'missing-scope', upstreamStatus: null, upstreamMs: null, upstreamTarget: null }),
    )
    await obs.shutdown()

    expect(receiver.spans).toHaveLength(1)
    const span = receiver.spans[0]
    expect(span.serviceName).toBe('edge-gw')
    expect(span.name).toBe('POST orders')
    expect(span.kind).toBe(2) // SERVER in OTLP's enum
    expect(span.traceId).toBe(incomingTraceId)
    expect(span.parentSpanId).toBe(incomingSpanId)
    expect(span.spanId).toBe(replaced?.[2])
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/orders',
      'http.response.status_code': 403,
      'gatehouse.route': 'orders',
      'gatehouse.consumer': 'acme-app',
      'gatehouse.tenant': 'acme',
      'gatehouse.decision': 'authz',
      'gatehouse.layer': 'authz',
      'gatehouse.rule': 'missing-scope',
      'gatehouse.request_id': ctx.id,
    })
    expect(span.attributes).not.toHaveProperty('gatehouse.upstream.status')
    // A 403 is the gateway doing its job, not a server error.
    expect(span.status.code ?? 0).not.toBe(2)
    const post = receiver.requests.find((r) => r.method === 'POST')
    expect(post?.path).toBe('/v1/traces')
    expect(post?.headers['content-type']).toMatch(/^application\/json/)
    expect(post?.headers['x-collector-key']).toBe('k-123')
  })

  it('hands the gateway span to the proxy as the upstream traceparent', async () => {
    const obs = createObservability(tracingConfig({}), { logger: silentLogger })
    const ctx = contextFor(`00-${incomingTraceId}-${incomingSpanId}-01`, { tracestate: 'vendor=abc' })
    obs.onRequestStart(ctx)
    const upstream = buildUpstreamHeaders(ctx, false, false)
    obs.onRequestEnd(ctx, makeCallRecord())
    await obs.shutdown()
    expect(upstream.traceparent).toBe(ctx.traceparent)
    expect(upstream.traceparent).toBe(`00-${incomingTraceId}-${receiver.spans[0].spanId}-01`)
    // The caller's tracestate travels on untouched.
    expect(upstream.tracestate).toBe('vendor=abc')
  })

  it('starts a new trace when the caller sent no traceparent, and marks 5xx as errors with the upstream facts', async () => {
    const obs = createObservability(tracingConfig({}), { logger: silentLogger })
    const ctx = contextFor(undefined)
    const minted = ctx.traceparent
    obs.onRequestStart(ctx)
    expect(ctx.traceparent).not.toBe(minted)
    const [, traceId, spanId] = traceparentPattern.exec(ctx.traceparent) ?? []
    expect(ctx.traceId).toBe(traceId)

    obs.onRequestEnd(ctx, makeCallRecord({ status: 503, decision: 'upstream', layer: 'upstream', rule: 'status-503', upstreamStatus: 503, upstreamTarget: 'http://127.0.0.1:3001' }))
    await obs.shutdown()

    expect(receiver.spans).toHaveLength(1)
    const span = receiver.spans[0]
    expect(span.traceId).toBe(traceId)
    expect(span.spanId).toBe(spanId)
    // The minted traceparent names no real span, so it must not appear as a parent.
    expect(span.parentSpanId).toBeUndefined()
    expect(span.status.code).toBe(2) // ERROR
    expect(span.attributes['gatehouse.upstream.status']).toBe(503)
    expect(span.attributes['gatehouse.upstream.target']).toBe('http://127.0.0.1:3001')
    expect(span.attributes).not.toHaveProperty('gatehouse.rule', null)
  })

  it('honours the caller not sampling: nothing exported, flag 00 forwarded', async () => {
    const obs = createObservability(tracingConfig({ sampleRatio: 1 }), { logger: silentLogger })
    const ctx = contextFor(`00-${incomingTraceId}-${incomingSpanId}-00`)
    obs.onRequestStart(ctx)
    const [, traceId, spanId, flags] = traceparentPattern.exec(ctx.traceparent) ?? []
    expect(traceId).toBe(incomingTraceId)
    expect(spanId).not.toBe(incomingSpanId)
    expect(flags).toBe('00')
    obs.onRequestEnd(ctx, makeCallRecord())
    await obs.shutdown()
    expect(receiver.spans).toHaveLength(0)
  })

  it('sends nothing with sampleRatio 0 for traces that start at the gateway', async () => {
    const obs = createObservability(tracingConfig({ sampleRatio: 0 }), { logger: silentLogger })
    for (let i = 0; i < 50; i++) {
      const ctx = contextFor(undefined)
      obs.onRequestStart(ctx)
      expect(ctx.traceparent.endsWith('-00')).toBe(true)
      obs.onRequestEnd(ctx, makeCallRecord())
    }
    await obs.shutdown()
    expect(receiver.spans).toHaveLength(0)
    expect(receiver.requests).toHaveLength(0)
  })

  it('batches many requests into a few exports and keeps them apart', async () => {
    const obs = createObservability(tracingConfig({}), { logger: silentLogger })
    const ids = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const ctx = contextFor(undefined)
      obs.onRequestStart(ctx)
      ids.add(ctx.traceparent)
      obs.onRequestEnd(ctx, makeCallRecord({ requestId: `req-${i}` }))
    }
    await obs.shutdown()
    expect(receiver.spans).toHaveLength(200)
    expect(new Set(receiver.spans.map((s) => s.spanId)).size).toBe(200)
    expect(ids.size).toBe(200)
    expect(receiver.requests.length).toBeLessThanOrEqual(2)
  })

  it('logs a rejected export instead of dropping spans silently, and still shuts down', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) })
    const rejecting = await startOtlpReceiver({ rejectWith: 400 })
    try {
      const obs = createObservability(ObservabilityConfig.parse({ tracing: { enabled: true, endpoint: rejecting.endpoint } }), { logger })
      const ctx = contextFor(undefined)
      obs.onRequestStart(ctx)
      obs.onRequestEnd(ctx, makeCallRecord())
      await obs.shutdown()
      expect(rejecting.requests).toHaveLength(1)
      const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'trace export failed; check observability.tracing.endpoint')
      expect(warning).toMatchObject({ endpoint: rejecting.endpoint, droppedSpans: 1 })
    } finally {
      await rejecting.close()
    }
  })
})

describe('tracing disabled', () => {
  it('creates no provider and leaves the context untouched', () => {
    const config = ObservabilityConfig.parse({})
    expect(createTracing(config.tracing, { logger: silentLogger })).toBeUndefined()
    const obs = createObservability(config, { logger: silentLogger })
    const ctx = contextFor(`00-${incomingTraceId}-${incomingSpanId}-01`)
    obs.onRequestStart(ctx)
    expect(ctx.traceparent).toBe(`00-${incomingTraceId}-${incomingSpanId}-01`)
    expect(ctx.traceId).toBe(incomingTraceId)
  })
})
