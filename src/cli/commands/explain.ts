import type { IncomingHttpHeaders } from 'node:http'
import { readFile } from 'node:fs/promises'
import { shortRuleName, type Denial } from '../../core/denial.js'
import { systemClock } from '../../core/clock.js'
import { formatProblem, loadConfigFile } from '../../config/load.js'
import { closeShared, compileRuntime } from '../../gateway/compile.js'
import type { BodyState } from '../../gateway/context.js'
import { createContext } from '../../gateway/create-context.js'
import { runPipeline } from '../../gateway/pipeline.js'
import { renderProblem } from '../../gateway/respond.js'
import { routeRequest } from '../../gateway/route-request.js'
import { parseCommandArgs, UsageError } from '../args.js'
import { configOption, configPath } from '../config-arg.js'
import { exitCodes, type Command } from '../io.js'
import { createPalette, renderTrail, sanitizeText } from '../print.js'

function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(':')
  if (colon <= 0) throw new UsageError(`-H '${line}' is not 'Name: value'`)
  return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
}

export const explainCommand: Command = {
  name: 'explain',
  summary: 'Dry-run a request through the pipeline and print every layer\'s verdict',
  usage: 'gatehouse explain [-c gatehouse.yaml] [-X METHOD] URL [-H "Name: value"]... [-d body | -d @file] [--ip client-ip] [--json]',
  examples: [
    "gatehouse explain -X POST http://localhost:8080/orders -H 'X-API-Key: demo-key-acme' -d '{\"sku\":\"a1\"}'",
    'gatehouse explain --ip 203.0.113.9 http://localhost:8080/orders',
  ],
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      ...configOption,
      request: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string', short: 'd' },
      ip: { type: 'string' },
      json: { type: 'boolean' },
    })
    const rawUrl = positionals[0]
    if (!rawUrl) throw new UsageError('give the URL of the request to explain')
    let url: URL
    try {
      url = new URL(rawUrl.includes('://') ? rawUrl : `http://localhost${rawUrl.startsWith('/') ? '' : '/'}${rawUrl}`)
    } catch {
      throw new UsageError(`'${rawUrl}' is not a URL`)
    }
    const headers: IncomingHttpHeaders = { host: url.host }
    for (const line of values.header ?? []) {
      const [name, value] = parseHeader(line)
      headers[name] = value
    }
    let body: Buffer | undefined
    if (values.data !== undefined) {
      body = values.data.startsWith('@') ? await readFile(values.data.slice(1)).catch(() => { throw new UsageError(`cannot read ${values.data}`) }) : Buffer.from(values.data)
      headers['content-length'] = String(body.length)
      headers['content-type'] ??= 'application/x-www-form-urlencoded'
    }
    const method = (values.request ?? (body ? 'POST' : 'GET')).toUpperCase()

    const loaded = await loadConfigFile(configPath(values.config, io), io.env)
    if (!loaded.ok) {
      for (const problem of loaded.problems) io.stderr(`${formatProblem(problem)}\n`)
      return exitCodes.usage
    }
    const shared = new Map<string, unknown>()
    const runtime = compileRuntime(loaded.config, { clock: systemClock, env: io.env, shared, dryRun: true })
    try {
      const ctx = createContext({ method, url: `${url.pathname}${url.search}`, headers, socket: { remoteAddress: values.ip ?? '127.0.0.1' } }, runtime.resolveClientIp, Date.now())
      ctx.trail.push({ layer: 'request-id', result: 'allow', ms: 0 })
      let denial: Denial | undefined
      let answered: { status: number; headers: Record<string, string> } | undefined
      let upstream: { name: string; targets: string[] } | undefined
      const routed = routeRequest(runtime, ctx)
      if ('denial' in routed) {
        denial = routed.denial
      } else {
        const readBody = async (limit: number): Promise<BodyState> =>
          !body ? { kind: 'buffered', bytes: Buffer.alloc(0) } : body.length > limit ? { kind: 'too-large', limitBytes: limit, receivedBytes: body.length } : { kind: 'buffered', bytes: body }
        const outcome = await runPipeline(routed.route.layers, ctx, readBody, routed.route.bodyLimitBytes)
        if (outcome.kind === 'deny') denial = outcome.denial
        else if (outcome.kind === 'respond') answered = { status: outcome.status, headers: outcome.headers }
        else {
          const group = routed.route.upstream
          upstream = { name: group.name, targets: group.targets.map((t) => t.origin) }
          ctx.trail.push({ layer: 'upstream', result: 'allow', ms: 0, detail: { wouldForwardTo: group.name } })
        }
      }
      const status = denial?.status ?? answered?.status ?? null
      if (values.json) {
        io.stdout(`${JSON.stringify({
          allowed: !denial,
          request: { method, url: url.toString(), clientIp: ctx.clientIp },
          route: ctx.routeName ?? null,
          status,
          decision: denial ? `${denial.layer};rule=${shortRuleName(denial.rule)}` : 'allow',
          layers: ctx.trail,
          denial: denial ?? null,
          problem: denial ? renderProblem(denial, ctx, loaded.config.explain) : null,
          upstream: upstream ?? null,
        }, null, 2)}\n`)
      } else {
        const palette = createPalette(io.color)
        io.stdout(`${palette.bold(`${method} ${sanitizeText(ctx.path)}`)}${ctx.routeName ? ` → route '${ctx.routeName}'` : ''} (client ${ctx.clientIp})\n`)
        io.stdout(renderTrail({ trail: ctx.trail, denial: denial ?? null }, { color: io.color }))
        if (denial) io.stdout(`${palette.red(palette.bold(`→ denied: ${denial.status}`))} ${denial.layer};rule=${shortRuleName(denial.rule)}\n`)
        else if (answered) io.stdout(`${palette.green(`→ answered by the gateway: ${answered.status}`)} (CORS preflight)\n`)
        else io.stdout(`${palette.green('→ allowed:')} would forward to upstream '${upstream?.name}' (${upstream?.targets.join(', ')})\n`)
      }
      return denial ? exitCodes.denied : exitCodes.ok
    } finally {
      await Promise.all([...runtime.upstreams.values()].map((g) => g.close()))
      await closeShared(shared)
    }
  },
}
