import { afterEach, describe, expect, it } from 'vitest'
import { startUpstream, type TestUpstream } from '../testing/start-upstream.js'
import { deliverWebhook } from './webhook.js'

/** Backoff pauses are recorded, not waited for: tests never sleep. */
function recordSleeps(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = []
  return { sleeps, sleep: (ms) => { sleeps.push(ms); return Promise.resolve() } }
}

describe('webhook delivery', () => {
  let receiver: TestUpstream | undefined
  afterEach(async () => { await receiver?.close(); receiver = undefined })

  it('POSTs the payload as JSON and stops at the first 2xx', async () => {
    receiver = await startUpstream((_req, res) => { res.statusCode = 204; res.end() })
    const result = await deliverWebhook(`${receiver.url}/hook`, { type: 'gatehouse.denial-spike', count: 3 })
    expect(result).toEqual({ url: `${receiver.url}/hook`, ok: true, attempts: 1, status: 204, error: null })
    expect(receiver.requests).toHaveLength(1)
    expect(receiver.requests[0].method).toBe('POST')
    expect(receiver.requests[0].headers['content-type']).toBe('application/json')
    expect(JSON.parse(receiver.requests[0].body.toString('utf8'))).toEqual({ type: 'gatehouse.denial-spike', count: 3 })
  })

  it('retries after a 500 with exponential backoff and succeeds', async () => {
    let calls = 0
    receiver = await startUpstream((_req, res) => { res.statusCode = ++calls <= 2 ? 500 : 200; res.end('{}') })
    const { sleeps, sleep } = recordSleeps()
    const result = await deliverWebhook(receiver.url, { n: 1 }, { backoffMs: 100, sleep })
    expect(result.ok).toBe(true)
    expect(result.attempts).toBe(3)
    expect(sleeps).toEqual([100, 200])
    expect(receiver.requests.map((r) => r.body.toString('utf8'))).toEqual(['{"n":1}', '{"n":1}', '{"n":1}'])
  })

  it('gives up after the bounded number of attempts, with backoff capped', async () => {
    receiver = await startUpstream((_req, res) => { res.statusCode = 503; res.end() })
    const { sleeps, sleep } = recordSleeps()
    const result = await deliverWebhook(receiver.url, {}, { maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 3000, sleep })
    expect(result).toMatchObject({ ok: false, attempts: 5, status: 503, error: 'answered 503' })
    expect(receiver.requests).toHaveLength(5)
    expect(sleeps).toEqual([1000, 2000, 3000, 3000])
  })

  it('does not retry a 4xx refusal other than 408 and 429', async () => {
    receiver = await startUpstream((_req, res) => { res.statusCode = 404; res.end() })
    const result = await deliverWebhook(receiver.url, {}, { sleep: () => Promise.resolve() })
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 404 })
    expect(receiver.requests).toHaveLength(1)
  })

  it('retries a receiver that is not listening, then reports why', async () => {
    receiver = await startUpstream()
    const url = receiver.url
    await receiver.close()
    receiver = undefined
    const result = await deliverWebhook(url, {}, { maxAttempts: 2, sleep: () => Promise.resolve() })
    expect(result.ok).toBe(false)
    expect(result.attempts).toBe(2)
    expect(result.status).toBeNull()
    expect(result.error).toMatch(/could not connect/)
  })

  it('times out an attempt that gets no answer', async () => {
    receiver = await startUpstream(() => undefined)
    const result = await deliverWebhook(receiver.url, {}, { maxAttempts: 1, timeoutMs: 50 })
    expect(result).toMatchObject({ ok: false, attempts: 1, status: null, error: 'no answer within 50 ms' })
  })

  it('stops retrying once cancelled', async () => {
    receiver = await startUpstream((_req, res) => { res.statusCode = 500; res.end() })
    const cancel = new AbortController()
    const result = await deliverWebhook(receiver.url, {}, { maxAttempts: 5, signal: cancel.signal, sleep: () => { cancel.abort(); return Promise.resolve() } })
    expect(result.ok).toBe(false)
    expect(receiver.requests).toHaveLength(1)
  })
})
