import type { z } from 'zod'
import type { Runtime } from '../gateway/compile.js'
import type { CallLogStore } from '../store/types.js'
import type { AdminPrincipal } from './auth.js'

/** What admin handlers may reach. */
export interface AdminDeps {
  runtime(): Runtime
  store: CallLogStore | undefined
  /** Prometheus exposition, when observability is wired. */
  metrics?(): Promise<{ contentType: string; body: string }>
}

export interface AdminRequest<Query = Record<string, unknown>> {
  principal: AdminPrincipal
  params: Record<string, string>
  query: Query
}

export interface AdminResult {
  status: number
  body: unknown
}

/** One admin endpoint: its route, who may call it, its query schema (validated), its handler. */
export interface AdminEndpoint<Q extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  summary: string
  action: 'read' | 'write'
  query?: Q
  handle(request: AdminRequest<z.output<Q>>, deps: AdminDeps): Promise<AdminResult>
}

export function defineEndpoint<Q extends z.ZodType>(endpoint: AdminEndpoint<Q>): AdminEndpoint<Q> {
  return endpoint
}
