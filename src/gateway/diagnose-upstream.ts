import { classify } from '../doctor/classify.js'
import type { JsonObject } from '../core/json.js'
import type { RequestContext } from './context.js'
import type { UpstreamErrorSample } from './upstream/proxy.js'

/**
 * Names who produced an upstream's own denial (its WAF, web server, framework...) with the
 * doctor's classifier, so `gatehouse why` can say more than "the upstream said 403".
 * Only the response is classified: the client's request headers may hold secrets and are
 * not needed to recognise a producer. Returns null when the classifier has nothing better
 * than its generic checklist.
 */
export function diagnoseUpstreamDenial(ctx: RequestContext, status: number, sample: UpstreamErrorSample): JsonObject | null {
  const diagnoses = classify({
    request: { method: ctx.method, url: ctx.path, headers: {} },
    response: { status, headers: sample.headers, body: sample.body },
  })
  const best = diagnoses[0]
  if (!best || best.producer === 'unknown') return null
  return {
    producer: best.producer,
    layer: best.layer,
    cause: best.cause,
    confidence: Math.round(best.confidence * 100) / 100,
    evidence: best.evidence.slice(0, 5),
    remedies: best.remedies.slice(0, 3),
  }
}
