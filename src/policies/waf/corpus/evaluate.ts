import type { RequestContext } from '../../../gateway/context.js'
import type { Evaluate, Verdict } from '../../define.js'
import { wafPolicy } from '../index.js'
import { families, type Family } from '../rules.js'
import { WafConfig } from '../schema.js'
import { attackPayloads, pollutionBodies, protocolPayloads, requestAttacks, scannerAgents } from './attacks.js'
import { developerValues, everydayValues, ordinaryValues, trickyValues } from './benign.js'
import { freshAttacks, fuzzListAttacks, holdoutAttacks, holdoutBenign } from './holdout.js'
import { buildRequest, placements, type CorpusRequest, type Placement } from './requests.js'

/** One corpus case: a request and whether it is an attack (and of which family). */
export interface CorpusCase {
  family: Family | 'tricky' | 'ordinary'
  placement: Placement | 'json-key' | 'request'
  request: CorpusRequest
  label: string
}

/** Every case of the corpus: each attack payload in every placement, each benign value in the body and query placements. */
export function corpusCases(): CorpusCase[] {
  const cases: CorpusCase[] = []
  for (const a of [...attackPayloads, ...holdoutAttacks, ...freshAttacks, ...fuzzListAttacks, ...protocolPayloads]) {
    for (const placement of placements) {
      // A header cannot carry raw CR/LF; those payloads only make sense URL-encoded.
      if ((placement === 'user-agent') && /%0[ad]/i.test(a.payload)) continue
      // Bots put their URL in the User-Agent ("+http://example.com/bot.html"): a URL there is not an inclusion.
      if (placement === 'user-agent' && a.family === 'rfi') continue
      cases.push({ family: a.family, placement, request: buildRequest(placement, a.param, a.payload), label: a.payload })
    }
  }
  for (const body of pollutionBodies) {
    cases.push({ family: 'code-injection', placement: 'json-key', request: { method: 'POST', url: '/api/submit', headers: { host: 'api.example.com', 'content-type': 'application/json' }, body }, label: body })
  }
  for (const a of requestAttacks) cases.push({ family: a.family, placement: 'request', request: a.request, label: `${a.request.method} ${a.request.url}` })
  for (const agent of scannerAgents) cases.push({ family: 'scanner', placement: 'user-agent', request: buildRequest('user-agent', 'ua', agent), label: agent })
  const benignPlacements: Placement[] = ['query', 'form', 'json', 'xml', 'multipart', 'cookie', 'referer']
  for (const v of [...trickyValues, ...holdoutBenign, ...everydayValues, ...developerValues]) for (const placement of benignPlacements) cases.push({ family: 'tricky', placement, request: buildRequest(placement, v.param, v.value), label: v.value })
  for (const v of ordinaryValues) for (const placement of benignPlacements) cases.push({ family: 'ordinary', placement, request: buildRequest(placement, v.param, v.value), label: v.value })
  return cases
}

/** A request context for a corpus request, as the gateway would build it (kept free of test helpers so the bench can use it from dist/). */
export function contextFor(request: CorpusRequest, json?: unknown): RequestContext {
  const q = request.url.indexOf('?')
  return {
    id: '01CORPUSREQUEST00000000000',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    startedAt: 0,
    receivedAt: 0,
    clientIp: '127.0.0.1',
    remoteAddress: '127.0.0.1',
    secure: false,
    method: request.method,
    url: request.url,
    path: q === -1 ? request.url : request.url.slice(0, q),
    query: q === -1 ? '' : request.url.slice(q + 1),
    host: 'api.example.com',
    headers: { host: 'api.example.com', ...request.headers },
    params: {},
    body: request.body === undefined ? { kind: 'streaming' } : { kind: 'buffered', bytes: Buffer.from(request.body) },
    json,
    responseHeaders: {},
    upstreamHeaders: {},
    trail: [],
  }
}

/** Compiles the WAF at a paranoia level, as a route would. */
export function compileWaf(paranoia: number, extra: Record<string, unknown> = {}): Evaluate {
  // A generous timeout: the corpus measures what the signatures catch, not how busy the machine is.
  const config = WafConfig.parse({ paranoia, timeoutMs: 1000, ...extra })
  return wafPolicy.compile(config, { clock: { now: () => 0 }, consumers: [], routeName: 'corpus', shared: new Map(), env: {} })
}

export interface CorpusRow {
  group: string
  total: number
  blocked: number
  percent: number
}

export interface CorpusReport {
  paranoia: number
  attacks: CorpusRow[]
  byPlacement: CorpusRow[]
  tricky: CorpusRow
  ordinary: CorpusRow
  missed: { family: string; placement: string; label: string }[]
  falsePositives: { placement: string; label: string; rule?: string }[]
}

function row(group: string, total: number, blocked: number): CorpusRow {
  return { group, total, blocked, percent: total === 0 ? 0 : Math.round((blocked / total) * 1000) / 10 }
}

/** Runs the whole corpus through the WAF at one paranoia level. */
export function evaluateCorpus(paranoia: number): CorpusReport {
  const evaluate = compileWaf(paranoia)
  const perFamily = new Map<string, [number, number]>()
  const perPlacement = new Map<string, [number, number]>()
  const missed: CorpusReport['missed'] = []
  const falsePositives: CorpusReport['falsePositives'] = []
  let trickyTotal = 0
  let trickyBlocked = 0
  let ordinaryTotal = 0
  let ordinaryBlocked = 0
  for (const c of corpusCases()) {
    const verdict = evaluate(contextFor(c.request)) as Verdict
    const blocked = verdict.kind === 'deny'
    if (c.family === 'tricky' || c.family === 'ordinary') {
      if (c.family === 'tricky') {
        trickyTotal++
        if (blocked) trickyBlocked++
      } else {
        ordinaryTotal++
        if (blocked) ordinaryBlocked++
      }
      if (blocked) falsePositives.push({ placement: c.placement, label: c.label, rule: verdict.kind === 'deny' ? JSON.stringify((verdict.denial.detail?.matches as { rule: string; field: string }[]).map((m) => `${m.rule}@${m.field}`)) : undefined })
      continue
    }
    const f = perFamily.get(c.family) ?? [0, 0]
    f[0]++
    if (blocked) f[1]++
    perFamily.set(c.family, f)
    const p = perPlacement.get(c.placement) ?? [0, 0]
    p[0]++
    if (blocked) p[1]++
    perPlacement.set(c.placement, p)
    if (!blocked) missed.push({ family: c.family, placement: c.placement, label: c.label })
  }
  return {
    paranoia,
    attacks: families.filter((f) => perFamily.has(f)).map((f) => row(f, perFamily.get(f)![0], perFamily.get(f)![1])),
    byPlacement: [...perPlacement].map(([p, [t, b]]) => row(p, t, b)),
    tricky: row('tricky-benign', trickyTotal, trickyBlocked),
    ordinary: row('ordinary', ordinaryTotal, ordinaryBlocked),
    missed,
    falsePositives,
  }
}

/** The report as a plain-text table. */
export function formatReport(report: CorpusReport): string {
  const lines = [`paranoia ${report.paranoia}`, 'family              cases  blocked      %']
  for (const r of [...report.attacks, report.tricky, report.ordinary]) lines.push(`${r.group.padEnd(18)} ${String(r.total).padStart(6)} ${String(r.blocked).padStart(8)} ${r.percent.toFixed(1).padStart(6)}`)
  lines.push('placement (attacks)')
  for (const r of report.byPlacement) lines.push(`${r.group.padEnd(18)} ${String(r.total).padStart(6)} ${String(r.blocked).padStart(8)} ${r.percent.toFixed(1).padStart(6)}`)
  return lines.join('\n')
}
