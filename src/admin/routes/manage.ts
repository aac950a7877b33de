import { z } from 'zod'
import type { GatehouseConfig } from '../../config/schema.js'
import { applyAdminState, type AdminDeletions, type AdminState } from '../state.js'
import { defineEndpoint, type AdminDeps, type AdminEndpoint, type AdminResult } from '../types.js'
import { checkRunningConfig, policiesAsWritten, routeAsWritten, RouteBody, UpstreamBody, type FieldError } from '../validate.js'

export const me = defineEndpoint({
  method: 'GET',
  path: '/api/me',
  summary: "Who the token is: its role, its tenant (tenant-admin) and its name",
  action: 'read',
  async handle({ principal }) {
    return { status: 200, body: { role: principal.role, tenant: principal.tenant ?? null, name: principal.name } }
  },
})

function unavailable(): AdminResult {
  return { status: 503, body: { title: 'Admin changes unavailable', detail: 'This gateway was started without admin state.' } }
}

/** Removes `name` from a deletion list (it is being created again). */
export function undelete(deleted: AdminDeletions | undefined, section: keyof AdminDeletions, name: string): AdminDeletions {
  return { ...deleted, [section]: (deleted?.[section] ?? []).filter((n) => n !== name) }
}

/** Adds `name` to a deletion list once. */
export function markDeleted(deleted: AdminDeletions | undefined, section: keyof AdminDeletions, name: string): AdminDeletions {
  const names = deleted?.[section] ?? []
  return { ...deleted, [section]: names.includes(name) ? names : [...names, name] }
}

export type ChangeOutcome = { ok: true; config: GatehouseConfig } | { ok: false; result: AdminResult }

/**
 * Checks a change against the config it would produce (cross-references: conflicting matches,
 * unknown upstreams, APIs listing deleted routes; 409 when it clashes with what exists, else
 * 400), then hands it to the gateway, which compiles it before saving and swapping.
 */
export async function applyChange(deps: AdminDeps, title: string, mutate: (state: AdminState) => AdminState, mapField: (field: string, config: GatehouseConfig) => string = (f) => f): Promise<ChangeOutcome> {
  if (!deps.changeAdminState || !deps.adminState || !deps.fileConfig) return { ok: false, result: unavailable() }
  const candidate = applyAdminState(deps.fileConfig(), mutate(deps.adminState()))
  const errors = checkRunningConfig(candidate)
  if (errors.length > 0) {
    const mapped: FieldError[] = errors.map((e) => ({ field: mapField(e.field, candidate), message: e.message }))
    const conflict = errors.some((e) => /already|duplicate|unknown route|unknown upstream|unknown api|unknown consumer/.test(e.message))
    return { ok: false, result: { status: conflict ? 409 : 400, body: { title, detail: mapped.map((e) => `${e.field}: ${e.message}`).join('; '), errors: mapped } } }
  }
  const result = await deps.changeAdminState(mutate)
  if (!result.ok) return { ok: false, result: { status: 409, body: { title, detail: result.message } } }
  return { ok: true, config: candidate }
}

/** Field paths of the running config (`routes[3].upstream`) as fields of the route sent (`upstream`). */
function routeField(name: string) {
  return (field: string, config: GatehouseConfig) => {
    const index = config.routes.findIndex((r) => r.name === name)
    const prefix = `routes[${index}]`
    if (index >= 0 && field.startsWith(prefix)) return field.slice(prefix.length).replace(/^\./, '') || 'route'
    return field
  }
}

function showRoute(deps: AdminDeps, name: string) {
  const route = deps.runtime().routes.find((r) => r.name === name)
  return route ? { name: route.name, match: route.config.match, upstream: route.upstream.name, layers: route.layers.map((l) => l.name), policies: policiesAsWritten(route.config.policies), config: routeAsWritten(route.config) } : null
}

const upsertRoute = (route: GatehouseConfig['routes'][number]) => (state: AdminState): AdminState => ({
  ...state,
  routes: [...(state.routes ?? []).filter((r) => r.name !== route.name), route],
  deleted: undelete(state.deleted, 'routes', route.name),
})

export const createRoute = defineEndpoint({
  method: 'POST',
  path: '/api/routes',
  summary: 'Create a route (a route as in the config file, policies included); admin tokens only',
  action: 'write',
  adminOnly: true,
  body: RouteBody,
  async handle({ body, audit }, deps) {
    if (deps.runtime().routes.some((r) => r.name === body.name)) return { status: 409, body: { title: 'Route exists', detail: `A route named '${body.name}' already exists; change it with PUT /api/routes/${body.name}.` } }
    const change = await applyChange(deps, 'Cannot create route', upsertRoute(body), routeField(body.name))
    if (!change.ok) return change.result
    audit('route.create', body.name, { path: body.match.path, upstream: body.upstream })
    return { status: 201, body: { route: showRoute(deps, body.name) } }
  },
})

export const replaceRoute = defineEndpoint({
  method: 'PUT',
  path: '/api/routes/:name',
  summary: 'Replace a route, or create it under that name; admin tokens only',
  action: 'write',
  adminOnly: true,
  body: RouteBody,
  async handle({ params, body, audit }, deps) {
    if (body.name !== params.name) return { status: 400, body: { title: 'Invalid body', detail: `name: the body names '${body.name}' but the URL '${params.name}'; to rename, create the new route and delete the old one.`, errors: [{ field: 'name', message: `expected '${params.name}'` }] } }
    const existed = deps.runtime().routes.some((r) => r.name === body.name)
    const change = await applyChange(deps, 'Cannot change route', upsertRoute(body), routeField(body.name))
    if (!change.ok) return change.result
    audit(existed ? 'route.replace' : 'route.create', body.name, { path: body.match.path, upstream: body.upstream })
    return { status: existed ? 200 : 201, body: { route: showRoute(deps, body.name) } }
  },
})

export const deleteRoute = defineEndpoint({
  method: 'DELETE',
  path: '/api/routes/:name',
  summary: 'Delete a route (409 while an API lists it); admin tokens only',
  action: 'write',
  adminOnly: true,
  async handle({ params, audit }, deps) {
    if (!deps.runtime().routes.some((r) => r.name === params.name)) return { status: 404, body: { title: 'No such route', detail: `No route is named '${params.name}'.` } }
    const apis = deps.runtime().config.apis.filter((a) => a.routes.includes(params.name)).map((a) => a.name)
    if (apis.length > 0) return { status: 409, body: { title: 'Route in use', detail: `Route '${params.name}' belongs to API ${apis.map((a) => `'${a}'`).join(', ')}; remove it from the API first.`, errors: apis.map((a) => ({ field: `apis.${a}.routes`, message: `lists route '${params.name}'` })) } }
    const change = await applyChange(deps, 'Cannot delete route', (state) => ({
      ...state,
      routes: (state.routes ?? []).filter((r) => r.name !== params.name),
      deleted: markDeleted(state.deleted, 'routes', params.name),
    }))
    if (!change.ok) return change.result
    audit('route.delete', params.name)
    return { status: 200, body: { deleted: params.name } }
  },
})

function showUpstream(deps: AdminDeps, name: string) {
  const group = deps.runtime().upstreams.get(name)
  return group ? { name, ...group.config, health: group.health() } : null
}

const upsertUpstream = ({ name, ...config }: z.output<typeof UpstreamBody>) => (state: AdminState): AdminState => ({
  ...state,
  upstreams: { ...state.upstreams, [name]: config },
  deleted: undelete(state.deleted, 'upstreams', name),
})

export const createUpstream = defineEndpoint({
  method: 'POST',
  path: '/api/upstreams',
  summary: 'Create an upstream ({ name, ...upstream config }); admin tokens only',
  action: 'write',
  adminOnly: true,
  body: UpstreamBody,
  async handle({ body, audit }, deps) {
    if (deps.runtime().upstreams.has(body.name)) return { status: 409, body: { title: 'Upstream exists', detail: `An upstream named '${body.name}' already exists; change it with PUT /api/upstreams/${body.name}.` } }
    const change = await applyChange(deps, 'Cannot create upstream', upsertUpstream(body))
    if (!change.ok) return change.result
    audit('upstream.create', body.name, { targets: body.targets.length })
    return { status: 201, body: { upstream: showUpstream(deps, body.name) } }
  },
})

export const replaceUpstream = defineEndpoint({
  method: 'PUT',
  path: '/api/upstreams/:name',
  summary: 'Replace an upstream, or create it under that name; admin tokens only',
  action: 'write',
  adminOnly: true,
  body: UpstreamBody.extend({ name: UpstreamBody.shape.name.optional() }),
  async handle({ params, body, audit }, deps) {
    if (body.name !== undefined && body.name !== params.name) return { status: 400, body: { title: 'Invalid body', detail: `name: the body names '${body.name}' but the URL '${params.name}'.`, errors: [{ field: 'name', message: `expected '${params.name}'` }] } }
    const existed = deps.runtime().upstreams.has(params.name)
    const change = await applyChange(deps, 'Cannot change upstream', upsertUpstream({ ...body, name: params.name }))
    if (!change.ok) return change.result
    audit(existed ? 'upstream.replace' : 'upstream.create', params.name, { targets: body.targets.length })
    return { status: existed ? 200 : 201, body: { upstream: showUpstream(deps, params.name) } }
  },
})

export const deleteUpstream = defineEndpoint({
  method: 'DELETE',
  path: '/api/upstreams/:name',
  summary: 'Delete an upstream (409 naming the routes that still use it); admin tokens only',
  action: 'write',
  adminOnly: true,
  async handle({ params, audit }, deps) {
    if (!deps.runtime().upstreams.has(params.name)) return { status: 404, body: { title: 'No such upstream', detail: `No upstream is named '${params.name}'.` } }
    const users = deps.runtime().routes.filter((r) => r.upstream.name === params.name).map((r) => r.name)
    if (users.length > 0) {
      return { status: 409, body: { title: 'Upstream in use', detail: `Upstream '${params.name}' is used by route ${users.map((r) => `'${r}'`).join(', ')}; point them elsewhere or delete them first.`, errors: users.map((r) => ({ field: `routes.${r}.upstream`, message: `uses upstream '${params.name}'` })) } }
    }
    const change = await applyChange(deps, 'Cannot delete upstream', (state) => {
      const upstreams = { ...state.upstreams }
      delete upstreams[params.name]
      return { ...state, upstreams, deleted: markDeleted(state.deleted, 'upstreams', params.name) }
    })
    if (!change.ok) return change.result
    audit('upstream.delete', params.name)
    return { status: 200, body: { deleted: params.name } }
  },
})

export const manageEndpoints: AdminEndpoint[] = [me, createRoute, replaceRoute, deleteRoute, createUpstream, replaceUpstream, deleteUpstream] as AdminEndpoint[]
