import { watch, type FSWatcher } from 'node:fs'
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { readClientCertificate, readTlsFiles } from './tls.js'
import type { AddressInfo, Socket } from 'node:net'
import { basename, dirname, resolve } from 'node:path'
import { EventEmitter } from 'node:events'
import { systemClock, type Clock } from '../core/clock.js'
import { createDenial, shortRuleName, type Denial } from '../core/denial.js'
import { GatewayError } from '../core/errors.js'
import type { JsonObject } from '../core/json.js'
import { silentLogger, type Logger } from '../core/logger.js'
import { formatProblem, loadConfigFile, type LoadResult } from '../config/load.js'
import { openStore } from '../store/open-store.js'
import type { CallLogStore, CallRecord } from '../store/types.js'
import { readBodyBounded } from './body.js'
import { closeShared, compileRuntime, type CompiledRoute, type Runtime } from './compile.js'
import type { RequestContext } from './context.js'
import { createContext } from './create-context.js'
import { parseListen, urlFor } from './listen.js'
import { runPipeline, type PipelineOutcome } from './pipeline.js'
import { sendDenial, type ExplainLevel } from './respond.js'
import { gatewayRules } from './rules.js'
import { routeRequest } from './route-request.js'
import { startAdminServer } from '../admin/server.js'
import { startDenialAlerts, tenantOfRoute, type DenialAlerts } from '../analytics/alerts.js'
import { applyAdminState, type AdminState } from '../admin/state.js'
import { openAdminStateStore } from '../store/admin-state.js'
import { startAdminSync } from './admin-sync.js'
import { createObservability } from '../observability/index.js'
import { diagnoseUpstreamDenial } from './diagnose-upstream.js'
import { proxyRequest, type ProxyResult } from './upstream/proxy.js'
import { resolveRequestId } from './request-id.js'
import { answerAiRequest, type AiLogFacts } from '../ai/gateway.js'
import { closeAiConnections } from '../ai/engine.js'
import { preloadTokenizer } from '../ai/tokens.js'
import { aiCallsOf } from '../ai/replay-usage.js'
import { replayBudgetUsage } from '../policies/budget/index.js'
import { problemMembers, sendProblemWithMembers } from '../ai/problem.js'
import type { AiCallFacts } from '../store/types.js'

export interface GatewayOptions {
  configFile: string
  env?: Record<string, string | undefined>
  logger?: Logger
  clock?: Clock
  /** Reload when the config file changes. Default true. */
  watch?: boolean
  /** Overrides `listen:` (tests pass 127.0.0.1:0). */
  listen?: string
  /** Overrides `admin.listen` (tests pass 127.0.0.1:0). */
  adminListen?: string
  /** Call-log batching, for tests. */
  storeOptions?: { batchMs?: number; batchSize?: number }
}

export interface Gateway {
  url: string
  /** The admin API's URL, when `admin:` is configured. */
  adminUrl?: string
  port: number
  runtime(): Runtime
  store: CallLogStore | undefined
  /** The denial-spike checker (reads `alerts:` at every check); absent without a call log. */
  denialAlerts?: DenialAlerts
  /** Re-reads the config file; keeps the running config when the new one is bad. */
  reload(): Promise<LoadResult>
  /** Emits `reload` with the LoadResult of every reload attempt. */
  events: EventEmitter
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), flushes the call log. */
  close(graceMs?: number): Promise<void>
}

/** Starts the gateway from a config file. Throws GatewayError('config.invalid') with the problems listed. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const env = options.env ?? process.env
  const logger = options.logger ?? silentLogger
  const clock = options.clock ?? systemClock
  const configFile = resolve(options.configFile)
  const shared = new Map<string, unknown>()
  const events = new EventEmitter()

  const first = await loadConfigFile(configFile, env)
  if (!first.ok) {
    throw new GatewayError('config.invalid', `${options.configFile} is invalid:\n${first.problems.map(formatProblem).join('\n')}`, {
      remediation: `Run 'gatehouse check -c ${options.configFile}' and fix the problems listed.`,
    })
  }
  for (const warning of first.warnings) logger.warn({ problem: formatProblem(warning) }, 'config warning')
  // Admin API changes (consumers, keys, subscriptions) are kept in the store and laid over the file.
  const adminStateStore = openAdminStateStore(first.config.store, first.baseDir)
  let adminState = await adminStateStore.load()
  let fileConfig = first.config
  let runtime = compileRuntime(applyAdminState(fileConfig, adminState), { clock, env, shared })
  // Token tables take 0.5-2 s to load; load them now rather than inside the first AI call that
  // needs to count tokens itself.
  if (runtime.routes.some((r) => r.ai !== undefined)) void preloadTokenizer().catch((error: unknown) => logger.warn({ err: error }, 'AI token counter failed to load; usage will be counted on first use'))
  for (const group of runtime.upstreams.values()) group.startHealthChecks()

  const store = first.config.store === 'off'
    ? undefined
    : openStore(first.config.store, first.baseDir, {
        ...options.storeOptions,
        eagerWriter: true,
        readerWorker: true,
        // Write failures keep rows queued and retry; the operator learns of it here.
        onProblem: (problem) => logger.warn({ store: problem }, 'call log: write problem (rows stay queued and are retried)'),
      })
  // In-memory budget counters would start empty: replay this month's AI usage from the call log
  // before serving, so a restart never hands out a fresh budget.
  const budgetRoutes = runtime.routes.filter((r) => r.ai !== undefined && (r.config.policies as Record<string, unknown>).budget !== undefined).map((r) => r.name)
  if (store && budgetRoutes.length > 0) {
    const started = performance.now()
    try {
      const replayed = await replayBudgetUsage(shared, budgetRoutes, (route, since, until) => aiCallsOf(store, route, since, until), clock.now())
      if (replayed > 0) logger.info({ calls: replayed, ms: Math.round(performance.now() - started) }, 'budget counters restored from the call log')
    } catch (error) {
      logger.warn({ err: error }, 'budget counters could not be restored from the call log; they start from zero')
    }
  }
  // Observability is set up once per process; a reload does not change it (documented on the key).
  const observabilityConfig = first.config.observability
  const observability = observabilityConfig.metrics.enabled || observabilityConfig.tracing.enabled || observabilityConfig.accessLog
    ? createObservability(observabilityConfig, { logger, env })
    : undefined
  const observe = observability !== undefined
  const startSpan = observability?.onRequestStart

  const tls = first.config.tls
  const secure = tls !== undefined
  const requestCert = tls?.requestCert === true
  const httpOptions = {
    // Slow-header and slow-body clients are cut off instead of holding sockets forever.
    headersTimeout: first.config.limits.headersTimeoutMs,
    requestTimeout: first.config.limits.requestTimeoutMs,
    // Node enforces both timeouts only on this tick (default 30 s, which made them 40 s and 90 s).
    connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(first.config.limits.headersTimeoutMs / 4))),
    keepAliveTimeout: first.config.limits.keepAliveTimeoutMs,
    maxHeaderSize: 16 * 1024,
  }
  const server = tls
    ? createHttpsServer({
        ...httpOptions,
        ...(await readTlsFiles(tls, first.baseDir)),
        requestCert: tls.requestCert,
        // A bad client certificate is refused by the authn layer with an explained 401,
        // not by a handshake failure the caller cannot read.
        rejectUnauthorized: false,
      })
    : createServer(httpOptions)

  /** `decision`: `allow`, `upstream` (its own 4xx/5xx), `client-closed`, or the denying layer. */
  // Live-tail listeners (admin console); usually none, so the hot path checks one number.
  const callListeners = new Set<(row: CallRecord) => void>()
  const record = (ctx: RequestContext, status: number, decision: string, layer: string, rule: string | null, denial: Denial | undefined, proxy: ProxyResult | undefined, requestBytes: number, ai?: AiCallFacts) => {
    if (!store && !observe && callListeners.size === 0) return
    const row: CallRecord = {
      time: ctx.receivedAt,
      requestId: ctx.id,
      traceId: ctx.traceId,
      route: ctx.routeName ?? null,
      consumer: ctx.identity?.consumer ?? null,
      tenant: ctx.identity?.tenant ?? null,
      method: ctx.method,
      path: ctx.path,
      status,
      decision,
      layer,
      rule,
      upstreamStatus: proxy?.upstreamStatus ?? null,
      upstreamMs: proxy?.upstreamMs === null || proxy?.upstreamMs === undefined ? null : Math.round(proxy.upstreamMs * 100) / 100,
      totalMs: Math.round((performance.now() - ctx.startedAt) * 100) / 100,
      requestBytes,
      responseBytes: proxy?.responseBytes ?? 0,
      clientIp: ctx.clientIp,
      upstreamTarget: proxy?.target ?? null,
      trail: ctx.trail,
      denial: denial ? denialForLog(denial) : null,
    }
    if (ai) row.ai = ai
    store?.append(row)
    observability?.onRequestEnd(ctx, row)
    if (callListeners.size > 0) for (const listener of callListeners) listener(row)
    if (ctx.trail.length > 2) warnAboutUnavailableStores(ctx)
  }

  // A layer whose shared store (Redis) is unreachable says so in its trace; the operator also
  // gets a log line, at most one per route every 10 s, so an outage is visible without `why`.
  const lastStoreWarning = new Map<string, number>()
  const warnAboutUnavailableStores = (ctx: RequestContext) => {
    for (const entry of ctx.trail) {
      if (entry.detail?.store !== 'unavailable') continue
      const key = `${ctx.routeName}:${entry.layer}`
      const now = Date.now()
      if (now - (lastStoreWarning.get(key) ?? 0) < 10_000) return
      lastStoreWarning.set(key, now)
      logger.warn({ route: ctx.routeName, layer: entry.layer, failOpen: entry.detail.failOpen, error: entry.detail.error }, `${entry.layer}: shared store unavailable; ${entry.detail.failOpen ? 'failing open (requests pass unlimited)' : 'failing closed (503)'}`)
      return
    }
  }

  const requestBytesOf = (ctx: RequestContext, req: IncomingMessage) =>
    ctx.body.kind === 'buffered' ? ctx.body.bytes.length : Number(req.headers['content-length'] ?? 0) || 0

  // Sockets answered with `Connection: close`. Node keeps parsing pipelined bytes behind such an
  // answer and emits the next request; RFC 9112 §9.6 says it must not be processed.
  const closing = new WeakSet<Socket>()
  // Requests routed to an ai route: their denials are also shaped for OpenAI SDKs.
  const aiRequests = new WeakSet<RequestContext>()

  const deny = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, denial: Denial, explain: ExplainLevel, proxy?: ProxyResult, ai?: AiCallFacts) => {
    // Close the connection if the request body was left unread, so it cannot be taken as the next request.
    const unread = ctx.body.kind !== 'buffered' && !req.complete && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined)
    if (unread) closing.add(req.socket)
    // Denials of the ai layers carry facts about the caller's own request (allowed models, quota);
    // on ai routes the problem also carries the `error` member OpenAI SDKs show.
    if (res.headersSent) res.destroy()
    else if (aiRequests.has(ctx) || problemMembers(denial)) sendProblemWithMembers(res, ctx, denial, explain, unread, aiRequests.has(ctx))
    else sendDenial(res, ctx, denial, explain, unread)
    record(ctx, denial.status, denial.layer, denial.layer, shortRuleName(denial.rule), denial, proxy, requestBytesOf(ctx, req), ai)
  }

  /** An ai route: the gateway answers the OpenAI-compatible API itself, calling the providers. */
  const answerAi = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, route: CompiledRoute, explain: ExplainLevel) => {
    const asProxy = (facts: AiLogFacts): ProxyResult => ({ upstreamStatus: facts.upstreamStatus, upstreamMs: facts.upstreamMs === null ? null : facts.upstreamMs, target: facts.target, responseBytes: facts.responseBytes })
    answerAiRequest(req, res, ctx, route, {
      shared,
      readBody: (limit) => readBodyBounded(req, limit),
      warn: (fields, message) => logger.warn(fields, message),
      deny: (denial, facts) => deny(req, res, ctx, denial, explain, facts ? asProxy(facts) : undefined, facts?.ai),
      record: (status, decision, layer, rule, facts) => record(ctx, status, decision, layer, rule, undefined, asProxy(facts), requestBytesOf(ctx, req), facts.ai),
    }).catch((error: unknown) => fail(req, res, ctx, error))
  }

  const fail = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, error: unknown) => {
    logger.error({ err: error, requestId: ctx.id, route: ctx.routeName }, 'request failed inside the gateway')
    const denial = createDenial(gatewayRules.internal, { message: 'The gateway failed while handling the request.', detail: { error: error instanceof Error ? error.message : String(error) } })
    deny(req, res, ctx, denial, 'public')
  }

  const forward = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, route: CompiledRoute, explain: ExplainLevel) => {
    const responseHeaders = (status: number): OutgoingHttpHeaders => {
      const out: OutgoingHttpHeaders = { ...ctx.responseHeaders }
      out['gatehouse-decision'] = status >= 400 ? 'upstream' : 'allow'
      out['x-request-id'] = ctx.id
      return out
    }
    const started = performance.now()
    proxyRequest(ctx, req, res, route.upstream, { stripPrefix: route.stripPrefix, secure, responseHeaders }).then(
      (result) => {
        const ms = performance.now() - started
        if (result.clientClosed) {
          // 499 as nginx logs it: the client closed the connection before the answer was complete.
          ctx.trail.push({ layer: 'upstream', result: 'skip', ms, detail: { clientClosed: true, target: result.target } })
          record(ctx, 499, 'client-closed', 'upstream', null, undefined, result, requestBytesOf(ctx, req))
          return
        }
        if (result.denial) {
          ctx.trail.push({ layer: 'upstream', result: 'deny', rule: result.denial.rule, ms, detail: result.denial.detail })
          deny(req, res, ctx, result.denial, explain, result)
          return
        }
        const status = result.upstreamStatus ?? 0
        const detail: JsonObject = { status, target: result.target }
        if (status < 400) {
          ctx.trail.push({ layer: 'upstream', result: 'allow', ms, detail })
          record(ctx, status, 'allow', 'upstream', null, undefined, result, requestBytesOf(ctx, req))
          return
        }
        // The upstream's own refusal, passed through as it was: say who produced it, if we can tell.
        const diagnosis = result.errorSample ? diagnoseUpstreamDenial(ctx, status, result.errorSample) : null
        if (diagnosis) detail.diagnosis = diagnosis
        ctx.trail.push({ layer: 'upstream', result: 'deny', rule: `upstream.status-${status}`, ms, detail })
        const stored = diagnosis ? upstreamDenialForLog(status, diagnosis) : undefined
        record(ctx, status, 'upstream', 'upstream', `status-${status}`, stored, result, requestBytesOf(ctx, req))
      },
      (error: unknown) => fail(req, res, ctx, error),
    )
  }

  const finish = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, route: CompiledRoute, outcome: PipelineOutcome, explain: ExplainLevel) => {
    if (outcome.kind === 'allow') {
      // An earlier request on this socket was denied with its body unread while this one was in the pipeline.
      if (closing.has(req.socket)) return res.destroy()
      if (route.ai) return answerAi(req, res, ctx, route, explain)
      return forward(req, res, ctx, route, explain)
    }
    if (outcome.kind === 'deny') return deny(req, res, ctx, outcome.denial, explain)
    const headers: OutgoingHttpHeaders = { ...ctx.responseHeaders, ...outcome.headers, 'gatehouse-decision': 'allow', 'x-request-id': ctx.id, 'content-length': 0 }
    res.writeHead(outcome.status, headers)
    res.end()
    record(ctx, outcome.status, 'allow', ctx.trail[ctx.trail.length - 1]?.layer ?? 'gateway', null, undefined, undefined, 0)
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing.has(req.socket)) {
      req.socket.destroy()
      return
    }
    const rt = runtime
    const explain = rt.config.explain
    const ctx = createContext(req, rt.resolveClientIp, clock.now())
    if (requestCert) ctx.clientCert = readClientCertificate(req.socket as TLSSocket)
    startSpan?.(ctx)
    req.on('error', () => undefined)
    try {
      ctx.trail.push({ layer: 'request-id', result: 'allow', ms: 0 })
      // RFC 9112 §3.2: more than one Host header is a 400; Node silently keeps the first.
      if (countHeader(req.rawHeaders, 'host') > 1) {
        return deny(req, res, ctx, createDenial(gatewayRules.malformedRequest, { message: 'The request has more than one Host header.' }), explain)
      }
      const routed = routeRequest(rt, ctx)
      if ('denial' in routed) return deny(req, res, ctx, routed.denial, explain)
      const route = routed.route
      if (route.ai) aiRequests.add(ctx)
      const outcome = runPipeline(route.layers, ctx, (limit) => readBodyBounded(req, limit), route.bodyLimitBytes)
      if (outcome instanceof Promise) {
        outcome.then((o) => finish(req, res, ctx, route, o, explain), (error: unknown) => fail(req, res, ctx, error))
      } else {
        finish(req, res, ctx, route, outcome, explain)
      }
    } catch (error) {
      fail(req, res, ctx, error)
    }
  })

  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) return socket.destroy()
    // No request object exists yet, so the answer is written by hand, still as problem+json.
    const rule = error.code === 'HPE_HEADER_OVERFLOW' ? gatewayRules.headersTooLarge : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? gatewayRules.requestTimeout : gatewayRules.malformedRequest
    const name = shortRuleName(rule.id)
    const requestId = resolveRequestId(undefined)
    const body = JSON.stringify({ type: `/problems/gateway/${name}`, title: rule.title, status: rule.status, detail: rule.meaning, layer: 'gateway', rule: name, requestId, remedy: rule.remedy })
    socket.end(`HTTP/1.1 ${rule.status} ${rule.title}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\ngatehouse-decision: gateway;rule=${name}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`)
  })

  const { host, port } = parseListen(options.listen ?? first.config.listen)
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(port, host, () => {
      server.off('error', fail)
      ok()
    })
  })
  const bound = (server.address() as AddressInfo).port

  /** Puts a newly compiled runtime in service and retires upstream pools it no longer uses. */
  const swapRuntime = (next: Runtime) => {
    const old = runtime
    runtime = next
    for (const group of next.upstreams.values()) group.startHealthChecks()
    for (const [name, group] of old.upstreams) if (next.upstreams.get(name) !== group) void group.close()
  }

  let changing: Promise<unknown> = Promise.resolve()

  // Another instance changed the shared admin state: reload it (after any change of ours).
  const reloadAdminState = () => {
    changing = changing.then(async () => {
      const loaded = await adminStateStore.load()
      const next = compileRuntime(applyAdminState(fileConfig, loaded), { clock, env, shared, previous: runtime })
      adminState = loaded
      swapRuntime(next)
      logger.info('admin state reloaded after a change on another instance')
    }).catch((error: unknown) => logger.error({ err: error }, 'admin state reload failed; keeping the running config'))
  }
  const adminSync = first.config.redis && first.config.store !== 'off' ? startAdminSync(first.config.redis, reloadAdminState, logger) : undefined

  // One admin change at a time: compile with it first, so a change that cannot run is refused
  // before it is saved; then save, then swap.
  async function changeAdminState(mutate: (state: AdminState) => AdminState): Promise<{ ok: true } | { ok: false; message: string }> {
    const run = changing.then(async () => {
      const nextState = mutate(adminState)
      let next: Runtime
      try {
        next = compileRuntime(applyAdminState(fileConfig, nextState), { clock, env, shared, previous: runtime })
      } catch (error) {
        return { ok: false as const, message: (error as Error).message }
      }
      await adminStateStore.save(nextState)
      adminState = nextState
      adminSync?.announce()
      swapRuntime(next)
      return { ok: true as const }
    })
    changing = run.catch(() => undefined)
    return run
  }

  const denialAlerts = store ? startDenialAlerts({ store, config: () => runtime.config.alerts, tenantOf: (route) => tenantOfRoute(runtime.config, route), clock, logger }) : undefined
  const adminServer = first.config.admin
    ? await startAdminServer(first.config.admin, {
        alerts: denialAlerts ? () => denialAlerts.alerts() : undefined,
        runtime: () => runtime,
        store,
        metrics: observability ? () => observability.metrics() : undefined,
        adminState: () => adminState,
        changeAdminState,
        onAudit: (entry) => void adminStateStore.audit(entry).catch((error: unknown) => logger.error({ err: error, audit: entry }, 'audit log write failed')),
        auditLog: (limit) => adminStateStore.auditLog(limit),
        onCall: (listener) => {
          callListeners.add(listener)
          return () => callListeners.delete(listener)
        },
        fileConfig: () => fileConfig,
        configFile,
      }, { listen: options.adminListen, logger })
    : undefined

  // Upstream health gauges follow the balancer's view of every target.
  const healthTimer = observability
    ? setInterval(() => {
        for (const group of runtime.upstreams.values()) for (const target of group.health()) observability.setUpstreamHealth(group.name, target.origin, target.healthy)
      }, 5_000)
    : undefined
  healthTimer?.unref()

  let reloading: Promise<LoadResult> | undefined
  const reload = async (): Promise<LoadResult> => {
    const result = await loadConfigFile(configFile, env)
    if (!result.ok) {
      logger.warn({ problems: result.problems.map(formatProblem) }, 'config reload refused; keeping the running config')
      events.emit('reload', result)
      return result
    }
    try {
      const next = compileRuntime(applyAdminState(result.config, adminState), { clock, env, shared, previous: runtime })
      fileConfig = result.config
      swapRuntime(next)
      logger.info({ routes: next.routes.length }, 'config reloaded')
      events.emit('reload', result)
      return result
    } catch (error) {
      const failed: LoadResult = { ok: false, file: options.configFile, problems: [{ file: options.configFile, line: 1, col: 1, path: '', message: (error as Error).message, severity: 'error' }] }
      logger.warn({ problems: failed.problems.map(formatProblem) }, 'config reload refused; keeping the running config')
      events.emit('reload', failed)
      return failed
    }
  }

  let watcher: FSWatcher | undefined
  if (options.watch !== false) {
    // Watch the directory: editors replace files by rename, which ends a watch on the file itself.
    let timer: NodeJS.Timeout | undefined
    watcher = watch(dirname(configFile), (_event, name) => {
      if (name !== basename(configFile)) return
      clearTimeout(timer)
      timer = setTimeout(() => {
        reloading = (reloading ?? Promise.resolve()).then(reload, reload)
      }, 100)
    })
    watcher.on('error', (error) => logger.warn({ err: error }, 'config watch failed; hot reload is off'))
  }

  return {
    url: urlFor(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, bound, secure ? 'https' : 'http'),
    port: bound,
    adminUrl: adminServer?.url,
    runtime: () => runtime,
    store,
    denialAlerts,
    reload,
    events,
    async close(graceMs = 10_000) {
      watcher?.close()
      await adminServer?.close()
      await denialAlerts?.stop()
      const closed = new Promise<void>((ok) => server.close(() => ok()))
      server.closeIdleConnections()
      // closeIdleConnections only sees connections idle right now; one whose last response ends
      // during the drain would otherwise stay open for the keep-alive timeout (plus Node's 1 s
      // buffer) and hold up the exit. Node offers no per-connection 'now idle' event.
      const sweep = setInterval(() => server.closeIdleConnections(), 20)
      const timer = setTimeout(() => server.closeAllConnections(), graceMs)
      await closed
      clearTimeout(timer)
      clearInterval(sweep)
      await Promise.all([...runtime.upstreams.values()].map((g) => g.close()))
      // Idle keep-alive sockets to model providers would hold the process open for their timeout.
      if (runtime.routes.some((r) => r.ai !== undefined)) await closeAiConnections()
      await closeShared(shared)
      await adminSync?.close()
      await adminStateStore.close()
      if (healthTimer) clearInterval(healthTimer)
      await observability?.shutdown()
      await store?.close()
    },
  }
}

/** A stored explanation of an upstream's own denial, from the doctor's diagnosis. */
function upstreamDenialForLog(status: number, diagnosis: JsonObject): Denial {
  const remedies = Array.isArray(diagnosis.remedies) ? diagnosis.remedies.map(String) : []
  return {
    layer: 'upstream',
    rule: `upstream.status-${status}`,
    status,
    title: 'Denied by the upstream',
    message: `The upstream answered ${status} itself; it looks like ${String(diagnosis.producer)} (${String(diagnosis.layer)}): ${String(diagnosis.cause)}`,
    remediation: remedies.join(' ') || "Look at the upstream service's own logs and policies.",
    publicRemedy: '',
    detail: { diagnosis },
  }
}

/** The stored form of a denial: everything an operator needs, nothing secret (policies never put secrets in it). */
function denialForLog(denial: Denial): JsonObject {
  const out: JsonObject = {
    layer: denial.layer,
    rule: denial.rule,
    status: denial.status,
    title: denial.title,
    message: denial.message,
    remediation: denial.remediation,
  }
  if (denial.detail) out.detail = denial.detail
  return out
}

/** How many times a header appears in the raw list (Node merges or drops duplicates in `headers`). */
function countHeader(raw: string[], name: string): number {
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) n++
  return n
}
