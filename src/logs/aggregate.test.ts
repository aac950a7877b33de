import { describe, expect, it } from 'vitest'
import { FileAggregator, pathPrefix, topCapacity } from './aggregate.js'
import { HeavyHitters } from './heavy-hitters.js'
import { createRecord, type LogRecord } from './types.js'

function denial(fields: Partial<LogRecord>): LogRecord {
  return { ...createRecord(), status: 403, method: 'GET', ...fields }
}

describe('HeavyHitters', () => {
  it('counts exactly while distinct keys fit', () => {
    const hh = new HeavyHitters(4)
    for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) hh.add(k)
    expect(hh.top(2)).toEqual([{ value: 'a', count: 3 }, { value: 'b', count: 2 }])
  })

  it('keeps keys above total/capacity with exact counts among 200k unique ones, in bounded space', () => {
    const hh = new HeavyHitters(256)
    let largest = 0
    for (let i = 0; i < 200_000; i++) {
      hh.add(`/unique/${i}`)
      if (i % 100 === 0) hh.add('/heavy')
      if (i % 200 === 0) hh.add('/medium')
      if (hh.size > largest) largest = hh.size
    }
    expect(largest).toBeLessThanOrEqual(512)
    expect(hh.top(2)).toEqual([{ value: '/heavy', count: 2000 }, { value: '/medium', count: 1000 }])
    expect(hh.total).toBe(203_000)
  })
})

describe('FileAggregator', () => {
  it('stays bounded over 200k 403s with unique paths and clients, with exact status counts', () => {
    const agg = new FileAggregator('big.log', 'nginx')
    for (let i = 0; i < 200_000; i++) {
      const minute = `2024-03-19T${String(Math.floor(i / 6000) % 24).padStart(2, '0')}:${String(Math.floor(i / 100) % 60).padStart(2, '0')}Z`
      agg.add(denial({ path: `/item/${i}?x`, client: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, minute }))
      if (i % 10 === 0) agg.add(denial({ path: '/admin', client: '203.0.113.5', minute }))
    }
    const report = agg.report(false)
    expect(report.records).toBe(220_000)
    expect(report.status['403']).toBe(220_000)
    expect(report.top403.path[0]).toEqual({ value: '/admin', count: 20_000 })
    expect(report.top403.client[0]).toEqual({ value: '203.0.113.5', count: 20_000 })
    expect(report.top403.path.length).toBeLessThanOrEqual(10)
    expect(report.top403.client.length).toBeLessThanOrEqual(10)
    // 7 sketches of at most 2 × capacity keys, plus minutes and prefixes: far below the input size.
    expect(agg.heldKeys()).toBeLessThan(7 * 2 * topCapacity + 2000)
  })

  it('counts 401 and 429 apart from 403 and lists forwarded clients when the log has them', () => {
    const agg = new FileAggregator('f', 'nginx')
    agg.add(denial({ status: 401, path: '/login' }))
    agg.add(denial({ status: 429, path: '/api' }))
    agg.add(denial({ path: '/x', forwardedClient: '198.51.100.1' }))
    agg.add({ ...createRecord(), status: 200, method: 'GET', path: '/x' })
    const report = agg.report(true)
    expect(report.status).toEqual({ '401': 1, '403': 1, '429': 1 })
    expect(report.top403.forwardedClient).toEqual([{ value: '198.51.100.1', count: 1 }])
  })
})

describe('pathPrefix', () => {
  it.each([
    ['/api/orders/123', '/api/orders/*'],
    ['/api/orders', '/api/orders'],
    ['/api/orders/', '/api/orders'],
    ['/admin', '/admin'],
  ])('%s → %s', (path, prefix) => {
    expect(pathPrefix(path)).toBe(prefix)
  })
})
