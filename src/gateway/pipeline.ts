import type { Denial } from '../core/denial.js'
import type { JsonObject } from '../core/json.js'
import type { Evaluate, Verdict } from '../policies/define.js'
import type { BodyState, RequestContext } from './context.js'

/** A policy compiled for one route. */
export interface CompiledLayer {
  name: string
  order: number
  evaluate: Evaluate
  needsBody: boolean
}

export type PipelineOutcome =
  | { kind: 'allow' }
  | { kind: 'deny'; denial: Denial }
  | { kind: 'respond'; status: number; headers: Record<string, string> }

/** Reads the request body, bounded; supplied by the server (or by `explain` from -d). */
export type BodyReader = (limitBytes: number) => Promise<BodyState>

const allowOutcome: PipelineOutcome = Object.freeze({ kind: 'allow' })

/**
 * Runs the route's layers in order, recording each verdict in `ctx.trail` and merging what an
 * allow adds. A deny or respond stops it. Stays synchronous while every layer is, so a route
 * of sync policies costs no Promise per request; the first async layer switches to an async
 * continuation.
 */
export function runPipeline(
  layers: readonly CompiledLayer[],
  ctx: RequestContext,
  readBody: BodyReader,
  bodyLimitBytes: number,
): PipelineOutcome | Promise<PipelineOutcome> {
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]
    if (layer.needsBody && ctx.body.kind === 'streaming') return continueAsync(layers, i, ctx, readBody, bodyLimitBytes, true)
    const started = performance.now()
    const verdict = layer.evaluate(ctx)
    if (isPromise(verdict)) return continueAsync(layers, i, ctx, readBody, bodyLimitBytes, false, verdict, started)
    const outcome = applyVerdict(layer, verdict, ctx, started)
    if (outcome) return outcome
  }
  return allowOutcome
}

async function continueAsync(
  layers: readonly CompiledLayer[],
  from: number,
  ctx: RequestContext,
  readBody: BodyReader,
  bodyLimitBytes: number,
  mustReadBody: boolean,
  pending?: Promise<Verdict>,
  pendingStarted = 0,
): Promise<PipelineOutcome> {
  if (pending) {
    const outcome = applyVerdict(layers[from], await pending, ctx, pendingStarted)
    if (outcome) return outcome
    from++
  }
  if (mustReadBody) ctx.body = await readBody(bodyLimitBytes)
  for (let i = from; i < layers.length; i++) {
    const layer = layers[i]
    if (layer.needsBody && ctx.body.kind === 'streaming') ctx.body = await readBody(bodyLimitBytes)
    const started = performance.now()
    const result = layer.evaluate(ctx)
    const verdict = isPromise(result) ? await result : result
    const outcome = applyVerdict(layer, verdict, ctx, started)
    if (outcome) return outcome
  }
  return allowOutcome
}

function applyVerdict(layer: CompiledLayer, verdict: Verdict, ctx: RequestContext, started: number): PipelineOutcome | undefined {
  const ms = performance.now() - started
  if (verdict.kind === 'deny') {
    ctx.trail.push({ layer: layer.name, result: 'deny', rule: verdict.denial.rule, ms, detail: verdict.denial.detail })
    return verdict
  }
  if (verdict.kind === 'respond') {
    ctx.trail.push({ layer: layer.name, result: 'respond', ms, detail: verdict.detail })
    return { kind: 'respond', status: verdict.status, headers: verdict.headers }
  }
  const entry: { layer: string; result: 'allow' | 'detect' | 'skip'; ms: number; rule?: string; detail?: JsonObject } = {
    layer: layer.name,
    result: verdict.result ?? 'allow',
    ms,
  }
  if (verdict.rule !== undefined) entry.rule = verdict.rule
  if (verdict.detail !== undefined) entry.detail = verdict.detail
  ctx.trail.push(entry)
  if (verdict.identity) ctx.identity = verdict.identity
  if (verdict.json !== undefined) ctx.json = verdict.json
  if (verdict.responseHeaders) Object.assign(ctx.responseHeaders, verdict.responseHeaders)
  if (verdict.upstreamHeaders) Object.assign(ctx.upstreamHeaders, verdict.upstreamHeaders)
  if (verdict.dropUpstreamHeaders) ctx.dropUpstreamHeaders = [...(ctx.dropUpstreamHeaders ?? []), ...verdict.dropUpstreamHeaders]
  if (verdict.upstreamPath !== undefined) ctx.upstreamPath = verdict.upstreamPath
  if (verdict.responseHeaderEdits) {
    const edits = (ctx.responseHeaderEdits ??= {})
    if (verdict.responseHeaderEdits.set) edits.set = { ...edits.set, ...verdict.responseHeaderEdits.set }
    if (verdict.responseHeaderEdits.remove) edits.remove = [...(edits.remove ?? []), ...verdict.responseHeaderEdits.remove]
  }
  return undefined
}

function isPromise(value: unknown): value is Promise<Verdict> {
  return typeof (value as Promise<Verdict> | undefined)?.then === 'function'
}
