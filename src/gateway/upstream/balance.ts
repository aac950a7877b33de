import { isAvailable, type Target } from './target.js'

/** Picks the next target, skipping unavailable ones and those in `exclude` (already tried). */
export type Balancer = (targets: Target[], now: number, exclude?: Target) => Target | undefined

export function createBalancer(kind: 'round-robin' | 'weighted' | 'least-connections'): Balancer {
  if (kind === 'weighted') return pickWeighted
  if (kind === 'least-connections') return pickLeastConnections
  let next = 0
  return function pickRoundRobin(targets, now, exclude) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(next + i) % targets.length]
      if (target !== exclude && isAvailable(target, now)) {
        next = (next + i + 1) % targets.length
        return target
      }
    }
    return undefined
  }
}

/**
 * Smooth weighted round-robin (as nginx does it): every pick adds each target's weight to
 * its running score and takes the highest, which spreads a 5:1:1 split as a a b a c a a
 * instead of bursts.
 */
function pickWeighted(targets: Target[], now: number, exclude?: Target): Target | undefined {
  let best: Target | undefined
  let total = 0
  for (const target of targets) {
    if (target === exclude || !isAvailable(target, now)) continue
    target.currentWeight += target.weight
    total += target.weight
    if (!best || target.currentWeight > best.currentWeight) best = target
  }
  if (best) best.currentWeight -= total
  return best
}

function pickLeastConnections(targets: Target[], now: number, exclude?: Target): Target | undefined {
  let best: Target | undefined
  for (const target of targets) {
    if (target === exclude || !isAvailable(target, now)) continue
    // Ties go by weight so a bigger server takes more when all are idle.
    if (!best || target.active / target.weight < best.active / best.weight) best = target
  }
  return best
}
