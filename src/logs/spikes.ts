import type { Spike } from './types.js'

/** Fewest 403s a minute needs to be called a spike, however quiet the baseline. */
export const minSpikeCount = 10
/** How many robust standard deviations above the median a spike must be. */
export const spikeSigmas = 6
/** Most spikes reported (the largest ones, listed in time order). */
export const maxSpikes = 20

function median(sorted: number[]): number {
  if (sorted.length === 0) return 0
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Finds minutes with far more 403s than usual. The baseline is robust to the spikes
 * themselves: over every minute that has any log line (so quiet hours count as 0-403
 * minutes, and gaps with no traffic at all do not), take the median m of the per-minute 403
 * counts and their median absolute deviation d. A minute is a spike when its count is at
 * least max(minSpikeCount, m + spikeSigmas × max(1.4826·d, 1)). 1.4826·d estimates a
 * standard deviation for normal data; the floor of 1 keeps a flat baseline (d = 0) from
 * making every small bump a spike.
 */
export function findSpikes(minutes: Map<string, { total: number; denied: number }>): Spike[] {
  const counts = [...minutes.values()].map((m) => m.denied).sort((a, b) => a - b)
  const m = median(counts)
  const deviations = counts.map((c) => Math.abs(c - m)).sort((a, b) => a - b)
  const d = median(deviations)
  const threshold = Math.max(minSpikeCount, m + spikeSigmas * Math.max(1.4826 * d, 1))
  const spikes: Spike[] = []
  for (const [minute, value] of minutes) {
    if (value.denied >= threshold) spikes.push({ minute, count: value.denied })
  }
  return spikes
    .sort((a, b) => b.count - a.count || (a.minute < b.minute ? -1 : 1))
    .slice(0, maxSpikes)
    .sort((a, b) => (a.minute < b.minute ? -1 : a.minute > b.minute ? 1 : 0))
}
