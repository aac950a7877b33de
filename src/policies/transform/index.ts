import RE2 from 're2'
import type { RequestContext } from '../../gateway/context.js'
import { allow, definePolicy, type Allow, type Verdict } from '../define.js'
import { parseTemplate, renderTemplate, type Template } from './placeholders.js'
import { rules } from './rules.js'
import { TransformConfig } from './schema.js'

/** Headers whose removal or renaming often breaks the upstream's own auth checks. */
const credentialHeaders = ['authorization', 'cookie', 'x-api-key', 'x-csrf-token']

/**
 * Request and response edits (`routes[].policies.transform`): headers set, added, removed and
 * renamed on the way upstream (with identity placeholders such as `${consumer}`), response
 * header edits, and an RE2 path rewrite. It never refuses: it runs last, once every check
 * has passed, and hands the proxy what to change.
 */
export const transformPolicy = definePolicy({
  name: 'transform',
  configKey: 'transform',
  order: 1000,
  schema: TransformConfig,
  rules,
  lint(config, route) {
    const findings: { path: (string | number)[]; message: string }[] = []
    const csrf = route.policies.csrf as { token?: { header?: string } } | undefined
    const watched = new Set(credentialHeaders)
    if (csrf?.token?.header) watched.add(csrf.token.header.toLowerCase())
    const consequence = 'if the upstream checks it, every call will be refused there (403/401 from the upstream)'
    config.request?.remove?.forEach((name, i) => {
      if (watched.has(name)) findings.push({ path: ['request', 'remove', i], message: `removes '${name}' before the upstream; ${consequence}` })
    })
    for (const [from, to] of Object.entries(config.request?.rename ?? {})) {
      if (watched.has(from)) findings.push({ path: ['request', 'rename', from], message: `renames '${from}' to '${to}' before the upstream; ${consequence}` })
    }
    return findings
  },
  compile(config) {
    const request = config.request ?? {}
    const remove = request.remove ?? []
    const renames = Object.entries(request.rename ?? {})
    const adds = Object.entries(request.add ?? {})
    const sets = Object.entries(request.set ?? {}).map(([name, value]) => ({ name, template: parseTemplate(value) }))
    const responseSets = Object.entries(config.response?.set ?? {}).map(([name, value]) => ({ name, template: parseTemplate(value) }))
    const responseRemove = config.response?.remove ?? []
    const rewrite = config.rewrite ? { from: new RE2(config.rewrite.from), to: config.rewrite.to } : undefined

    // Every header we set replaces the client's, and renamed headers leave under their old
    // name: drop those client headers first so nothing the client sent can stand in for them.
    const drops = [...new Set([...remove, ...renames.map(([from]) => from), ...sets.map((s) => s.name)])]
    const dropped = new Set(drops)
    const isStatic = renames.length === 0 && adds.length === 0 && rewrite === undefined && [...sets, ...responseSets].every((s) => s.template.isStatic)

    if (isStatic) {
      // Nothing depends on the request: one frozen verdict, no allocation per request.
      const fixed = Object.freeze(buildVerdict(drops, Object.fromEntries(sets.map((s) => [s.name, s.template.parts.join('')])), staticEdits(responseSets, responseRemove), undefined))
      return function evaluateTransformStatic(): Verdict {
        return fixed
      }
    }

    return function evaluateTransform(ctx: RequestContext): Verdict {
      const upstreamHeaders: Record<string, string> = {}
      for (const [from, to] of renames) {
        const value = ctx.headers[from]
        if (value !== undefined) upstreamHeaders[to] = Array.isArray(value) ? value.join(', ') : value
      }
      for (const [name, value] of adds) {
        const clientSent = ctx.headers[name] !== undefined && !dropped.has(name)
        if (!clientSent && upstreamHeaders[name] === undefined) upstreamHeaders[name] = value
      }
      for (const { name, template } of sets) {
        const value = render(template, ctx)
        if (value !== undefined) upstreamHeaders[name] = value
        // Otherwise: dropped above and not replaced, so the upstream sees no such header.
        else delete upstreamHeaders[name]
      }
      let upstreamPath: string | undefined
      if (rewrite) {
        // One native call: replace returns the input unchanged when nothing matches.
        const rewritten = rewrite.from.replace(ctx.path, rewrite.to)
        if (rewritten !== ctx.path) upstreamPath = rewritten
      }
      return buildVerdict(drops, upstreamHeaders, dynamicEdits(responseSets, responseRemove, ctx), upstreamPath)
    }
  },
})

function render(template: Template, ctx: RequestContext): string | undefined {
  return template.isStatic ? (template.parts[0] as string | undefined) ?? '' : renderTemplate(template, ctx)
}

type Edits = NonNullable<Allow['responseHeaderEdits']>

function staticEdits(sets: { name: string; template: Template }[], remove: string[]): Edits | undefined {
  if (sets.length === 0 && remove.length === 0) return undefined
  return { set: Object.fromEntries(sets.map((s) => [s.name, s.template.parts.join('')])), remove }
}

function dynamicEdits(sets: { name: string; template: Template }[], remove: string[], ctx: RequestContext): Edits | undefined {
  if (sets.length === 0 && remove.length === 0) return undefined
  const set: Record<string, string> = {}
  for (const { name, template } of sets) {
    const value = render(template, ctx)
    if (value !== undefined) set[name] = value
  }
  return { set, remove }
}

function buildVerdict(drops: string[], upstreamHeaders: Record<string, string>, edits: Edits | undefined, upstreamPath: string | undefined): Allow {
  const extra: Omit<Allow, 'kind'> = {
    // The trace lists names only: header values may carry identities or credentials.
    detail: { set: Object.keys(upstreamHeaders), dropped: drops, ...(upstreamPath !== undefined ? { upstreamPath } : {}) },
  }
  if (drops.length > 0) extra.dropUpstreamHeaders = drops
  if (Object.keys(upstreamHeaders).length > 0) extra.upstreamHeaders = upstreamHeaders
  if (edits) extra.responseHeaderEdits = edits
  if (upstreamPath !== undefined) extra.upstreamPath = upstreamPath
  return allow(extra)
}
