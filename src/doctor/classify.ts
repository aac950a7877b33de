import { findLayerHint, genericChecklist, layerChecklist } from './checklists.js'
import {
  createResponseView,
  scoreFingerprint,
  type FingerprintMatch,
  type ResponseView,
} from './fingerprint.js'
import { fingerprints, readGatehouseDecision } from './fingerprints/index.js'
import type { Diagnosis, Exchange } from './types.js'

/** Below this confidence the best guess is too thin to put first: `unknown` leads instead. */
export const thinEvidenceConfidence = 0.4

/** Body evidence at least this heavy names the producer of the denial itself. */
const strongBodyScore = 6

/** How many product diagnoses to keep; the list then ends with `unknown`. */
const maxDiagnoses = 5

/** Score where confidence reaches about 63%; one distinctive string (10-12) gives ~75%. */
const confidenceScale = 8

/** Summed weights stop counting here, so piling up headers cannot outweigh a body match forever. */
const maxScore = 40

/**
 * Ranks who most likely produced the response and why, best first.
 *
 * Every fingerprint is scored (sum of matched evidence weights) and mapped to a 0..1
 * confidence. When transport evidence (a CDN's headers) and body evidence (a framework's
 * error text) disagree, the body wins: a CDN relays the origin's page unchanged, while its
 * own block pages carry its own text. The list is never empty and always ends with an
 * `unknown` diagnosis carrying the generic checklist for the status; when the best guess is
 * thin, `unknown` comes first. Never throws.
 */
export function classify(exchange: Exchange): Diagnosis[] {
  let view: ResponseView
  try {
    view = createResponseView(exchange)
  } catch {
    view = createResponseView({ request: { method: 'GET', url: '/', headers: {} }, response: { status: 0, headers: {} } })
  }

  const gatehouse = readGatehouseDecision(view)
  if (gatehouse?.kind === 'deny' && gatehouse.diagnosis !== undefined) {
    return [gatehouse.diagnosis, createUnknownDiagnosis(view, 0.99, false)]
  }

  const matches: FingerprintMatch[] = []
  for (const fingerprint of fingerprints) {
    const match = scoreFingerprint(fingerprint, view)
    if (match !== undefined) matches.push(match)
  }

  const ranked = rank(matches)
  const diagnoses = ranked.slice(0, maxDiagnoses).map((match) => toDiagnosis(match, gatehouse?.kind === 'upstream'))
  const best = diagnoses[0]?.confidence ?? 0
  const relayedByGatehouse = gatehouse?.kind === 'upstream'
  if (best < thinEvidenceConfidence) {
    return [createUnknownDiagnosis(view, best, true, best, relayedByGatehouse), ...diagnoses]
  }
  return [...diagnoses, createUnknownDiagnosis(view, best, false, diagnoses[diagnoses.length - 1]?.confidence ?? best, relayedByGatehouse)]
}

interface Ranked extends FingerprintMatch {
  adjusted: number
  relayed: boolean
  order: number
}

function rank(matches: FingerprintMatch[]): Ranked[] {
  // The producer whose own text is in the body explains the denial; a producer known only
  // from headers merely carried the response (Cloudflare in front of Django, nginx in front
  // of Spring), and a server's default page only framed it (Apache's page saying ModSecurity
  // fired). Halving keeps such entries listed as the hop to look past.
  const bodyProducers = new Set(matches
    .filter((m) => m.bodyScore >= strongBodyScore && !m.fingerprint.container)
    .map((m) => m.fingerprint.producer))
  const ranked: Ranked[] = matches.map((match, order) => {
    const passive = match.bodyScore === 0 || match.fingerprint.container === true
    const relayed = passive && !bodyProducers.has(match.fingerprint.producer) && bodyProducers.size > 0
    const score = Math.min(match.score, maxScore)
    return { ...match, adjusted: relayed ? score / 2 : score, relayed, order }
  })
  ranked.sort((a, b) => b.adjusted - a.adjusted || a.order - b.order)

  // One diagnosis per producer and layer, and none that a better entry of the same product
  // already explains with the same evidence and more (Cloudflare's "edge" reading of a 1020).
  const kept: Ranked[] = []
  const seen = new Set<string>()
  for (const candidate of ranked) {
    const key = `${candidate.fingerprint.producer}\u0000${candidate.fingerprint.layer}`
    if (seen.has(key)) continue
    const covered = kept.some((better) =>
      better.fingerprint.producer === candidate.fingerprint.producer &&
      candidate.evidence.every((item) => better.evidence.includes(item)))
    if (covered) continue
    seen.add(key)
    kept.push(candidate)
  }
  return kept
}

function toDiagnosis(match: Ranked, viaGatehouse: boolean): Diagnosis {
  const evidence = [...match.evidence]
  if (viaGatehouse) evidence.push('header gatehouse-decision: upstream (relayed by Gatehouse)')
  const cause = match.relayed
    ? `${match.fingerprint.cause} (Probably only relayed or framed: another product's own error text is in the body.)`
    : match.fingerprint.cause
  return {
    producer: match.fingerprint.producer,
    layer: match.fingerprint.layer,
    cause,
    confidence: toConfidence(match.adjusted),
    evidence,
    remedies: [...match.fingerprint.remedies],
  }
}

/** Maps a summed weight to 0..0.99 with diminishing returns, so stacked weak hints never reach certainty. */
function toConfidence(score: number): number {
  if (score <= 0) return 0
  const value = 1 - Math.exp(-score / confidenceScale)
  return Math.min(0.99, Math.round(value * 100) / 100)
}

function createUnknownDiagnosis(
  view: ResponseView,
  bestConfidence: number,
  first: boolean,
  lastConfidence = bestConfidence,
  relayedByGatehouse = false,
): Diagnosis {
  const isPreflight = view.method === 'OPTIONS' && view.requestHeaders.has('access-control-request-method')
  // Without a product, generic wording ("CSRF token missing", "rate limit") still names the layer.
  const hint = isPreflight ? undefined : findLayerHint(view.body, view.headers, view.status)
  const checklist = (hint && layerChecklist(hint.layer)) || genericChecklist(view.status, { preflight: isPreflight })
  const evidence: string[] = []
  if (view.status > 0) evidence.push(`status ${view.status}`)
  if (isPreflight) evidence.push('request is a CORS preflight')
  if (hint) evidence.push(hint.evidence)
  if (relayedByGatehouse) evidence.push('header gatehouse-decision: upstream (the upstream answered, Gatehouse relayed it)')
  // Headers that steer the generic checklist even when no product is recognised.
  for (const name of ['server', 'www-authenticate', 'retry-after', 'x-ratelimit-remaining', 'ratelimit', 'allow']) {
    const value = view.headers.get(name)
    if (value !== undefined && value !== '') evidence.push(`header ${name}: ${value.slice(0, 80)}`)
  }
  if (view.body.trim() === '') evidence.push('empty body')
  const lead = first
    ? 'Not enough product-specific evidence to say who produced this response.'
    : 'If none of the above fits:'
  // Leading, it must outrank the weak guesses after it; trailing, it must not outrank them.
  const confidence = first
    ? Math.max(0.5, Math.min(0.8, Math.round((1 - bestConfidence) * 100) / 100))
    : Math.max(0.01, Math.min(lastConfidence, Math.round((1 - bestConfidence) * 100) / 100))
  return {
    producer: 'unknown',
    layer: checklist.layer,
    cause: `${lead} ${checklist.summary}`,
    confidence,
    evidence,
    remedies: [...checklist.steps],
  }
}
