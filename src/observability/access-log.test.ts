import { PassThrough } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { makeContext } from '../testing/make-context.js'
import { ObservabilityConfig, createObservability } from './index.js'
import { makeCallRecord } from './make-call-record.js'

/** A pino logger writing into memory, the way the gateway's logger writes to stderr. */
function memoryLogger(level = 'info') {
  const stream = new PassThrough()
  const lines: Record<string, unknown>[] = []
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>)
  })
  const logger = pino({ level, base: { service: 'gatehouse' } }, stream)
  return { logger, lines, flushed: () => new Promise<void>((resolve) => setImmediate(resolve)) }
}

describe('access log', () => {
  it('writes one JSON line per call with the decision and no secrets', async () => {
    const { logger, lines, flushed } = memoryLogger()
    const obs = createObservability(ObservabilityConfig.parse({ accessLog: true }), { logger })
    const record = makeCallRecord({
      method: 'POST',
      path: '/orders',
      status: 403,
      decision: 'authz',
      layer: 'authz',
      rule: 'missing-scope',
      upstreamStatus: null,
      upstreamMs: null,
      upstreamTarget: null,
      totalMs: 0.42,
      requestBytes: 17,
      responseBytes: 0,
      denial: { message: 'needs orders:write', detail: { keyId: 'k_1' } },
      trail: [{ layer: 'authz', result: 'deny', rule: 'authz.missing-scope', ms: 0.01 }],
    })
    obs.onRequestEnd(makeContext({ url: '/orders?api_key=supersecret', headers: { authorization: 'Bearer abc' } }), record)
    await flushed()

    expect(lines).toHaveLength(1)
    const line = lines[0]
    expect(line).toMatchObject({
      level: 30,
      service: 'gatehouse',
      log: 'access',
      msg: 'request',
      requestId: '01TESTREQUEST0000000000000',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      clientIp: '127.0.0.1',
      method: 'POST',
      path: '/orders',
      status: 403,
      route: 'orders',
      consumer: 'acme-app',
      tenant: 'acme',
      decision: 'authz',
      layer: 'authz',
      rule: 'missing-scope',
      upstreamStatus: null,
      upstreamMs: null,
      totalMs: 0.42,
      requestBytes: 17,
      responseBytes: 0,
    })
    expect(typeof line.time).toBe('number')
    const text = JSON.stringify(line)
    for (const secret of ['supersecret', 'Bearer', 'k_1', 'needs orders:write', 'trail']) expect(text).not.toContain(secret)
  })

  it('writes nothing when off (the default)', async () => {
    const { logger, lines, flushed } = memoryLogger()
    const obs = createObservability(ObservabilityConfig.parse({}), { logger })
    obs.onRequestEnd(makeContext(), makeCallRecord())
    await flushed()
    expect(lines).toHaveLength(0)
  })

  it('follows the logger level', async () => {
    const { logger, lines, flushed } = memoryLogger('warn')
    const obs = createObservability(ObservabilityConfig.parse({ accessLog: true }), { logger })
    obs.onRequestEnd(makeContext(), makeCallRecord())
    await flushed()
    expect(lines).toHaveLength(0)
  })
})
