import { z } from 'zod'
import type { Logger } from '../core/logger.js'
import type { RequestContext } from '../gateway/context.js'
import type { CallRecord } from '../store/types.js'
import { createAccessLog } from './access-log.js'
import { createGatewayMetrics } from './metrics.js'
import { MetricsConfig, TracingConfig, defaultMetricsConfig, defaultTracingConfig } from './schema.js'
import { createTracing } from './tracing.js'

export { MetricsConfig, TracingConfig, defaultDurationBuckets } from './schema.js'
export { isGatewayDenial, methodLabel, statusClassLabel } from './metrics.js'
export { formatTraceparent } from './tracing.js'

/** The `observability` key of the root config: metrics, tracing and access logs. */
export const ObservabilityConfig = z
  .object({
    metrics: MetricsConfig.default(defaultMetricsConfig).describe('Prometheus metrics, served on the admin listener at GET /metrics. On by default.'),
    tracing: TracingConfig.default(defaultTracingConfig).describe('OpenTelemetry tracing: a span per request, exported over OTLP/HTTP, with W3C traceparent propagated to upstreams. Off by default.'),
    accessLog: z
      .boolean()
      .default(false)
      .describe('Write one structured JSON line per request (no query strings, headers or bodies) to the process log. Default false: the call log already keeps every request.'),
  })
  .strict()
  .describe('Metrics, tracing and access logs for the gateway. Read when the gateway starts; a hot reload does not change them.')

/** Parsed `observability` settings. */
export type ObservabilitySettings = z.output<typeof ObservabilityConfig>

/** The settings when the `observability` key is absent, for the root schema's `.default()` (zod 4 does not parse a default through the schema). */
export const defaultObservabilityConfig: ObservabilitySettings = { metrics: defaultMetricsConfig, tracing: defaultTracingConfig, accessLog: false }

/** What the gateway calls to record metrics, traces and access logs for its requests. */
export interface Observability {
  /**
   * Called when a request arrives, after ctx is built. Starts the span as a child of the
   * caller's traceparent (or a new trace) and replaces ctx.traceparent and ctx.traceId with the
   * new span's, so the upstream sees the gateway's span as its parent. A no-op (no allocation)
   * when tracing is off.
   */
  onRequestStart(ctx: RequestContext): void
  /**
   * Called once per call with the CallRecord the call log receives: updates metrics, ends the
   * span with the decision as attributes (status ERROR for 5xx), and writes the access-log line
   * when enabled.
   */
  onRequestEnd(ctx: RequestContext, record: CallRecord): void
  /** Sets the health gauge of one upstream target (1 healthy, 0 not). */
  setUpstreamHealth(upstream: string, target: string, healthy: boolean): void
  /** Prometheus text exposition of the registry, with its content type. */
  metrics(): Promise<{ contentType: string; body: string }>
  /** Exports queued spans and stops the exporter. Safe to call more than once. */
  shutdown(): Promise<void>
}

/** Dependencies of createObservability. `env` resolves `env:NAME` exporter header values (default process.env). */
export interface ObservabilityOptions {
  logger: Logger
  env?: Record<string, string | undefined>
}

function doNothing(): void {}

/**
 * Builds metrics, tracing and the access log from the `observability` config. Parts that are
 * off cost nothing per request: their hooks are not called at all, and disabled tracing
 * creates no provider or exporter.
 */
export function createObservability(config: z.output<typeof ObservabilityConfig>, options: ObservabilityOptions): Observability {
  const metrics = createGatewayMetrics(config.metrics)
  const tracing = createTracing(config.tracing, { logger: options.logger, env: options.env })
  const writeAccessLine = config.accessLog ? createAccessLog(options.logger) : undefined
  let stopped: Promise<void> | undefined

  return {
    // Chosen once here rather than tested per request.
    onRequestStart: tracing ? (ctx) => tracing.start(ctx) : doNothing,
    onRequestEnd(ctx, record) {
      metrics.observe(record)
      if (tracing) tracing.end(ctx, record)
      if (writeAccessLine) writeAccessLine(record)
    },
    setUpstreamHealth: (upstream, target, healthy) => metrics.setUpstreamHealth(upstream, target, healthy),
    metrics: () => metrics.render(),
    shutdown() {
      stopped ??= tracing ? tracing.shutdown() : Promise.resolve()
      return stopped
    },
  }
}
