import { describe, expect, it } from 'vitest'
import { findSpikes, minSpikeCount } from './spikes.js'

function minutes(counts: number[], start = 0): Map<string, { total: number; denied: number }> {
  const map = new Map<string, { total: number; denied: number }>()
  counts.forEach((denied, i) => {
    const m = start + i
    map.set(`2024-03-19T${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}Z`, { total: denied + 50, denied })
  })
  return map
}

describe('findSpikes', () => {
  it('flags a minute far above a noisy baseline', () => {
    const counts = Array.from({ length: 60 }, (_, i) => 3 + (i % 4))
    counts[42] = 40
    expect(findSpikes(minutes(counts, 9 * 60))).toEqual([{ minute: '2024-03-19T09:42Z', count: 40 }])
  })

  it('does not flag ordinary variation, nor a small bump on a quiet log', () => {
    const noisy = Array.from({ length: 60 }, (_, i) => 20 + (i % 7) * 3)
    expect(findSpikes(minutes(noisy))).toEqual([])
    const quiet = Array.from({ length: 60 }, () => 0)
    quiet[10] = minSpikeCount - 1
    expect(findSpikes(minutes(quiet))).toEqual([])
  })

  it('is robust to several spikes and lists them in time order', () => {
    const counts = Array.from({ length: 120 }, () => 1)
    counts[100] = 30
    counts[5] = 50
    expect(findSpikes(minutes(counts)).map((s) => s.count)).toEqual([50, 30])
  })
})
