/** A problem+json answer (RFC 9457) from the admin API or the portal API. */
export interface Problem {
  type?: string
  title: string
  status: number
  detail?: string
  errors?: { field?: string; message: string; line?: number; col?: number }[]
}

export class ApiError extends Error {
  readonly problem: Problem
  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title)
    this.problem = problem
  }
  get status(): number {
    return this.problem.status
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Sent as JSON unless `contentType` says otherwise (then as text). */
  body?: unknown
  contentType?: string
  /** Read the answer as text instead of JSON. */
  text?: boolean
  signal?: AbortSignal
}

/** Turns any non-2xx answer into an ApiError carrying the problem, whatever the body was. */
async function toProblem(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '')
  try {
    const parsed = JSON.parse(text) as Partial<Problem>
    if (parsed && typeof parsed === 'object' && typeof parsed.title === 'string') return { ...parsed, title: parsed.title, status: parsed.status ?? res.status }
  } catch {
    // Not JSON: fall through to a generic problem.
  }
  return { title: res.statusText || 'Request failed', status: res.status, detail: text.slice(0, 300) || undefined }
}

export async function request<T>(path: string, auth: Record<string, string>, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json, */*', ...auth }
  let body: string | undefined
  if (options.body !== undefined) {
    if (options.contentType && typeof options.body === 'string') {
      headers['content-type'] = options.contentType
      body = options.body
    } else {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.body)
    }
  }
  let res: Response
  try {
    res = await fetch(path, { method: options.method ?? 'GET', headers, body, signal: options.signal, cache: 'no-store' })
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error
    throw new ApiError({ title: 'Gateway unreachable', status: 0, detail: 'The admin listener did not answer; is the gateway running?' })
  }
  if (!res.ok) throw new ApiError(await toProblem(res))
  if (options.text) return (await res.text()) as T
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

/** Query string from an object, leaving out empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '' || value === false) continue
    search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}

// ---- Shapes of the admin API (see src/admin/routes/*.ts) ----

export type Role = 'admin' | 'tenant-admin' | 'viewer'

export interface Me {
  role: Role
  tenant: string | null
  name: string
}

export interface TrailEntry {
  layer: string
  result: 'allow' | 'deny' | 'respond' | 'skip' | 'detect'
  rule?: string
  ms: number
  detail?: Record<string, unknown>
}

export interface CallSummary {
  time: number
  requestId: string
  traceId?: string
  route: string | null
  consumer: string | null
  tenant: string | null
  method: string
  path: string
  status: number
  decision: string
  layer: string
  rule: string | null
  upstreamStatus?: number | null
  upstreamMs?: number | null
  totalMs: number
  clientIp?: string
  upstreamTarget?: string | null
}

export interface CallRecord extends CallSummary {
  requestBytes: number
  responseBytes: number
  trail: TrailEntry[]
  denial: Record<string, unknown> | null
}

export interface TrailRow {
  layer: string
  verdict: string
  rule?: string
  ms?: number
  note?: string
}

export interface CallDetail {
  call: CallRecord
  explanation: { rows: TrailRow[]; rule?: string; reason?: string; fix?: string; see?: string }
}

export interface DenialBucket {
  start: string
  total: number
  denied: number
  status: { 401: number; 403: number; 429: number }
  rate: number
}

export interface DenialGroup {
  key: string | null
  total: number
  denied: number
  rate: number
  previous: { total: number; denied: number; rate: number }
  change: number | null
  /** Denials per bucket, aligned with the report's buckets. */
  buckets: number[]
}

export interface DenialReport {
  since: string
  until: string
  bucketMs: number
  by: string
  buckets: DenialBucket[]
  groups: DenialGroup[]
  top: { layer: string; rule: string | null; count: number }[]
}

export interface DenialAlert {
  id: string
  route: string | null
  layer: string
  rule: string | null
  tenant: string | null
  window: number
  count: number
  total: number
  rate: number
  baseline: number
  threshold: number
  since: string
  detectedAt: string
  requestIds: string[]
  deliveries: { url?: string; ok?: boolean; status?: number | null; attempts?: number; error?: string }[]
}

export interface Subscription {
  id: string
  consumer: string
  api: string
  state: 'pending' | 'approved' | 'rejected' | 'revoked'
  updatedAt: number
  reason?: string
}

export interface Tenant {
  name: string
  apis: string[]
  admins?: string[]
  [key: string]: unknown
}

export interface Consumer {
  name: string
  tenant: string | null
  scopes: string[]
  roles: string[]
  keys: { fingerprint: string }[]
}

export interface RouteView {
  name: string
  match: { methods?: string[]; path?: string; host?: string; [key: string]: unknown }
  upstream: string
  layers: string[]
  policies: Record<string, unknown>
  [key: string]: unknown
}

export interface TargetHealth {
  origin: string
  healthy: boolean
  down: boolean
  ejected: boolean
  active: number
}

export interface UpstreamView {
  name: string
  balance?: string
  targets: TargetHealth[]
}

export interface ImportResult {
  applied?: Record<string, unknown>
  wouldApply?: Record<string, unknown>
  /** Total created + changed + deleted entries. */
  changes?: number
  /** Top-level keys of the file that an import does not change (listen, admin, ...). */
  ignored?: string[]
  warnings?: { line?: number; col?: number; field?: string; message: string }[]
}

// ---- Portal shapes ----

export interface PortalMe {
  consumer: string
  tenant: string | null
  scopes: string[]
  keys: { fingerprint: string }[]
}

export interface PortalApi {
  name: string
  tenant: string
  description: string | null
  subscription: 'required' | 'open'
  state: 'none' | 'pending' | 'approved' | 'rejected' | 'revoked'
  routes: { name: string; methods: string[]; path: string }[]
}

export interface PortalCall {
  requestId: string
  time: number
  method: string
  path: string
  status: number
  layer: string | null
  rule: string | null
  title: string | null
  detail: string | null
  remedy: string | null
}
