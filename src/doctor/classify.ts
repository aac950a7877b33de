import { genericChecklist } from './checklists.js'
import {
  createResponseView,
  scoreFingerprint,
  type Fingerprint,
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
export function classify(exchange: Exchange, catalog: readonly Fingerprint[] = fingerprints): Diagnosis[] {
  let view: ResponseView
  try {
    view = createResponseView(exchange)
  } catch {
    view = createResponseView({ request: { method: 'GET', url: '/', headers: {} }, response: { status: 0, headers: {} } })
  }

  const gatehouse = readGatehouseDecision(view)
  if (gatehouse?.kind === 'deny' && gatehouse.diagnosis !== undefined) {
    return [gatehouse.diagnosis, unknownDiagnosis(view, 0.99)]
  }

  const matches: FingerprintMatch[] = []
  for (const fingerprint of catalog) {
    const match = scoreFingerprint(fingerprint, view)
    if (match !== undefined) matches.push(match)
  }

  const ranked = rank(matches)
  const diagnoses = ranked.slice(0, maxDiagnoses).map((match) => toDiagnosis(match, gatehouse?.kind === 'upstream'))
  const best = diagnoses[0]?.confidence ?? 0
  if (best < thinEvidenceConfidence) {
    return [unknownDiagnosis(view, best, true), ...diagnoses]
  }
  return [...diagnoses, unknownDiagnosis(view, best, false, diagnoses[diagnoses.length - 1]?.confidence ?? best)]
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
    return { ...match, adjusted: relayed ? match.score / 2 : match.score, relayed, order }
  })
  ranked.sort((a, b) => b.adjusted - a.adjusted || a.order - b.order)

  // One diagnosis per producer and layer: the product's generic entry (or a weaker reading of
  // the same page) adds nothing once a more specific one scored higher.
  const kept: Ranked[] = []
  const seen = new Set<string>()
  for (const candidate of ranked) {
    const key = `${candidate.fingerprint.producer}\u0000${candidate.fingerprint.layer}`
    if (seen.has(key)) continue
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

function unknownDiagnosis(view: ResponseView, bestConfidence: number, first = false, lastConfidence = bestConfidence): Diagnosis {
  const isPreflight = view.method === 'OPTIONS' && view.requestHeaders.has('access-control-request-method')
  const checklist = genericChecklist(view.status, { preflight: isPreflight })
  const evidence: string[] = []
  if (view.status > 0) evidence.push(`status ${view.status}`)
  if (isPreflight) evidence.push('request is a CORS preflight')
  const server = view.headers.get('server')
  if (server !== undefined && server !== '') evidence.push(`header server: ${server.slice(0, 60)}`)
  if (view.body.trim() === '') evidence.push('empty body')
  const lead = first
    ? 'Not enough product-specific evidence to say who produced this response.'
    : 'If none of the above fits:'
  // Leading, it must outrank the weak guesses after it; trailing, it must not outrank them.
  const confidence = first
    ? Math.max(0.5, Math.min(0.9, Math.round((1 - bestConfidence) * 100) / 100))
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
