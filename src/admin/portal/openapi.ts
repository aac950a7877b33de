import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { GatehouseConfig } from '../../config/schema.js'
import type { CompiledRoute } from '../../gateway/compile.js'
import type { Api } from '../../tenancy/types.js'

const allMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** `/orders/:id` → `/orders/{id}`; a trailing `/*` becomes a `{path}` parameter. */
function openApiPath(pattern: string): { path: string; params: string[] } {
  const params: string[] = []
  const path = pattern
    .replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
      params.push(name)
      return `{${name}}`
    })
    .replace(/\/\*$/, () => {
      params.push('path')
      return '/{path}'
    })
  return { path, params }
}

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } })

/**
 * An OpenAPI 3.1 document for an API generated from its routes: paths and methods, the
 * credentials its routes accept as security schemes, required scopes, and the gateway's
 * explained denials. Postman and Insomnia import it as is.
 */
export function generateApiDocument(api: Api, description: string | undefined, routes: readonly CompiledRoute[], config: Readonly<GatehouseConfig>): Record<string, unknown> {
  const schemes: Record<string, unknown> = {}
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const policies = route.config.policies as { auth?: { methods?: string[]; key?: { header?: string } }; scopes?: string[] }
    const methods = policies.auth?.methods ?? []
    const security: Record<string, string[]>[] = []
    const scopes = policies.scopes ?? []
    if (methods.includes('key')) {
      schemes.apiKey = { type: 'apiKey', in: 'header', name: policies.auth?.key?.header ?? 'x-api-key', description: 'Your consumer API key.' }
      security.push({ apiKey: [] })
    }
    if (methods.includes('jwt')) {
      schemes.bearer = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
      security.push({ bearer: scopes })
    }
    if (methods.includes('basic')) {
      schemes.basic = { type: 'http', scheme: 'basic' }
      security.push({ basic: [] })
    }
    const { path, params } = openApiPath(route.config.match.path)
    paths[path] ??= {}
    for (const method of route.config.match.methods ?? allMethods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue
      paths[path][method.toLowerCase()] = {
        operationId: `${route.name}-${method.toLowerCase()}`,
        summary: `${method} ${route.config.match.path} (route ${route.name})`,
        ...(params.length ? { parameters: params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })) } : {}),
        ...(security.length ? { security } : {}),
        ...(scopes.length ? { 'x-required-scopes': scopes } : {}),
        responses: {
          200: { description: 'Answered by the API' },
          401: problem('No valid credentials: the problem names the authn rule and what to send'),
          403: problem('Known caller, refused: the problem names the layer, the rule and the remedy'),
          429: problem('Rate limited: see Retry-After'),
        },
      }
    }
  }
  const [host, port] = [config.listen.slice(0, config.listen.lastIndexOf(':')), config.listen.slice(config.listen.lastIndexOf(':') + 1)]
  const scheme = config.tls ? 'https' : 'http'
  return {
    openapi: '3.1.0',
    info: { title: api.name, version: '1.0.0', ...(description ? { description } : {}), 'x-tenant': api.tenant },
    servers: [{ url: `${scheme}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${port}` }],
    paths,
    components: {
      securitySchemes: schemes,
      schemas: {
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem details, with the deciding layer and rule',
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, layer: { type: 'string' }, rule: { type: 'string' }, requestId: { type: 'string' }, remedy: { type: 'string' } },
        },
      },
    },
  }
}

/** Reads the document named by `apis[].openapi` (JSON or YAML), relative to the config file. */
export async function readApiDocument(file: string, configFile: string | undefined): Promise<{ ok: true; document: unknown } | { ok: false; message: string }> {
  const path = isAbsolute(file) ? file : resolve(configFile ? resolve(configFile, '..') : process.cwd(), file)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    return { ok: false, message: `cannot read the API's OpenAPI document (${(error as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  try {
    return { ok: true, document: /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text) }
  } catch (error) {
    return { ok: false, message: `the API's OpenAPI document is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0].replace(/:$/, '')}` }
  }
}
