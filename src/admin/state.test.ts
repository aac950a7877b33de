import { describe, expect, it } from 'vitest'
import { loadConfigText } from '../config/load.js'
import { applyAdminState, emptyAdminState, type AdminState } from './state.js'

const hex = (c: string) => c.repeat(64)
const loaded = loadConfigText(`
tenants: [ { name: acme } ]
apis: [ { name: orders-api, tenant: acme, routes: [ orders ] } ]
upstreams: { a: { targets: [ "http://127.0.0.1:1" ] }, b: { targets: [ "http://127.0.0.1:2" ] } }
consumers: [ { name: file-app, tenant: acme, keys: [ "sha256:${hex('a')}" ], scopes: [ s1 ] } ]
routes:
  - { name: orders, match: { path: /orders }, upstream: a }
  - { name: old, match: { path: /old }, upstream: b }
`, 'test.yaml')
if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
const file = loaded.config

describe('applyAdminState', () => {
  it('returns the file config itself when nothing was changed', () => {
    expect(applyAdminState(file, emptyAdminState)).toBe(file)
  })

  it('replaces routes and upstreams by name in place, appends new ones and drops deleted ones', () => {
    const state: AdminState = {
      ...emptyAdminState,
      routes: [{ ...file.routes[0], upstream: 'c' }, { ...file.routes[1], name: 'new', match: { path: '/new' }, upstream: 'c' }],
      upstreams: { c: { ...file.upstreams.a, targets: ['http://127.0.0.1:3'] } },
      deleted: { routes: ['old'], upstreams: ['b'] },
    }
    const out = applyAdminState(file, state)
    expect(out.routes.map((r) => `${r.name}->${r.upstream}`)).toEqual(['orders->c', 'new->c'])
    expect(Object.keys(out.upstreams)).toEqual(['a', 'c'])
    expect(file.routes.map((r) => r.name)).toEqual(['orders', 'old'])
  })

  it('lets an imported consumer replace the file one, keeps live admin keys once and never a revoked one', () => {
    const state: AdminState = {
      consumers: [{ name: 'file-app', tenant: 'acme', scopes: ['s2'], roles: [], createdAt: 1, keys: [`sha256:${hex('a')}`, `sha256:${hex('b')}`], attributes: { plan: 'gold' } }],
      keys: [
        { consumer: 'file-app', sha256: hex('b'), fingerprint: 'bbbbbbbb', createdAt: 1 },
        { consumer: 'file-app', sha256: hex('c'), fingerprint: 'cccccccc', createdAt: 1 },
        { consumer: 'file-app', sha256: hex('a'), fingerprint: 'aaaaaaaa', createdAt: 1, revokedAt: 2 },
      ],
      subscriptions: [],
    }
    const [consumer] = applyAdminState(file, state).consumers
    expect(consumer).toEqual({ name: 'file-app', tenant: 'acme', keys: [`sha256:${hex('b')}`, `sha256:${hex('c')}`], scopes: ['s2'], roles: [], attributes: { plan: 'gold' } })
  })

  it('hides deleted consumers, tenants and APIs', () => {
    const out = applyAdminState(file, { ...emptyAdminState, deleted: { consumers: ['file-app'], apis: ['orders-api'], tenants: ['acme'] } })
    expect(out.consumers).toEqual([])
    expect(out.apis).toEqual([])
    expect(out.tenants).toEqual([])
  })
})
