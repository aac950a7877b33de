import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import FindMyWay from 'find-my-way'
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
import type { AdminDeps, AdminEndpoint } from './types.js'

export const adminEndpoints: AdminEndpoint[] = [...callEndpoints, ...analyticsEndpoints, ...configEndpoints, ...consumerEndpoints, ...tenancyEndpoints, ...aiUsageEndpoints]

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

/** Reads a JSON request body of at most 64 KiB (with the gateway's bounded body reader). */
async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; status: number; message: string }> {
  const body = await readBodyBounded(req, 64 * 1024)
  if (body.kind === 'too-large') {
    req.destroy()
    return { ok: false, status: 413, message: 'Admin request bodies are limited to 64 KiB.' }
  }
  if (body.kind !== 'buffered') return { ok: false, status: 400, message: 'The request body could not be read.' }
  const text = body.bytes.toString('utf8')
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
  options: { listen?: string; logger: Logger },
): Promise<AdminServer> {
  const verify = createTokenVerifier(admin.tokens)
  const router = FindMyWay({ ignoreTrailingSlash: true })
  const openapi = JSON.stringify(buildOpenApi(adminEndpoints))
  for (const endpoint of adminEndpoints) router.on(endpoint.method, endpoint.path, () => undefined, endpoint)

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
    const found = router.find(req.method as 'GET', url.pathname)
    if (!found) return problem(res, 404, 'Not found', `No admin endpoint ${req.method} ${url.pathname}; see /openapi.json.`)
    const endpoint = found.store as AdminEndpoint
    const check = verify(req.headers.authorization)
    if (!check.ok) {
      const detail = check.reason === 'missing' ? 'Send Authorization: Bearer <admin token>.' : check.reason === 'malformed' ? 'The Authorization header is not a Bearer token.' : 'The admin token is not valid.'
      return problem(res, 401, 'Admin token required', detail, {}, { 'www-authenticate': `Bearer realm="gatehouse-admin"${check.reason === 'missing' ? '' : ', error="invalid_token"'}` })
    }
    const principal = check.principal
    // Tenant scoping happens in handlers (they filter or refuse by tenant); here only read vs write.
    if (endpoint.action === 'write' && principal.role === 'viewer') {
      return problem(res, 403, 'Not permitted', `A ${principal.role} token may not ${endpoint.method} ${endpoint.path}.`)
    }
    let query: unknown = Object.fromEntries(url.searchParams)
    if (endpoint.query) {
      const parsed = endpoint.query.safeParse(query)
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.') || String((i as { keys?: string[] }).keys ?? ''), message: i.message }))
        return problem(res, 400, 'Invalid query', issues.map((i) => `${i.field}: ${i.message}`).join('; '), { errors: issues })
      }
      query = parsed.data
    }
    let body: unknown
    if (endpoint.body) {
      const raw = await readJson(req)
      if (!raw.ok) return problem(res, raw.status, raw.status === 413 ? 'Body too large' : 'Invalid JSON', raw.message)
      const parsed = endpoint.body.safeParse(raw.value)
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.') || String((i as { keys?: string[] }).keys ?? ''), message: i.message }))
        return problem(res, 400, 'Invalid body', issues.map((i) => `${i.field}: ${i.message}`).join('; '), { errors: issues })
      }
      body = parsed.data
    }
    const audit = (action: string, target: string, detail: Record<string, unknown> = {}) => {
      options.logger.info({ audit: { actor: principal.name, role: principal.role, action, target, ...detail } }, 'admin action')
      deps.onAudit?.({ time: Date.now(), actor: principal.name, role: principal.role, action, target, detail })
    }
    const result = await endpoint.handle({ principal, params: found.params as Record<string, string>, query: query as Record<string, unknown>, body, audit }, deps)
    if (result.status >= 400) {
      const body = result.body as { title?: string; detail?: string }
      return problem(res, result.status, body.title ?? 'Error', body.detail ?? '')
    }
    send(res, result.status, result.body)
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
