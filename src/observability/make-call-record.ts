import type { CallRecord } from '../store/types.js'

/** A CallRecord for observability tests: an allowed GET on route `orders`, override what the test is about. */
export function makeCallRecord(overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    time: Date.UTC(2026, 0, 1),
    requestId: '01TESTREQUEST0000000000000',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    route: 'orders',
    consumer: 'acme-app',
    tenant: 'acme',
    method: 'GET',
    path: '/orders',
    status: 200,
    decision: 'allow',
    layer: 'upstream',
    rule: null,
    upstreamStatus: 200,
    upstreamMs: 12,
    totalMs: 15,
    requestBytes: 0,
    responseBytes: 42,
    clientIp: '127.0.0.1',
    upstreamTarget: 'http://127.0.0.1:3001',
    trail: [],
    denial: null,
    ...overrides,
  }
}
