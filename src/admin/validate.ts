import { z } from 'zod'
import { checkConfigReferences } from '../config/references.js'
import { createConfigSchema, UpstreamConfig, type GatehouseConfig } from '../config/schema.js'
import { policies } from '../policies/index.js'

/** The config file's own schemas, so the admin API accepts exactly what the file accepts. */
const configSchema = createConfigSchema(policies)

/** One route as written under `routes:`, with every registered policy's schema. */
export const RouteBody = (configSchema.shape.routes as unknown as z.ZodDefault<z.ZodArray<z.ZodType>>).unwrap().element as z.ZodType<GatehouseConfig['routes'][number]>

/** `{ name, ...upstream config }`: an upstream as written under `upstreams.<name>`. */
export const UpstreamBody = UpstreamConfig.extend({
  name: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash and underscore').describe('Upstream name; routes refer to it.'),
})

/** A field to fix and what is wrong with it. */
export interface FieldError {
  field: string
  message: string
}

/**
 * Checks the config the gateway would run after a change, with the file's cross-reference
 * checks (unknown upstreams, duplicate matches, API route lists, subscription names). Only
 * errors count; the gateway loads with warnings.
 */
export function checkRunningConfig(config: Readonly<GatehouseConfig>): FieldError[] {
  // `env:NAME` references are resolved by the gateway's compile step with the gateway's own
  // environment; here each name stands for a distinct value, so only cross-references count.
  const anyEnv = new Proxy({}, { get: (_target, name) => `env-value-of-${String(name)}-${'x'.repeat(48)}` }) as Record<string, string>
  return checkConfigReferences(config, anyEnv)
    .filter((finding) => finding.severity === 'error')
    .map((finding) => ({ field: formatField(finding.path), message: finding.message }))
}

export function formatField(path: readonly (string | number | symbol)[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/**
 * A route's policies as written in a config file. Validation turns a few inputs into other
 * shapes (rateLimit's `window` into `windowSeconds`); shown routes and exports give them back
 * in the written form, so what the API shows can be sent back or imported as is.
 */
export function policiesAsWritten(policies: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...policies }
  const rateLimit = out.rateLimit as { windowSeconds?: number } | undefined
  if (rateLimit && typeof rateLimit === 'object' && typeof rateLimit.windowSeconds === 'number') {
    const { windowSeconds, ...rest } = rateLimit
    out.rateLimit = { ...rest, window: windowSeconds }
  }
  return out
}

/** A route config as written in a config file (see policiesAsWritten). */
export function routeAsWritten<T extends { policies: unknown }>(route: T): T {
  return { ...route, policies: policiesAsWritten(route.policies as Record<string, unknown>) }
}
