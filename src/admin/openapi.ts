import { z } from 'zod'
import type { PortalEndpoint } from './portal/api.js'
import type { AdminEndpoint } from './types.js'

function parametersOf(path: string, query: z.ZodType | undefined): unknown[] {
  const parameters: unknown[] = [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
  if (query) {
    const schema = z.toJSONSchema(query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { description?: string }>; required?: string[] }
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, description: property.description, schema: property })
    }
  }
  return parameters
}

function requestBodyOf(endpoint: { body?: z.ZodType; textBody?: { types: readonly string[] } }): Record<string, unknown> {
  if (endpoint.textBody) return { requestBody: { required: true, content: Object.fromEntries(endpoint.textBody.types.map((t) => [t, { schema: { type: 'string' } }])) } }
  if (endpoint.body) return { requestBody: { content: { 'application/json': { schema: z.toJSONSchema(endpoint.body, { io: 'input', unrepresentable: 'any' }) } } } }
  return {}
}

/** OpenAPI 3.1 document of the admin API and the developer portal, built from their endpoint tables. */
export function buildOpenApi(endpoints: readonly AdminEndpoint[], portal: readonly PortalEndpoint[] = []): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const endpoint of endpoints) {
    const path = endpoint.path.replace(/:([A-Za-z]+)/g, '{$1}')
    paths[path] ??= {}
    paths[path][endpoint.method.toLowerCase()] = {
      summary: endpoint.summary,
      parameters: parametersOf(endpoint.path, endpoint.query),
      ...requestBodyOf(endpoint),
      security: endpoint.tokenInQuery ? [{ adminToken: [] }, { adminTokenQuery: [] }] : [{ adminToken: [] }],
      responses: {
        200: { description: 'OK', content: { [endpoint.tokenInQuery ? 'text/event-stream' : endpoint.path === '/api/config/export' ? 'application/yaml' : 'application/json']: {} } },
        400: { description: 'Invalid input; `errors` names each field', content: { 'application/problem+json': {} } },
        401: { description: 'Missing or unknown admin token', content: { 'application/problem+json': {} } },
        403: { description: 'The token\'s role may not do this', content: { 'application/problem+json': {} } },
      },
      'x-gatehouse-action': endpoint.action,
      ...(endpoint.adminOnly ? { 'x-gatehouse-roles': ['admin'] } : {}),
    }
  }
  for (const endpoint of portal) {
    const path = endpoint.path.replace(/:([A-Za-z]+)/g, '{$1}')
    paths[path] ??= {}
    paths[path][endpoint.method.toLowerCase()] = {
      summary: endpoint.summary,
      tags: ['developer portal'],
      parameters: parametersOf(endpoint.path, endpoint.query),
      ...requestBodyOf(endpoint),
      security: [{ consumerKey: [] }, { consumerBearer: [] }],
      responses: {
        200: { description: 'OK', content: { 'application/json': {} } },
        401: { description: 'Missing or unknown API key', content: { 'application/problem+json': {} } },
        404: { description: 'No such API offered to this consumer', content: { 'application/problem+json': {} } },
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse admin API',
      version: '0.1.0',
      description: 'Every /api/ call needs Authorization: Bearer <admin token>; /portal/api/ calls need the consumer\'s own API key. Errors are application/problem+json (RFC 9457).',
    },
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer' },
        adminTokenQuery: { type: 'apiKey', in: 'query', name: 'access_token', description: 'Only on GET /api/calls/stream (EventSource cannot send headers).' },
        consumerKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        consumerBearer: { type: 'http', scheme: 'bearer', description: "The consumer's API key as a bearer token." },
      },
    },
    paths,
  }
}
