import { z } from 'zod'
import type { PolicyDefinition } from '../policies/define.js'
import { ObservabilityConfig, defaultObservabilityConfig } from '../observability/index.js'
import { ApiConfig, SubscriptionConfig, TenantConfig } from '../tenancy/schema.js'
import { providerTypes } from '../ai/types.js'

const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected 'host:port', e.g. '127.0.0.1:8080' or '[::1]:8080'")
  .describe("Address the server listens on, as 'host:port'. Port 0 picks a free port.")

const upstreamTarget = z.union([
  z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  z
    .object({
      url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).describe('Base URL of the target.'),
      weight: z.number().int().min(1).max(1000).default(1).describe('Relative share of requests for `balance: weighted`. Default 1.'),
    })
    .strict(),
])

const healthCheck = z
  .object({
    path: z.string().startsWith('/').default('/health').describe('Path probed with GET on every target. Default /health.'),
    intervalMs: z.number().int().min(100).default(5000).describe('Milliseconds between active probes. Default 5000.'),
    timeoutMs: z.number().int().min(10).default(2000).describe('Milliseconds before a probe counts as failed. Default 2000.'),
    healthyThreshold: z.number().int().min(1).default(2).describe('Consecutive successful probes that bring a target back. Default 2.'),
    unhealthyThreshold: z.number().int().min(1).default(2).describe('Consecutive failed probes that take a target out. Default 2.'),
    expectStatus: z.array(z.number().int().min(100).max(599)).optional().describe('Statuses that count as healthy. Default: any 2xx or 3xx.'),
  })
  .strict()

export const UpstreamConfig = z
  .object({
    targets: z.array(upstreamTarget).min(1, 'an upstream needs at least one target').describe('Servers that receive the traffic.'),
    balance: z
      .enum(['round-robin', 'weighted', 'least-connections'])
      .default('round-robin')
      .describe('How a target is picked: round-robin, weighted (smooth, by target weight) or least-connections. Default round-robin.'),
    connectTimeoutMs: z.number().int().min(1).default(5000).describe('Milliseconds to open a connection before answering 504. Default 5000.'),
    readTimeoutMs: z.number().int().min(1).default(30000).describe('Milliseconds to wait for response headers, and between body chunks, before answering 504. Default 30000.'),
    retries: z.number().int().min(0).max(5).default(1).describe('Extra attempts on another target when a connection fails, for idempotent methods only (GET, HEAD, OPTIONS, PUT, DELETE). Default 1.'),
    connections: z.number().int().min(1).default(128).describe('Maximum keep-alive connections per target. Default 128.'),
    healthCheck: healthCheck.optional().describe('Active health check. Off when absent.'),
    passive: z
      .object({
        failures: z.number().int().min(1).default(3).describe('Consecutive connection failures or 5xx answers that eject a target. Default 3.'),
        ejectMs: z.number().int().min(100).default(10000).describe('Milliseconds an ejected target is skipped before it is tried again. Default 10000.'),
      })
      .strict()
      .default({ failures: 3, ejectMs: 10000 })
      .describe('Passive health: targets that keep failing real traffic are ejected for a while.'),
  })
  .strict()

export const ConsumerConfig = z
  .object({
    name: z.string().min(1).describe('Unique consumer name; shown in the call log.'),
    tenant: z.string().min(1).optional().describe('Tenant the consumer belongs to.'),
    keys: z
      .array(z.string())
      .default([])
      .describe("API keys, as 'sha256:<64 hex digits>' (the key's SHA-256) or 'env:NAME' (the plain key in an environment variable). Plain keys are never written in the file."),
    scopes: z.array(z.string().min(1)).default([]).describe('Scopes granted to the consumer.'),
    roles: z.array(z.string().min(1)).default([]).describe('Roles granted to the consumer.'),
    attributes: z
      .record(z.string().min(1).max(64), z.union([z.string().max(256), z.number(), z.boolean(), z.array(z.string().max(256)).max(64)]))
      .default({})
      .describe("Facts about the consumer that authz rules read as identity.attributes, e.g. { region: eu, plan: gold }: strings, numbers, booleans or lists of strings. Never put secrets here. Default none."),
  })
  .strict()

/** Header names that carry credentials: a provider's key goes in `key: env:NAME`, never in `headers`. */
const credentialHeaders = new Set(['authorization', 'api-key', 'x-api-key', 'x-goog-api-key', 'proxy-authorization'])

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })

/** `providers.<name>`: one model provider the gateway calls with its own key. */
export const ProviderConfig = z
  .object({
    type: z
      .enum(providerTypes)
      .describe('Wire protocol the provider speaks: openai, azure (Azure OpenAI), anthropic (Messages API), gemini (Google Gemini), mistral, or openai-compatible (vLLM, Ollama, LM Studio and other servers with an OpenAI-style API).'),
    url: httpUrl.describe("Base URL of the provider, e.g. 'https://api.openai.com', 'https://api.anthropic.com' or 'http://127.0.0.1:11434' for a local server."),
    key: z
      .string()
      .regex(/^env:[A-Za-z_][A-Za-z0-9_]{0,127}$/, "a provider key is written 'env:NAME' (the key in an environment variable); a plain key never goes in the file")
      .optional()
      .describe("The provider's API key as 'env:NAME': read from that environment variable when the config loads. Sent only to the provider, never to clients, logs or the call log. Absent for keyless local servers."),
    apiVersion: z.string().min(1).max(64).optional().describe("azure only: the 'api-version' query value, e.g. '2024-10-21'."),
    deployments: z
      .record(z.string().min(1), z.string().min(1).describe('The Azure deployment that serves this model.'))
      .optional()
      .describe('azure only: model name to deployment name. A model not listed is sent to the deployment of the same name.'),
    headers: z
      .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'header names are RFC 9110 tokens'), z.string().max(1024).describe('Header value.'))
      .optional()
      .describe("Extra headers sent to the provider, e.g. { anthropic-version: '2023-06-01' } or { OpenAI-Organization: org-1 }. Credentials do not belong here: use `key`."),
    timeoutMs: z.number().int().min(100).max(600_000).default(120_000).describe('Milliseconds to wait for the provider to start answering, and between chunks of a stream, before the call fails (and the next target of an alias is tried). Default 120000.'),
    prices: z
      .record(
        z.string().min(1),
        z
          .object({
            input: z.number().min(0).describe('USD per 1 million prompt (input) tokens.'),
            output: z.number().min(0).default(0).describe('USD per 1 million completion (output) tokens. Default 0 (embeddings).'),
          })
          .strict()
          .describe('Price of one model in USD per 1 million tokens.'),
      )
      .default({})
      .describe("Price table: the provider's model name to { input, output } in USD per 1 million tokens. A call's cost is computed from it and stored in the call log; a model without a price costs nothing (cost budgets then do not count it). Default none."),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const name of Object.keys(value.headers ?? {})) {
      if (credentialHeaders.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['headers', name], message: `'${name}' carries a credential: put the provider's key in 'key: env:NAME' instead, so it never sits in the file` })
    }
    if (value.deployments !== undefined && value.type !== 'azure') ctx.addIssue({ code: 'custom', path: ['deployments'], message: `deployments apply only to type 'azure' (type is '${value.type}')` })
  })
  .describe('One model provider, called with the gateway\'s own key; see docs/ai.md.')

/** A model alias name or a `provider/model` reference (no spaces, bounded). */
const modelTarget = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}\/[^\s]{1,200}$/, "a target is '<provider>/<model>', e.g. 'openai/gpt-4o-mini'")

const routeMatch = z
  .object({
    methods: z
      .array(z.string().regex(/^[A-Z]+$/, 'methods are upper-case tokens such as GET or POST'))
      .optional()
      .describe('HTTP methods the route answers. All methods when absent.'),
    path: z
      .string()
      .startsWith('/', 'a path starts with /')
      .describe("Path pattern: '/orders' exact, '/orders/:id' with a parameter, '/api/*' as a prefix."),
    host: z.string().min(1).optional().describe('Host header the route answers (without port). Any host when absent.'),
  })
  .strict()

/** Root schema, with `routes[].policies` built from the registered policies. */
export function createConfigSchema(policies: readonly PolicyDefinition[]) {
  const policyShape: Record<string, z.ZodType> = {}
  for (const policy of policies) policyShape[policy.configKey] = policy.schema.optional()
  const policiesSchema = z.object(policyShape).strict().default({}).describe('Policies that guard the route, run in pipeline order whatever order they are written in.')

  const route = z
    .object({
      name: z.string().regex(/^[a-zA-Z0-9._-]+$/, 'route names use letters, digits, dot, dash and underscore').describe('Unique route name; shown in denials and the call log.'),
      match: routeMatch,
      kind: z
        .enum(['proxy', 'ai'])
        .default('proxy')
        .describe('proxy: forward to `upstream`. ai: answer the OpenAI-compatible API (/v1/chat/completions, /v1/embeddings, /v1/models under the route path) by calling the models of `models:` at the `providers:`. Default proxy.'),
      upstream: z.string().min(1).optional().describe('Name of an entry under `upstreams`. Required for proxy routes; ai routes have none.'),
      models: z
        .record(
          z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'an alias uses letters, digits, dot, dash, colon and underscore (no slash: that is for provider/model)'),
          z.array(modelTarget).min(1, 'an alias needs at least one provider/model target').max(16).describe("Targets of the alias, '<provider>/<model>', in fallback order."),
        )
        .optional()
        .describe("ai routes: model aliases a client may name, each a list of '<provider>/<model>' targets tried in order: the next is tried when one answers 429 or 5xx or cannot be reached. Clients may also name '<provider>/<model>' directly. Default none."),
      stripPrefix: z.string().startsWith('/').optional().describe('Path prefix removed before the request goes upstream.'),
      policies: policiesSchema,
    })
    .strict()
    .superRefine((value, ctx) => {
      if (value.kind === 'proxy' && value.upstream === undefined) ctx.addIssue({ code: 'custom', path: ['upstream'], message: "a proxy route needs 'upstream': the name of an entry under `upstreams` (or set kind: ai)" })
      if (value.kind === 'proxy' && value.models !== undefined) ctx.addIssue({ code: 'custom', path: ['models'], message: "models apply only to routes with kind: ai" })
    })

  return z
    .object({
      listen: listenAddress.default('127.0.0.1:8080'),
      admin: z
        .object({
          listen: listenAddress.default('127.0.0.1:8081'),
          tokens: z
            .array(
              z.union([
                z.string().min(16, 'admin tokens must be at least 16 characters'),
                z
                  .object({
                    token: z.string().min(16, 'admin tokens must be at least 16 characters').describe('The bearer token (use ${ENV} to keep it out of the file).'),
                    role: z.enum(['admin', 'tenant-admin', 'viewer']).describe('admin: everything; tenant-admin: its tenant only; viewer: read-only.'),
                    tenant: z.string().min(1).optional().describe('The tenant a tenant-admin token manages.'),
                    name: z.string().min(1).optional().describe('Who holds the token, for the audit log.'),
                  })
                  .strict(),
              ]),
            )
            .default([])
            .describe("Bearer tokens accepted by the admin API: a plain string is an 'admin' token; an object gives a role (admin, tenant-admin with its tenant, viewer)."),
        })
        .strict()
        .optional()
        .describe('Admin API and console. Off when absent.'),
      observability: ObservabilityConfig.default(defaultObservabilityConfig),
      limits: z
        .object({
          headersTimeoutMs: z.number().int().min(100).default(10_000).describe('Milliseconds a client may take to send the request headers before it gets 408 and the connection closes. Default 10000.'),
          requestTimeoutMs: z.number().int().min(100).default(60_000).describe('Milliseconds a client may take to send the whole request, body included. Default 60000.'),
          keepAliveTimeoutMs: z.number().int().min(100).default(5_000).describe('Milliseconds an idle keep-alive connection stays open. Default 5000.'),
        })
        .strict()
        .default({ headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000 })
        .describe('Limits on slow clients: slow headers and slow bodies are cut off instead of holding sockets.'),
      tls: z
        .object({
          cert: z.string().min(1).describe('PEM certificate chain file, relative to the config file.'),
          key: z.string().min(1).describe('PEM private key file, relative to the config file.'),
          ca: z.string().min(1).optional().describe('PEM CA bundle that client certificates must chain to (mTLS).'),
          requestCert: z
            .boolean()
            .default(false)
            .describe('Ask clients for a certificate (mTLS). The handshake never fails on a bad certificate: the authn `mtls` method refuses it with an explained 401 instead. Default false.'),
        })
        .strict()
        .optional()
        .describe('Serve HTTPS on `listen` instead of plain HTTP. Off when absent.'),
      store: z
        .string()
        .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+|off)$/, "expected 'sqlite:<path>', 'postgres://...' or 'off'")
        .default('sqlite:./data/gatehouse.db')
        .describe("Where the call log lives: 'sqlite:<path>' (relative to the config file), 'postgres://...', or 'off'. Default sqlite:./data/gatehouse.db."),
      redis: z.string().regex(/^rediss?:\/\/.+/, "expected 'redis://host:port'").optional().describe('Redis for shared rate limits across instances. Optional.'),
      explain: z
        .enum(['public', 'consumer', 'full'])
        .default('public')
        .describe('How much a denied caller is told: public (layer, rule, request id, generic remedy), consumer (details for the authenticated consumer), full (everything; development only).'),
      trustedProxies: z
        .array(z.string())
        .default([])
        .describe('IPs or CIDRs of proxies in front of the gateway whose X-Forwarded-For is believed. Default none.'),
      upstreams: z.record(z.string(), UpstreamConfig).default({}).describe('Named groups of upstream servers.'),
      providers: z
        .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'provider names use letters, digits, dot, dash and underscore'), ProviderConfig)
        .default({})
        .describe('AI model providers that routes of kind ai call, by name (used as the <provider> of <provider>/<model>). Default none.'),
      consumers: z.array(ConsumerConfig).default([]).describe('Who may call, with their keys and grants.'),
      tenants: z.array(TenantConfig).default([]).describe('Tenants: organisations that own APIs and consumers. Once any is declared, every tenant named elsewhere must be declared here. Default none.'),
      apis: z.array(ApiConfig).default([]).describe('APIs: groups of routes owned by a tenant, which consumers subscribe to. Default none.'),
      subscriptions: z.array(SubscriptionConfig).default([]).describe('Which consumer may use which API, and the state of that subscription. Checked on routes with a subscription policy. Default none.'),
      routes: z.array(route).default([]).describe('Routes, matched by method, host and path.'),
      alerts: z
        .object({
          webhooks: z
            .array(z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }))
            .max(20)
            .default([])
            .describe('URLs that receive each denial-spike alert as a JSON POST, retried with backoff. Default none (alerts are only kept for GET /api/analytics/alerts).'),
          windowSeconds: z.number().int().min(10).max(86_400).default(300).describe('Seconds of traffic in the window checked for a spike, and in each baseline window. Default 300.'),
          baselineWindows: z.number().int().min(3).max(288).default(12).describe('How many windows before the current one make the baseline. Default 12.'),
          checkIntervalSeconds: z.number().int().min(1).max(3600).default(60).describe('Seconds between spike checks. Default 60.'),
          minDenials: z.number().int().min(1).default(20).describe('Fewest 401/403/429 answers in the window before a spike can be reported. Default 20.'),
          sensitivity: z.number().min(0.5).max(20).default(3).describe('How many (scaled) median absolute deviations above the baseline median the denial rate must be to count as a spike; lower reports more. Default 3.'),
        })
        .strict()
        .optional()
        .describe('Denial-spike alerts: the gateway compares each route and layer\'s 401/403/429 rate in the last window with the windows before it and POSTs an alert to the webhooks when a spike starts. Needs a call log. Off when absent.'),
    })
    .strict()
}

export type GatehouseConfigSchema = ReturnType<typeof createConfigSchema>
export type GatehouseConfig = z.output<GatehouseConfigSchema>
export type RouteConfig = GatehouseConfig['routes'][number]
export type UpstreamConfigValue = z.output<typeof UpstreamConfig>
export type ConsumerConfigValue = z.output<typeof ConsumerConfig>
export type ProviderConfigValue = z.output<typeof ProviderConfig>
