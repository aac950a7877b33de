import { keyFingerprint } from '../../core/keys.js'
import { policiesAsWritten, routeAsWritten } from '../validate.js'
import { defineEndpoint, type AdminEndpoint } from '../types.js'

export const listRoutes = defineEndpoint({
  method: 'GET',
  path: '/api/routes',
  summary: 'Routes with their match, upstream and the policies in pipeline order',
  action: 'read',
  async handle(_request, deps) {
    const routes = deps.runtime().routes.map((route) => ({
      name: route.name,
      match: route.config.match,
      upstream: route.upstream.name,
      layers: route.layers.map((l) => l.name),
      // As written in a config file, so a console can send a route back with PUT /api/routes/{name}.
      policies: policiesAsWritten(route.config.policies),
      // The whole route as written in a config file: edit it and send it to PUT /api/routes/{name}.
      config: routeAsWritten(route.config),
    }))
    return { status: 200, body: { routes } }
  },
})

export const listUpstreams = defineEndpoint({
  method: 'GET',
  path: '/api/upstreams',
  summary: 'Upstreams with the live health of each target',
  action: 'read',
  async handle(_request, deps) {
    const upstreams = [...deps.runtime().upstreams.values()].map((group) => ({
      name: group.name,
      balance: group.config.balance,
      targets: group.health(),
      // The upstream as written in a config file, with its name: edit it and send it to PUT /api/upstreams/{name}.
      config: { name: group.name, ...group.config },
    }))
    return { status: 200, body: { upstreams } }
  },
})

export const listConsumers = defineEndpoint({
  method: 'GET',
  path: '/api/consumers',
  summary: 'Consumers with their grants; keys appear only as fingerprints',
  action: 'read',
  async handle({ principal }, deps) {
    const consumers = deps.runtime().consumers
      .filter((c) => principal.role !== 'tenant-admin' || c.tenant === principal.tenant)
      .map((c) => ({
        name: c.name,
        tenant: c.tenant ?? null,
        scopes: c.scopes,
        roles: c.roles ?? [],
        // Never the key, nor its full digest: the first 8 hex chars identify it in logs.
        keys: c.keyHashes.map((hash) => ({ fingerprint: keyFingerprint(hash) })),
      }))
    return { status: 200, body: { consumers } }
  },
})

export const configEndpoints: AdminEndpoint[] = [listRoutes, listUpstreams, listConsumers] as AdminEndpoint[]
