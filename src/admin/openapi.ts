import { z } from 'zod'
import type { AdminEndpoint } from './types.js'

/** OpenAPI 3.1 document of the admin API, built from the endpoint table and its query schemas. */
export function buildOpenApi(endpoints: readonly AdminEndpoint[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const endpoint of endpoints) {
    const path = endpoint.path.replace(/:([A-Za-z]+)/g, '{$1}')
    const parameters: unknown[] = [...endpoint.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    if (endpoint.query) {
      const schema = z.toJSONSchema(endpoint.query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { description?: string }>; required?: string[] }
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, description: property.description, schema: property })
      }
    }
    paths[path] ??= {}
    paths[path][endpoint.method.toLowerCase()] = {
      summary: endpoint.summary,
      parameters,
      security: [{ adminToken: [] }],
      responses: {
        200: { description: 'OK', content: { 'application/json': {} } },
        401: { description: 'Missing or unknown admin token', content: { 'application/problem+json': {} } },
        403: { description: 'The token\'s role may not do this', content: { 'application/problem+json': {} } },
      },
      'x-gatehouse-action': endpoint.action,
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse admin API', version: '0.1.0', description: 'Every /api/ call needs Authorization: Bearer <admin token>. Errors are application/problem+json (RFC 9457).' },
    components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    paths,
  }
}
