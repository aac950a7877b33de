import { readJsonPath, type ResponseView } from '../fingerprint.js'
import type { Diagnosis, DoctorLayer } from '../types.js'

// Gatehouse names its pipeline layers (SPEC §1); the doctor's vocabulary is coarser.
const layerByPipelineName: Record<string, DoctorLayer> = {
  'request-id': 'gateway',
  ip: 'ip-filter',
  cors: 'cors',
  body: 'gateway',
  waf: 'waf',
  authn: 'authn',
  subscription: 'authz',
  authz: 'authz',
  csrf: 'csrf',
  'rate-limit': 'rate-limit',
  transform: 'gateway',
  upstream: 'upstream',
}

/** What a Gatehouse response says about its own decision. */
export interface GatehouseDecision {
  /** `deny` when Gatehouse produced the denial; `upstream` when it only relayed the upstream's answer. */
  kind: 'deny' | 'upstream'
  diagnosis?: Diagnosis
}

/**
 * Reads Gatehouse's own verdict from the `Gatehouse-Decision` header and its problem+json body
 * (`layer`, `rule`, `remedy`). Gatehouse explains itself, so no scoring is needed: the layer and
 * rule it reports are taken as they are.
 */
export function readGatehouseDecision(view: ResponseView): GatehouseDecision | undefined {
  const header = view.headers.get('gatehouse-decision')?.trim() ?? ''
  const bodyLayer = readString(view.json, 'layer')
  const bodyRule = readString(view.json, 'rule')
  const isProblem = (view.headers.get('content-type') ?? '').toLowerCase().includes('application/problem+json')
  // Recordings sometimes lose headers; layer + rule + requestId together are still Gatehouse's shape.
  const hasGatehouseBody = bodyLayer !== undefined && bodyRule !== undefined && (isProblem || readString(view.json, 'requestId') !== undefined)
  if (header === '' && !hasGatehouseBody) return undefined

  const [headerLayer = '', ...params] = header.split(';').map((part) => part.trim())
  if (headerLayer.toLowerCase() === 'upstream') return { kind: 'upstream' }
  if (headerLayer.toLowerCase() === 'allow' && bodyLayer === undefined) return undefined

  const pipelineLayer = (bodyLayer ?? headerLayer).toLowerCase()
  const ruleParam = params.find((param) => param.toLowerCase().startsWith('rule='))
  const rule = bodyRule ?? (ruleParam === undefined ? undefined : ruleParam.slice('rule='.length))
  const evidence: string[] = []
  if (header !== '') evidence.push(`header gatehouse-decision: ${header.slice(0, 120)}`)
  if (bodyLayer !== undefined) evidence.push(`json layer = ${bodyLayer}`)
  if (bodyRule !== undefined) evidence.push(`json rule = ${bodyRule}`)
  const requestId = readString(view.json, 'requestId') ?? view.headers.get('x-request-id')
  const title = readString(view.json, 'title')
  const detail = readString(view.json, 'detail')
  const remedy = readString(view.json, 'remedy')
  const remedies: string[] = []
  if (remedy !== undefined) remedies.push(remedy)
  if (requestId !== undefined) remedies.push(`Run \`gatehouse why ${requestId}\` on the gateway host to see the full decision trace.`)
  remedies.push(`Look up rule ${rule ?? pipelineLayer} in docs/errors.md for what it checks and how to change it.`)
  const ruleText = rule === undefined ? '' : ` rule ${rule}`
  return {
    kind: 'deny',
    diagnosis: {
      producer: 'gatehouse',
      layer: layerByPipelineName[pipelineLayer] ?? 'gateway',
      cause: `Gatehouse denied the request at its ${pipelineLayer || 'gateway'} layer${ruleText}${detail ?? title ? `: ${(detail ?? title ?? '').slice(0, 300)}` : '.'}`,
      confidence: 0.99,
      evidence,
      remedies,
    },
  }
}

function readString(json: unknown, path: string): string | undefined {
  const value = readJsonPath(json, path)
  return typeof value === 'string' && value !== '' ? value : undefined
}
