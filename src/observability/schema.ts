import { z } from 'zod'

/** Request-duration buckets in seconds: the gateway's own decisions take well under a millisecond, proxied calls up to tens of seconds. */
export const defaultDurationBuckets: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])

const durationBuckets = z
  .array(z.number().positive().max(3600))
  .min(1)
  .max(40)
  .refine((list) => list.every((value, i) => i === 0 || value > list[i - 1]), 'buckets must be in increasing order')

/** `observability.metrics`: the Prometheus registry served on the admin `GET /metrics`. */
export const MetricsConfig = z
  .object({
    enabled: z.boolean().default(true).describe('Count requests, denials and durations for Prometheus (served on the admin listener at GET /metrics). Default true.'),
    processMetrics: z
      .boolean()
      .default(true)
      .describe('Also export the standard Node.js process metrics (CPU, memory, event-loop lag, handles) under their usual names. Default true.'),
    durationBuckets: durationBuckets
      .default([...defaultDurationBuckets])
      .describe('Upper bounds, in seconds and increasing, of the request and upstream duration histogram buckets. Default 0.0005 to 30 seconds in 15 steps.'),
  })
  .strict()

/** Default of `observability.metrics`, spelled out because zod 4 does not parse a `.default()` value through the inner schema. */
export const defaultMetricsConfig: z.output<typeof MetricsConfig> = { enabled: true, processMetrics: true, durationBuckets: [...defaultDurationBuckets] }

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'expected an HTTP header name')

/** `observability.tracing`: OpenTelemetry spans exported over OTLP/HTTP (JSON). */
export const TracingConfig = z
  .object({
    enabled: z.boolean().default(false).describe('Create an OpenTelemetry span per request and send it to an OTLP/HTTP collector. Default false: no tracer is created and traceparent is forwarded unchanged.'),
    endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .default('http://127.0.0.1:4318/v1/traces')
      .describe('Full OTLP/HTTP traces URL of the collector, including the /v1/traces path. Default http://127.0.0.1:4318/v1/traces.'),
    serviceName: z.string().min(1).max(256).default('gatehouse').describe("The service.name resource attribute spans carry. Default 'gatehouse'."),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe("Share of new traces (requests without a sampled caller's traceparent) that are recorded, from 0 to 1. A caller's traceparent sampled flag is always honoured. Default 1."),
    headers: z
      .record(headerName, z.string().max(8192).describe("The header's value, or 'env:NAME' to read it from the environment."))
      .optional()
      // Marked secret: exporter headers usually carry a collector API key, which the admin API must not echo.
      .meta({
        secret: true,
        description: "Extra headers sent with every export, e.g. a collector's API key. A value written 'env:NAME' is read from the environment variable NAME, so the secret stays out of the file.",
      }),
  })
  .strict()

/** Default of `observability.tracing`. */
export const defaultTracingConfig: z.output<typeof TracingConfig> = { enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'gatehouse', sampleRatio: 1 }
