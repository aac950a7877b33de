import { describe, expect, it } from 'vitest'
import { silentLogger } from '../core/logger.js'
import { makeContext } from '../testing/make-context.js'
import { ObservabilityConfig, createObservability } from './index.js'
import { makeCallRecord } from './make-call-record.js'
import { createGatewayMetrics, isGatewayDenial } from './metrics.js'

const defaults = ObservabilityConfig.parse({})

function sampleLine(body: string, name: string, labels: string): string | undefined {
  return body.split('\n').find((line) => line.startsWith(`${name}{${labels}}`))
}

function sampleValue(body: string, name: string, labels: string): number | undefined {
  const line = sampleLine(body, name, labels)
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('gateway metrics', () => {
  it('counts requests, denials and durations from call records', async () => {
    const obs = createObservability(defaults, { logger: silentLogger })
    const ctx = makeContext()
    obs.onRequestEnd(ctx, makeCallRecord())
    obs.onRequestEnd(ctx, makeCallRecord({ totalMs: 40 }))
    obs.onRequestEnd(ctx, makeCallRecord({ method: 'POST', status: 403, decision: 'authz', layer: 'authz', rule: 'missing-scope', upstreamStatus: null, upstreamMs: null, totalMs: 0.3 }))
    obs.onRequestEnd(ctx, makeCallRecord({ status: 403, decision: 'upstream', layer: 'upstream', rule: 'status-403', upstreamStatus: 403, upstreamMs: 2000 }))

    const { contentType, body } = await obs.metrics()
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(sampleValue(body, 'gatehouse_requests_total', 'route="orders",method="GET",status="200",decision="allow",layer="upstream",rule=""')).toBe(2)
    expect(sampleValue(body, 'gatehouse_requests_total', 'route="orders",method="POST",status="403",decision="authz",layer="authz",rule="missing-scope"')).toBe(1)
    expect(sampleValue(body, 'gatehouse_requests_total', 'route="orders",method="GET",status="403",decision="upstream",layer="upstream",rule="status-403"')).toBe(1)
    // Only the gateway's own refusal is a denial; the upstream's passed-through 403 is not.
    expect(sampleValue(body, 'gatehouse_denials_total', 'route="orders",layer="authz",rule="missing-scope",status="403"')).toBe(1)
    expect(body).not.toContain('gatehouse_denials_total{route="orders",layer="upstream"')

    expect(sampleValue(body, 'gatehouse_request_duration_seconds_count', 'route="orders",decision="allow"')).toBe(2)
    expect(sampleValue(body, 'gatehouse_request_duration_seconds_bucket', 'le="0.025",route="orders",decision="allow"')).toBe(1)
    expect(sampleValue(body, 'gatehouse_request_duration_seconds_bucket', 'le="0.05",route="orders",decision="allow"')).toBe(2)
    expect(sampleValue(body, 'gatehouse_request_duration_seconds_sum', 'route="orders",decision="allow"')).toBeCloseTo(0.055, 6)
    expect(sampleValue(body, 'gatehouse_request_duration_seconds_bucket', 'le="0.0005",route="orders",decision="authz"')).toBe(1)

    expect(sampleValue(body, 'gatehouse_upstream_duration_seconds_count', 'route="orders",upstream_status_class="2xx"')).toBe(2)
    expect(sampleValue(body, 'gatehouse_upstream_duration_seconds_bucket', 'le="2.5",route="orders",upstream_status_class="4xx"')).toBe(1)
    expect(sampleValue(body, 'gatehouse_upstream_duration_seconds_bucket', 'le="1",route="orders",upstream_status_class="4xx"')).toBe(0)
    // No upstream time for a call the gateway refused: nothing observed under `none`.
    expect(body).not.toContain('upstream_status_class="none"')

    expect(body).toContain('# TYPE gatehouse_request_duration_seconds histogram')
    expect(body).toContain('# TYPE process_cpu_user_seconds_total counter')
    expect(body).toContain('nodejs_eventloop_lag_seconds')
    await obs.shutdown()
  })

  it('never labels by path or consumer, and bounds client-chosen methods', async () => {
    const metrics = createGatewayMetrics(defaults.metrics)
    metrics.observe(makeCallRecord({ path: '/orders/123?token=abc', consumer: 'secret-consumer', method: 'BREW' }))
    const { body } = await metrics.render()
    expect(body).not.toContain('/orders/123')
    expect(body).not.toContain('secret-consumer')
    expect(body).not.toContain('BREW')
    expect(sampleValue(body, 'gatehouse_requests_total', 'route="orders",method="_OTHER",status="200",decision="allow",layer="upstream",rule=""')).toBe(1)
  })

  it('reuses one bound child per label tuple', async () => {
    const metrics = createGatewayMetrics(defaults.metrics)
    for (let i = 0; i < 1000; i++) metrics.observe(makeCallRecord({ totalMs: i % 50 }))
    for (let i = 0; i < 10; i++) metrics.observe(makeCallRecord({ route: 'users', status: 401, decision: 'authn', layer: 'authn', rule: 'missing-credentials', upstreamStatus: null, upstreamMs: null }))
    expect(metrics.cachedChildren()).toEqual({
      gatehouse_requests_total: 2,
      gatehouse_denials_total: 1,
      gatehouse_request_duration_seconds: 2,
      gatehouse_upstream_duration_seconds: 1,
      gatehouse_upstream_target_healthy: 0,
    })
    const { body } = await metrics.render()
    expect(sampleValue(body, 'gatehouse_requests_total', 'route="orders",method="GET",status="200",decision="allow",layer="upstream",rule=""')).toBe(1000)
    expect(sampleValue(body, 'gatehouse_denials_total', 'route="users",layer="authn",rule="missing-credentials",status="401"')).toBe(10)
  })

  it('reports upstream target health as a 1/0 gauge', async () => {
    const obs = createObservability(defaults, { logger: silentLogger })
    obs.setUpstreamHealth('orders', 'http://127.0.0.1:3001', true)
    obs.setUpstreamHealth('orders', 'http://127.0.0.1:3002', true)
    obs.setUpstreamHealth('orders', 'http://127.0.0.1:3002', false)
    const { body } = await obs.metrics()
    expect(sampleValue(body, 'gatehouse_upstream_target_healthy', 'upstream="orders",target="http://127.0.0.1:3001"')).toBe(1)
    expect(sampleValue(body, 'gatehouse_upstream_target_healthy', 'upstream="orders",target="http://127.0.0.1:3002"')).toBe(0)
  })

  it('keeps two instances apart (no global registry)', async () => {
    const a = createGatewayMetrics(defaults.metrics)
    const b = createGatewayMetrics(defaults.metrics)
    a.observe(makeCallRecord())
    const { body } = await b.render()
    expect(body).not.toContain('gatehouse_requests_total{')
  })

  it('exports nothing when metrics are disabled, and only gatehouse series without process metrics', async () => {
    const off = createGatewayMetrics(ObservabilityConfig.parse({ metrics: { enabled: false } }).metrics)
    off.observe(makeCallRecord())
    off.setUpstreamHealth('orders', 'http://127.0.0.1:3001', true)
    expect((await off.render()).body.trim()).toBe('')

    const lean = createGatewayMetrics(ObservabilityConfig.parse({ metrics: { processMetrics: false, durationBuckets: [0.01, 1] } }).metrics)
    lean.observe(makeCallRecord())
    const { body } = await lean.render()
    expect(body).not.toContain('process_cpu')
    expect(body.split('\n').filter((line) => line.startsWith('gatehouse_request_duration_seconds_bucket'))).toEqual([
      'gatehouse_request_duration_seconds_bucket{le="0.01",route="orders",decision="allow"} 0',
      'gatehouse_request_duration_seconds_bucket{le="1",route="orders",decision="allow"} 1',
      'gatehouse_request_duration_seconds_bucket{le="+Inf",route="orders",decision="allow"} 1',
    ])
  })
})

describe('isGatewayDenial', () => {
  it.each([
    ['an allowed call', makeCallRecord(), false],
    ['a policy denial', makeCallRecord({ status: 429, decision: 'rate-limit', layer: 'rate-limit', rule: 'exceeded', upstreamStatus: null }), true],
    ['the upstream answering 403 itself', makeCallRecord({ status: 403, decision: 'upstream', layer: 'upstream', rule: 'status-403', upstreamStatus: 403 }), false],
    ['a 502 the gateway answered for a dead upstream', makeCallRecord({ status: 502, decision: 'upstream', layer: 'upstream', rule: 'unreachable', upstreamStatus: null }), true],
    ['a client that hung up', makeCallRecord({ status: 499, decision: 'client-closed', layer: 'upstream', upstreamStatus: null }), false],
    ['no route matched', makeCallRecord({ route: null, status: 404, decision: 'gateway', layer: 'gateway', rule: 'no-route', upstreamStatus: null }), true],
  ])('%s → %s', (_name, record, expected) => {
    expect(isGatewayDenial(record)).toBe(expected)
  })
})
