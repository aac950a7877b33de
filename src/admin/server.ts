import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import FindMyWay from 'find-my-way'
import type { z } from 'zod'
import type { GatehouseConfig } from '../config/schema.js'
import type { Logger } from '../core/logger.js'
import { readBodyBounded } from '../gateway/body.js'
import { parseListen, urlFor } from '../gateway/listen.js'
import { createTokenVerifier } from './auth.js'
import { buildOpenApi } from './openapi.js'
import { analyticsEndpoints } from './routes/analytics.js'
import { callEndpoints } from './routes/calls.js'
import { configEndpoints } from './routes/config.js'
import { consumerEndpoints } from './routes/consumers.js'
import { tenancyEndpoints } from './routes/tenancy.js'
import { aiUsageEndpoints } from './routes/ai-usage.js'
import { configIoEndpoints } from './routes/config-io.js'
import { manageEndpoints } from './routes/manage.js'
import { streamEndpoints } from './routes/stream.js'
import { verifyConsumerKey } from './portal/auth.js'
import { portalEndpoints, type PortalEndpoint } from './portal/api.js'
import { createStaticHandler, defaultConsoleDir } from './static.js'
import type { AdminDeps, AdminEndpoint, AdminResult } from './types.js'

export const adminEndpoints: AdminEndpoint[] = [
  ...manageEndpoints,
  ...streamEndpoints,
  ...callEndpoints,
  ...analyticsEndpoints,
  ...configEndpoints,
  ...consumerEndpoints,
  ...tenancyEndpoints,
  ...configIoEndpoints,
  ...aiUsageEndpoints,
]

export interface AdminServer {
  url: string
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload), 'cache-control': 'no-store', ...headers })
  res.end(payload)
}

function problem(res: ServerResponse, status: number, title: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  send(res, status, { type: `/problems/admin/${title.toLowerCase().replace(/[^a-z]+/g, '-').replace(/-$/, '')}`, title, status, detail, ...extra }, 'application/problem+json', headers)
}

/** Reads a text request body of at most `maxBytes` (with the gateway's bounded body reader). */
async function readText(req: IncomingMessage, maxBytes: number): Promise<{ ok: true; text: string } | { ok: false; status: number; message: string }> {
  const body = await readBodyBounded(req, maxBytes)
  if (body.kind === 'too-large') {
    req.destroy()
    return { ok: false, status: 413, message: `Admin request bodies are limited to ${maxBytes >= 1024 * 1024 ? `${maxBytes / 1024 / 1024} MiB` : `${maxBytes / 1024} KiB`}.` }
  }
  if (body.kind !== 'buffered') return { ok: false, status: 400, message: 'The request body could not be read.' }
  return { ok: true, text: body.bytes.toString('utf8') }
}

/** Reads a JSON request body of at most 64 KiB. */
async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; status: number; message: string }> {
  const read = await readText(req, 64 * 1024)
  if (!read.ok) return read
  const text = read.text
  if (text.trim() === '') return { ok: true, value: undefined }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (error) {
    return { ok: false, status: 400, message: `The body is not valid JSON: ${(error as Error).message}` }
  }
}

/**
 * The admin API on `admin.listen`: `/openapi.json` and `/metrics` without a token, every
 * `/api/` call with `Authorization: Bearer <admin token>` (401 missing/unknown, 403 when the
 * token's role may not do it). Handlers run on the gateway's process, so they must stay cheap.
 */
export async function startAdminServer(
  admin: NonNullable<GatehouseConfig['admin']>,
  deps: AdminDeps,
  options: { listen?: string; logger: Logger; /** Built console; default `<package root>/dist/console`. */ consoleDir?: string },
): Promise<AdminServer> {
  const verify = createTokenVerifier(admin.tokens)
  const router = FindMyWay({ ignoreTrailingSlash: true })
  const openapi = JSON.stringify(buildOpenApi(adminEndpoints, portalEndpoints))
  for (const endpoint of adminEndpoints) router.on(endpoint.method, endpoint.path, () => undefined, endpoint)
  const portalRouter = FindMyWay({ ignoreTrailingSlash: true })
  for (const endpoint of portalEndpoints) portalRouter.on(endpoint.method, endpoint.path, () => undefined, endpoint)
  const serveStatic = createStaticHandler(options.consoleDir ?? defaultConsoleDir())

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, 'admin request failed')
      if (!res.headersSent) problem(res, 500, 'Internal error', 'The admin API failed; the gateway log has the details.')
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin')
    if (req.method === 'GET' && url.pathname === '/openapi.json') return send(res, 200, openapi)
    if (req.method === 'GET' && url.pathname === '/api/audit') {
      const check = verify(req.headers.authorization)
      if (!check.ok) return problem(res, 401, 'Admin token required', 'Send Authorization: Bearer <admin token>.', {}, { 'www-authenticate': 'Bearer realm="gatehouse-admin"' })
      if (check.principal.role !== 'admin') return problem(res, 403, 'Not permitted', 'Only admin tokens may read the audit log.')
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100))
      return send(res, 200, { entries: deps.auditLog ? await deps.auditLog(limit) : [] })
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      if (!deps.metrics) return problem(res, 404, 'Metrics off', 'Metrics are not enabled on this gateway.')
      const metrics = await deps.metrics()
      return send(res, 200, metrics.body, metrics.contentType)
    }
    if (url.pathname.startsWith('/portal/api/') || url.pathname === '/portal/api') return handlePortal(req, res, url)
    const found = router.find(req.method as 'GET', url.pathname)
    if (!found) {
      const isApi = url.pathname.startsWith('/api/') || url.pathname === '/api'
      if (!isApi && (req.method === 'GET' || req.method === 'HEAD')) return serveStatic(req, res, url.pathname)
      return problem(res, 404, 'Not found', `No admin endpoint ${req.method} ${url.pathname}; see /openapi.json.`)
    }
    const endpoint = found.store as AdminEndpoint
    // EventSource cannot send headers: the live tail alone also takes the token in the query.
    const queryToken = endpoint.tokenInQuery ? url.searchParams.get('access_token') : null
    url.searchParams.delete('access_token')
    const check = verify(req.headers.authorization ?? (queryToken ? `Bearer ${queryToken}` : undefined))
    if (!check.ok) {
      const detail = check.reason === 'missing' ? 'Send Authorization: Bearer <admin token>.' : check.reason === 'malformed' ? 'The Authorization header is not a Bearer token.' : 'The admin token is not valid.'
      return problem(res, 401, 'Admin token required', detail, {}, { 'www-authenticate': `Bearer realm="gatehouse-admin"${check.reason === 'missing' ? '' : ', error="invalid_token"'}` })
    }
    const principal = check.principal
    // Tenant scoping happens in handlers (they filter or refuse by tenant); here only read vs write.
    if (endpoint.action === 'write' && principal.role === 'viewer') {
      return problem(res, 403, 'Not permitted', `A ${principal.role} token may not ${endpoint.method} ${endpoint.path}.`)
    }
    if (endpoint.adminOnly && principal.role !== 'admin') {
      return problem(res, 403, 'Not permitted', `Only admin tokens may ${endpoint.method} ${endpoint.path}; this is a ${principal.role} token.`)
    }
    const input = await readInput(req, res, url, endpoint)
    if (!input) return
    const { query, body } = input
    const audit = (action: string, target: string, detail: Record<string, unknown> = {}) => {
      options.logger.info({ audit: { actor: principal.name, role: principal.role, action, target, ...detail } }, 'admin action')
      deps.onAudit?.({ time: Date.now(), actor: principal.name, role: principal.role, action, target, detail })
    }
    const result = await endpoint.handle({ principal, params: found.params as Record<string, string>, query, body, audit }, deps)
    sendResult(req, res, result)
  }

  /**
   * Reads and validates an endpoint's query and body (JSON, or text of the listed types), or
   * answers 400/413/415 naming each bad field and returns undefined.
   */
  async function readInput(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    endpoint: { query?: z.ZodType; body?: z.ZodType; textBody?: { types: readonly string[]; maxBytes: number } },
  ): Promise<{ query: Record<string, unknown>; body: unknown } | undefined> {
    const invalid = (title: string, error: z.ZodError) => {
      const issues = error.issues.map((i) => ({ field: i.path.join('.') || String((i as { keys?: string[] }).keys ?? ''), message: i.message }))
      problem(res, 400, title, issues.map((i) => `${i.field}: ${i.message}`).join('; '), { errors: issues })
      return undefined
    }
    let query: unknown = Object.fromEntries(url.searchParams)
    if (endpoint.query) {
      const parsed = endpoint.query.safeParse(query)
      if (!parsed.success) return invalid('Invalid query', parsed.error)
      query = parsed.data
    }
    let body: unknown
    if (endpoint.textBody) {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
      if (!endpoint.textBody.types.includes(type)) {
        problem(res, 415, 'Unsupported media type', `Send the body as ${endpoint.textBody.types.slice(0, 2).join(' or ')}.`)
        return undefined
      }
      const raw = await readText(req, endpoint.textBody.maxBytes)
      if (!raw.ok) {
        problem(res, raw.status, raw.status === 413 ? 'Body too large' : 'Invalid body', raw.message)
        return undefined
      }
      body = raw.text
    } else if (endpoint.body) {
      const raw = await readJson(req)
      if (!raw.ok) {
        problem(res, raw.status, raw.status === 413 ? 'Body too large' : 'Invalid JSON', raw.message)
        return undefined
      }
      const parsed = endpoint.body.safeParse(raw.value)
      if (!parsed.success) return invalid('Invalid body', parsed.error)
      body = parsed.data
    }
    return { query: query as Record<string, unknown>, body }
  }

  function sendResult(req: IncomingMessage, res: ServerResponse, result: AdminResult): void {
    if (result.stream && result.status < 400) return result.stream(req, res)
    if (result.status >= 400) {
      const body = result.body as { title?: string; detail?: string; errors?: unknown }
      return problem(res, result.status, body.title ?? 'Error', body.detail ?? '', body.errors === undefined ? {} : { errors: body.errors })
    }
    if (result.contentType) return send(res, result.status, String(result.body), result.contentType)
    send(res, result.status, result.body)
  }

  /** `/portal/api/*`: the developer portal, authenticated with the consumer's own API key. */
  async function handlePortal(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const found = portalRouter.find(req.method as 'GET', url.pathname)
    if (!found) return problem(res, 404, 'Not found', `No portal endpoint ${req.method} ${url.pathname}.`)
    const endpoint = found.store as PortalEndpoint
    const check = verifyConsumerKey(req, deps.runtime())
    if (!check.ok) {
      return problem(res, 401, 'API key required', check.reason === 'missing' ? 'Send your API key as X-API-Key: <key> or Authorization: Bearer <key>.' : 'The API key is not valid.', {}, { 'www-authenticate': 'ApiKey realm="gatehouse-portal"' })
    }
    const input = await readInput(req, res, url, endpoint)
    if (!input) return
    const { query, body } = input
    sendResult(req, res, await endpoint.handle({ consumer: check.consumer, params: found.params as Record<string, string>, query, body }, deps))
  }

  const { host, port } = parseListen(options.listen ?? admin.listen)
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(port, host, () => {
      server.off('error', fail)
      ok()
    })
  })
  return {
    url: urlFor(host, (server.address() as AddressInfo).port),
    close: () => new Promise<void>((ok) => {
      server.close(() => ok())
      server.closeAllConnections()
    }),
  }
}
