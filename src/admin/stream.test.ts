import { describe, expect, it } from 'vitest'
import { request } from 'undici'
import { createLogger } from '../core/logger.js'
import type { CallRecord } from '../store/types.js'
import { startAdminServer } from './server.js'
import type { AdminDeps } from './types.js'

const token = 'admin-token-0123456789abcdef'

describe('live tail stream', () => {
  it('unsubscribes as soon as the client goes away', async () => {
    const listeners = new Set<(record: CallRecord) => void>()
    const deps = {
      runtime: () => { throw new Error('not used') },
      store: undefined,
      onCall: (listener: (record: CallRecord) => void) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    } as unknown as AdminDeps
    const server = await startAdminServer({ listen: '127.0.0.1:0', tokens: [token] }, deps, { listen: '127.0.0.1:0', logger: createLogger({ GATEHOUSE_LOG_LEVEL: 'silent' }) })
    try {
      const controller = new AbortController()
      const res = await request(`${server.url}/api/calls/stream?access_token=${token}`, { signal: controller.signal })
      expect(res.statusCode).toBe(200)
      expect(listeners.size).toBe(1)
      const first = await res.body[Symbol.asyncIterator]().next()
      expect(String(first.value)).toContain(': connected')
      for (const listener of listeners) listener({ requestId: 'r1', status: 200 } as CallRecord)
      controller.abort()
      const deadline = Date.now() + 2000
      while (listeners.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      expect(listeners.size).toBe(0)
    } finally {
      await server.close()
    }
  })
})
