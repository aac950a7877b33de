import type { z } from 'zod'
import type { Clock } from '../core/clock.js'
import { createDenial, type Denial, type Rule } from '../core/denial.js'
import type { JsonObject } from '../core/json.js'
import type { Identity, RequestContext } from '../gateway/context.js'
import type { TenancyView } from '../tenancy/types.js'

/** A policy lets the request on (optionally adding identity or headers). */
export interface Allow {
  kind: 'allow'
  identity?: Identity
  responseHeaders?: Record<string, string>
  upstreamHeaders?: Record<string, string>
  /** Facts for the trace. */
  detail?: JsonObject
  /** `detect`: the layer would have denied but is in detect mode. */
  result?: 'allow' | 'detect' | 'skip'
  rule?: string
  /** The parsed JSON body (body policy), stored by the pipeline for later layers. */
  json?: unknown
  /** Request headers not to send upstream (lower-case names), e.g. credentials authn consumed. */
  dropUpstreamHeaders?: string[]
  /** Path sent upstream instead of `ctx.path` (transform's rewrite); query string kept. */
  upstreamPath?: string
  /** Edits to the upstream's response headers before they reach the client (lower-case names). */
  responseHeaderEdits?: { set?: Record<string, string>; remove?: string[] }
}

export interface Deny {
  kind: 'deny'
  denial: Denial
}

/** The gateway answers itself (CORS preflight only). */
export interface Respond {
  kind: 'respond'
  status: number
  headers: Record<string, string>
  detail?: JsonObject
}

export type Verdict = Allow | Deny | Respond
export type Evaluate = (ctx: RequestContext) => Verdict | Promise<Verdict>

/** The one allow value with nothing attached: shared so the hot path allocates nothing. */
const plainAllow: Allow = Object.freeze({ kind: 'allow' }) as Allow

export function allow(extra?: Omit<Allow, 'kind'>): Allow {
  return extra === undefined ? plainAllow : { kind: 'allow', ...extra }
}

export function deny(
  rule: Rule,
  facts: { message: string; remediation?: string; detail?: JsonObject; headers?: Record<string, string>; status?: number },
): Deny {
  return { kind: 'deny', denial: createDenial(rule, facts) }
}

export function respond(status: number, headers: Record<string, string>, detail?: JsonObject): Respond {
  return { kind: 'respond', status, headers, detail }
}

/** Things a policy may need from outside; tests pass fakes. */
export interface PolicyDeps {
  clock: Clock
  /** Consumers from config, for authn. */
  consumers: ConsumerRecord[]
  /** Route name the policy is compiled for. */
  routeName: string
  /** Shared state that must survive config reloads (JWKS caches, counters), keyed by the policy. */
  shared: Map<string, unknown>
  /** `redis:` from the root config, for layers whose state is shared across instances. */
  redisUrl?: string
  /** Environment for `env:NAME` secrets (process.env in production, a plain object in tests). */
  env: Record<string, string | undefined>
  /** Tenants, APIs and the live subscription registry (`tenants`, `apis`, `subscriptions` in the root config). */
  tenancy?: TenancyView
}

/** A consumer as the policies see it: keys already hashed. */
export interface ConsumerRecord {
  name: string
  tenant?: string
  /** sha256 digests of the consumer's keys. */
  keyHashes: Buffer[]
  scopes: string[]
  roles?: string[]
  attributes?: JsonObject
}

export interface PolicyDefinition<Schema extends z.ZodType = z.ZodType> {
  /** Layer name: folder, rule-id prefix, `Gatehouse-Decision` value. */
  name: string
  /** Key under `routes[].policies` in the config file. */
  configKey: string
  /** Position in the pipeline (ip 100, cors 200, body 300, waf 400, authn 500, ...). */
  order: number
  schema: Schema
  rules: Record<string, Rule>
  /** True when this policy must see the buffered body. */
  needsBody?(config: z.output<Schema>): boolean
  /** Most bytes of body the pipeline should buffer for this policy before reporting `too-large`. */
  bodyLimitBytes?(config: z.output<Schema>): number
  /**
   * Config-time warnings that need the whole route (e.g. a transform that strips a header a
   * later layer or the upstream needs). Paths are relative to the route's `policies.<configKey>`.
   */
  lint?(config: z.output<Schema>, route: { name: string; policies: Record<string, unknown> }): { path: (string | number)[]; message: string }[]
  /** Runs once per config load; returns the per-request evaluator. */
  compile(config: z.output<Schema>, deps: PolicyDeps): Evaluate
}

/** Declares a policy; only checks the shape at compile time. */
export function definePolicy<Schema extends z.ZodType>(definition: PolicyDefinition<Schema>): PolicyDefinition<Schema> {
  return definition
}
