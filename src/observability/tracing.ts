import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace, type Span, type SpanContext, type Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions'
import type { z } from 'zod'
import type { Logger } from '../core/logger.js'
import type { RequestContext } from '../gateway/context.js'
import type { CallRecord } from '../store/types.js'
import { methodLabel } from './metrics.js'
import type { TracingConfig } from './schema.js'

/** Per-request spans for the gateway. Only exists when tracing is enabled. */
export interface GatewayTracing {
  /** Starts the request's span and points ctx.traceparent / ctx.traceId at it. */
  start(ctx: RequestContext): void
  /** Ends the request's span with the decision as attributes. */
  end(ctx: RequestContext, record: CallRecord): void
  /** Exports what is queued and stops the exporter. */
  shutdown(): Promise<void>
}

/** Tracing options beyond the config: where `env:NAME` header values are read from, and the log for export failures. */
export interface TracingOptions {
  logger: Logger
  env?: Record<string, string | undefined>
}

// Exporter failures are logged at most this often: a dead collector must not flood the process log.
const exportFailureLogIntervalMs = 60_000

// Tracestate is optional context for vendors; an oversized one is dropped rather than parsed (W3C caps it at 512 chars in practice).
const maxTracestateLength = 512

/**
 * Creates the tracer, or returns undefined when tracing is disabled, so a disabled gateway
 * builds no provider, exporter or timer at all.
 *
 * No global tracer provider, propagator or context manager is registered: the gateway passes
 * the parent context explicitly, so Node internals are not patched and two gateways in one
 * process do not share state.
 */
export function createTracing(config: z.output<typeof TracingConfig>, options: TracingOptions): GatewayTracing | undefined {
  if (!config.enabled) return undefined
  const env = options.env ?? process.env
  const exporter = new LoggingExporter(
    new OTLPTraceExporter({ url: config.endpoint, headers: resolveHeaders(config.headers, env), timeoutMillis: 10_000 }),
    options.logger,
    config.endpoint,
  )
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    // Parent-based: a caller's sampled flag decides for its trace; the ratio only decides for traces that start here.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 2000, exportTimeoutMillis: 10_000 })],
  })
  const tracer = provider.getTracer('gatehouse')
  // Spans live beside the context, not on it: RequestContext stays a plain data object.
  const spans = new WeakMap<RequestContext, Span>()

  return {
    start(ctx) {
      const span = startRequestSpan(tracer, ctx)
      const sc = span.spanContext()
      ctx.traceId = sc.traceId
      ctx.traceparent = formatTraceparent(sc)
      if (span.isRecording()) spans.set(ctx, span)
    },
    end(ctx, record) {
      const span = spans.get(ctx)
      if (span === undefined) return
      spans.delete(ctx)
      endRequestSpan(span, record)
    },
    async shutdown() {
      // Stopping must not fail because the collector is down; the spans are lost either way.
      try {
        await provider.shutdown()
      } catch (error) {
        options.logger.warn({ endpoint: config.endpoint, err: error instanceof Error ? error.message : String(error) }, 'trace export failed during shutdown')
      }
    },
  }
}

function startRequestSpan(tracer: Tracer, ctx: RequestContext): Span {
  const parent = remoteParentOf(ctx)
  const parentContext = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT
  const method = methodLabel(ctx.method)
  const span = tracer.startSpan(method, { kind: SpanKind.SERVER }, parentContext)
  if (span.isRecording()) {
    span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method)
    if (method !== ctx.method) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, ctx.method.slice(0, 64))
    span.setAttribute(ATTR_CLIENT_ADDRESS, ctx.clientIp)
    span.setAttribute('gatehouse.request_id', ctx.id)
  }
  return span
}

/**
 * The caller's span, when the caller sent a valid traceparent. createContext mints a traceparent
 * when none (or a malformed one) arrived; that minted one names no real span, so it must not
 * become a parent, and the header comparison tells the two apart without parsing again.
 */
function remoteParentOf(ctx: RequestContext): SpanContext | undefined {
  const incoming = ctx.headers.traceparent
  if (incoming === undefined || incoming !== ctx.traceparent) return undefined
  // createContext validated the shape: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>.
  const flags = Number.parseInt(incoming.slice(53, 55), 16)
  const parent: SpanContext = {
    traceId: incoming.slice(3, 35),
    spanId: incoming.slice(36, 52),
    traceFlags: flags & TraceFlags.SAMPLED,
    isRemote: true,
  }
  const state = ctx.headers.tracestate
  if (typeof state === 'string' && state.length > 0 && state.length <= maxTracestateLength) parent.traceState = createTraceState(state)
  return parent
}

/** W3C traceparent for a span context (version 00). */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00'}`
}

function endRequestSpan(span: Span, record: CallRecord): void {
  // HTTP semantic conventions name a server span `{method} {route}`; a Gatehouse route is a config name, which is just as low-cardinality.
  if (record.route !== null) span.updateName(`${methodLabel(record.method)} ${record.route}`)
  span.setAttribute(ATTR_URL_PATH, record.path)
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, record.status)
  if (record.route !== null) span.setAttribute('gatehouse.route', record.route)
  if (record.consumer !== null) span.setAttribute('gatehouse.consumer', record.consumer)
  if (record.tenant !== null) span.setAttribute('gatehouse.tenant', record.tenant)
  span.setAttribute('gatehouse.decision', record.decision)
  span.setAttribute('gatehouse.layer', record.layer)
  if (record.rule !== null) span.setAttribute('gatehouse.rule', record.rule)
  if (record.upstreamStatus !== null) span.setAttribute('gatehouse.upstream.status', record.upstreamStatus)
  if (record.upstreamTarget !== null) span.setAttribute('gatehouse.upstream.target', record.upstreamTarget)
  // Server spans are errors for 5xx only: a 4xx is the client's problem, and a denial is the gateway working (OTel HTTP semconv).
  if (record.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: record.rule ?? `status ${record.status}` })
  span.end()
}

function resolveHeaders(headers: Record<string, string> | undefined, env: Record<string, string | undefined>): Record<string, string> | undefined {
  if (headers === undefined) return undefined
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name] = value.startsWith('env:') ? (env[value.slice(4)] ?? '') : value
  }
  return out
}

/** Passes spans to the OTLP exporter and logs failed exports (rate-limited), which the SDK would otherwise drop silently. */
class LoggingExporter implements SpanExporter {
  private lastLoggedAt = -Infinity
  private failedSinceLog = 0

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
    private readonly endpoint: string,
  ) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(spans, (result) => {
      if (result.code !== 0) this.noteFailure(spans.length, result.error)
      done(result)
    })
  }

  private noteFailure(count: number, error: Error | undefined): void {
    this.failedSinceLog += count
    const now = performance.now()
    if (now - this.lastLoggedAt < exportFailureLogIntervalMs) return
    this.lastLoggedAt = now
    this.logger.warn({ endpoint: this.endpoint, droppedSpans: this.failedSinceLog, err: error?.message }, 'trace export failed; check observability.tracing.endpoint')
    this.failedSinceLog = 0
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}
