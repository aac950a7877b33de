import { createHash } from 'node:crypto'
import { pino } from 'pino'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startOtlpReceiver, type OtlpReceiver } from '../src/observability/otlp-receiver.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

// Observability as wired by startGateway from the `observability:` config key: a real gateway,
// a real upstream and a real OTLP/HTTP receiver, all on 127.0.0.1 port 0.
const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const callerSpanId = '00f067aa0ba902b7'

describe('observability through the gateway', () => {
  let upstream: TestUpstream
  let receiver: OtlpReceiver
  let gateway: TestGateway
  const logLines: Record<string, unknown>[] = []
  let metricsText = ''
  let metricsType = ''
  let closed = false

  beforeAll(async () => {
    upstream = await startUpstream()
    receiver = await startOtlpReceiver()
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) })
    gateway = await startTestGateway(
      `
admin: { tokens: [ "admin-token-0123456789abcdef" ] }
observability:
  tracing: { enabled: true, endpoint: "${receiver.endpoint}", serviceName: gatehouse-e2e }
  accessLog: true
upstreams: { orders: { targets: [ "${upstream.url}" ] } }
consumers:
  - { name: acme-app, tenant: acme, keys: [ "sha256:${sha('acme-key')}" ], scopes: [ orders:write ] }
routes:
  - { name: orders-create, match: { methods: [ POST ], path: /orders }, upstream: orders, policies: { auth: { methods: [ key ] }, scopes: [ orders:write ] } }
`,
      { logger },
    )
    const allowed = await request(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { 'x-api-key': 'acme-key', 'x-request-id': 'obs-allowed', traceparent: `00-${callerTraceId}-${callerSpanId}-01`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(allowed.statusCode).toBe(200)
    await allowed.body.dump()
    const denied = await request(`${gateway.url}/orders?api_key=wrong-key-in-query`, { method: 'POST', headers: { 'x-request-id': 'obs-denied' }, body: '{}' })
    expect(denied.statusCode).toBe(401)
    await denied.body.dump()
    const metrics = await request(`${gateway.adminUrl}/metrics`)
    metricsType = String(metrics.headers['content-type'])
    metricsText = await metrics.body.text()
    await gateway.store?.flush()
  })

  afterAll(async () => {
    if (!closed) await gateway.close(100)
    await upstream.close()
    await receiver.close()
  })

  it('serves the request and denial series on the admin /metrics', () => {
    expect(metricsType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(metricsText).toContain('gatehouse_requests_total{route="orders-create",method="POST",status="200",decision="allow",layer="upstream",rule=""} 1')
    expect(metricsText).toContain('gatehouse_requests_total{route="orders-create",method="POST",status="401",decision="authn",layer="authn",rule=')
    expect(metricsText).toMatch(/gatehouse_denials_total\{route="orders-create",layer="authn",rule="[a-z-]+",status="401"\} 1/)
    expect(metricsText).toContain('gatehouse_upstream_duration_seconds_count{route="orders-create",upstream_status_class="2xx"} 1')
    expect(metricsText).toContain('gatehouse_request_duration_seconds_count{route="orders-create",decision="allow"} 1')
    expect(metricsText).toContain('process_resident_memory_bytes')
  })

  it('makes the gateway span the upstream parent and exports both requests after close', async () => {
    const sent = upstream.requests[0].headers.traceparent
    expect(upstream.requests).toHaveLength(1)
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(sent))
    expect(match?.[1]).toBe(callerTraceId)
    expect(match?.[2]).not.toBe(callerSpanId)

    const allowedRow = await gateway.store?.get('obs-allowed')
    const deniedRow = await gateway.store?.get('obs-denied')
    closed = true
    await gateway.close(100)

    expect(receiver.spans).toHaveLength(2)
    const allowed = receiver.spans.find((s) => s.attributes['gatehouse.request_id'] === 'obs-allowed')
    expect(allowed).toMatchObject({ serviceName: 'gatehouse-e2e', name: 'POST orders-create', traceId: callerTraceId, parentSpanId: callerSpanId, spanId: match?.[2] })
    expect(allowed?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/orders',
      'http.response.status_code': 200,
      'gatehouse.route': 'orders-create',
      'gatehouse.consumer': 'acme-app',
      'gatehouse.tenant': 'acme',
      'gatehouse.decision': 'allow',
      'gatehouse.layer': 'upstream',
      'gatehouse.upstream.status': 200,
      'gatehouse.upstream.target': upstream.url,
    })
    // The call log's trace id is the exported trace: `gatehouse why` and the tracing backend agree.
    expect(allowedRow?.traceId).toBe(callerTraceId)

    const denied = receiver.spans.find((s) => s.attributes['gatehouse.request_id'] === 'obs-denied')
    expect(denied?.parentSpanId).toBeUndefined()
    expect(denied?.traceId).toBe(deniedRow?.traceId)
    expect(denied?.attributes).toMatchObject({ 'gatehouse.decision': 'authn', 'gatehouse.layer': 'authn', 'http.response.status_code': 401, 'url.path': '/orders' })
    expect(typeof denied?.attributes['gatehouse.rule']).toBe('string')
  })

  it('writes an access-log line per request, without the query string', () => {
    const access = logLines.filter((line) => line.log === 'access')
    expect(access.map((line) => [line.requestId, line.status, line.decision])).toEqual([
      ['obs-allowed', 200, 'allow'],
      ['obs-denied', 401, 'authn'],
    ])
    expect(access[0]).toMatchObject({ traceId: callerTraceId, route: 'orders-create', consumer: 'acme-app', upstreamStatus: 200, path: '/orders' })
    expect(JSON.stringify(access)).not.toContain('wrong-key-in-query')
  })
})
