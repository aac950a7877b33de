import { z } from 'zod'
import { createConfigSchema } from '../config/schema.js'
import { policies } from '../policies/index.js'

interface JsonSchema {
  type?: string | string[]
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  required?: string[]
  minimum?: number
  maximum?: number
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(', ')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  const variants = schema.anyOf ?? schema.oneOf
  if (variants) return [...new Set(variants.map(typeOf))].join(' or ')
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'values'}`
  if (schema.type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') return 'map'
  return Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'value')
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/** Flattens a JSON schema into `path | type | default | description` rows. */
function rows(schema: JsonSchema, path: string, out: string[]): void {
  if (path) {
    const def = schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``
    out.push(`| \`${path}\` | ${cell(typeOf(schema))} | ${def} | ${cell(schema.description ?? '')} |`)
  }
  // An object form among alternatives (a target as a URL or as { url, weight }): list its fields.
  const variants = schema.anyOf ?? schema.oneOf ?? []
  const objects = [schema, ...variants].filter((v) => v.type === 'object' && v.properties)
  for (const object of objects) {
    for (const [key, value] of Object.entries(object.properties!)) rows(value, path ? `${path}.${key}` : key, out)
  }
  if (schema.type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') rows(schema.additionalProperties, `${path}.<name>`, out)
  if (schema.type === 'array' && schema.items && (schema.items.properties || schema.items.anyOf)) rows(schema.items, `${path}[]`, out)
}

/** docs/config.md: every config key with its type, default and description, from the schemas. */
export function renderConfigDoc(): string {
  const json = z.toJSONSchema(createConfigSchema(policies), { io: 'input', unrepresentable: 'any' }) as JsonSchema
  const out: string[] = []
  rows(json, '', out)
  return [
    '# Gatehouse configuration reference',
    '',
    'Generated from the config schemas (`npm run docs`); a test fails when it is stale. Route',
    'policies live under `routes[].policies.<key>` and always run in pipeline order, whatever',
    'order they are written in. `gatehouse check` validates a file against exactly this.',
    '',
    '| Key | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...out,
    '',
  ].join('\n')
}
