import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ObservabilityConfig, defaultObservabilityConfig } from './index.js'

/** Every field of an object schema, with its path, unwrapping defaults and optionals. */
function fieldsOf(schema: z.ZodType, path: string): { path: string; schema: z.ZodType }[] {
  const out: { path: string; schema: z.ZodType }[] = []
  let inner: z.ZodType = schema
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType
  if (inner instanceof z.ZodObject) {
    for (const [key, field] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
      out.push({ path: `${path}.${key}`, schema: field })
      out.push(...fieldsOf(field, `${path}.${key}`))
    }
  }
  return out
}

describe('observability config', () => {
  it('is all off but metrics by default', () => {
    expect(ObservabilityConfig.parse({})).toEqual({
      metrics: { enabled: true, processMetrics: true, durationBuckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
      tracing: { enabled: false, endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'gatehouse', sampleRatio: 1 },
      accessLog: false,
    })
  })

  it('offers the parsed defaults for the root schema', () => {
    expect(defaultObservabilityConfig).toEqual(ObservabilityConfig.parse({}))
    expect(ObservabilityConfig.parse(defaultObservabilityConfig)).toEqual(defaultObservabilityConfig)
  })

  it('fills tracing defaults when only enabled is given', () => {
    expect(ObservabilityConfig.parse({ tracing: { enabled: true } }).tracing).toEqual({ enabled: true, endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'gatehouse', sampleRatio: 1 })
  })

  it('describes every field', () => {
    const fields = fieldsOf(ObservabilityConfig, 'observability')
    expect(fields.map((f) => f.path)).toContain('observability.tracing.headers')
    for (const field of fields) expect(field.schema.description, field.path).toMatch(/\.$/)
  })

  it('marks exporter headers as secret', () => {
    const tracing = ObservabilityConfig.shape.tracing.unwrap()
    expect(tracing.shape.headers.meta()).toMatchObject({ secret: true })
  })

  it.each([
    [{ tracing: { sampleRatio: 1.5 } }, 'tracing.sampleRatio', 'expected number to be <=1'],
    [{ tracing: { sampleRatio: -0.1 } }, 'tracing.sampleRatio', 'expected number to be >=0'],
    [{ tracing: { endpoint: 'grpc://collector:4317' } }, 'tracing.endpoint', 'expected an http:// or https:// URL'],
    [{ tracing: { headers: { 'bad header': 'x' } } }, 'tracing.headers.bad header', 'expected an HTTP header name'],
    [{ tracing: { enable: true } }, 'tracing', 'enable'],
    [{ metrics: { durationBuckets: [1, 0.5] } }, 'metrics.durationBuckets', 'buckets must be in increasing order'],
    [{ metrics: { durationBuckets: [] } }, 'metrics.durationBuckets', '>=1'],
    [{ accessLog: 'yes' }, 'accessLog', 'expected boolean'],
    [{ logs: true }, '', 'logs'],
  ])('refuses %j at %s', (input, path, message) => {
    const result = ObservabilityConfig.safeParse(input)
    expect(result.success).toBe(false)
    const issue = result.error?.issues.find((i) => i.path.filter((p) => typeof p === 'string').join('.') === path)
    expect(issue, JSON.stringify(result.error?.issues)).toBeDefined()
    expect(`${issue?.message} ${JSON.stringify(issue)}`).toContain(message)
  })
})
