import { dirname } from 'node:path'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { z } from 'zod'
import { loadConfigText } from '../../config/load.js'
import type { GatehouseConfig } from '../../config/schema.js'
import type { AdminConsumer, AdminState, AdminSubscription } from '../state.js'
import { defineEndpoint, type AdminEndpoint } from '../types.js'
import { routeAsWritten } from '../validate.js'
import { applyChange, markDeleted, undelete } from './manage.js'

/** At least 16 characters, so an exported file still passes `gatehouse check`. */
export const redactedToken = '[redacted-admin-token]'
const redactedSecret = '[redacted]'
/** Policy fields marked `secret` in their schemas; `env:NAME` references are kept, literals are not. */
const secretKeys = new Set(['secret', 'password', 'previousSecrets'])

function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    if (secretKeys.has(key)) {
      const hide = (v: unknown) => (typeof v === 'string' && !v.startsWith('env:') ? redactedSecret : v)
      out[key] = Array.isArray(inner) ? inner.map(hide) : hide(inner)
    } else {
      out[key] = redactSecrets(inner)
    }
  }
  return out
}

/** A URL's password, if any, replaced (redis://:pw@host, postgres://user:pw@host). */
function redactUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@')
}

/**
 * The running config as a document `gatehouse check` accepts: admin tokens, URL passwords and
 * literal policy secrets replaced (an operator exports to review or copy config, never secrets).
 */
export function redactConfig(config: Readonly<GatehouseConfig>): Record<string, unknown> {
  const doc = redactSecrets({ ...config, routes: config.routes.map(routeAsWritten) }) as Record<string, unknown>
  if (config.admin) {
    doc.admin = { ...config.admin, tokens: config.admin.tokens.map((t) => (typeof t === 'string' ? redactedToken : { ...t, token: redactedToken })) }
  }
  if (config.redis) doc.redis = redactUrlPassword(config.redis)
  doc.store = redactUrlPassword(config.store)
  return doc
}

export const exportConfig = defineEndpoint({
  method: 'GET',
  path: '/api/config/export',
  summary: 'The running config (file plus admin changes) as YAML, admin tokens and secrets redacted; admin tokens only',
  action: 'read',
  adminOnly: true,
  async handle({ audit }, deps) {
    const text = `# Gatehouse running config (config file + admin changes), exported ${new Date().toISOString()}.\n# Admin tokens and literal secrets are redacted.\n${stringifyYaml(redactConfig(deps.runtime().config))}`
    audit('config.export', 'config')
    return { status: 200, body: text, contentType: 'application/yaml; charset=utf-8' }
  },
})

/** Sections an import applies; the others (listen, admin, store, ...) need a restart and are ignored. */
export const importedSections = ['upstreams', 'consumers', 'tenants', 'apis', 'subscriptions', 'routes'] as const
type Section = (typeof importedSections)[number]

export interface SectionCounts {
  created: number
  changed: number
  deleted: number
}

/** JSON with object keys sorted, so equal configs compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner
    return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}

/** Entries to create or change and names to delete, for one named section. */
function diff<T>(running: ReadonlyMap<string, T>, imported: ReadonlyMap<string, T>) {
  const upserts: T[] = []
  const counts: SectionCounts = { created: 0, changed: 0, deleted: 0 }
  for (const [name, entry] of imported) {
    const current = running.get(name)
    if (current === undefined) counts.created++
    else if (canonical(current) !== canonical(entry)) counts.changed++
    else continue
    upserts.push(entry)
  }
  const deletions = [...running.keys()].filter((name) => !imported.has(name))
  counts.deleted = deletions.length
  return { upserts, deletions, counts }
}

const byName = <T extends { name: string }>(list: readonly T[]) => new Map(list.map((entry) => [entry.name, entry]))

/**
 * What importing `imported` changes in the running config, as one admin-state change: each
 * section present in the document replaces the running one (entries created, changed or
 * deleted by name); subscriptions are created or changed by id, never deleted (revoke them).
 */
export function planImport(running: Readonly<GatehouseConfig>, imported: Readonly<GatehouseConfig>, present: ReadonlySet<Section>) {
  const counts: Partial<Record<Section, SectionCounts>> = {}
  const steps: ((state: AdminState) => AdminState)[] = []
  const now = Date.now()

  if (present.has('upstreams')) {
    const d = diff(new Map(Object.entries(running.upstreams)), new Map(Object.entries(imported.upstreams)))
    const names = Object.keys(imported.upstreams).filter((n) => d.upserts.includes(imported.upstreams[n]))
    counts.upstreams = d.counts
    steps.push((state) => {
      const upstreams = { ...state.upstreams }
      let deleted = state.deleted
      for (const name of names) {
        upstreams[name] = imported.upstreams[name]
        deleted = undelete(deleted, 'upstreams', name)
      }
      for (const name of d.deletions) {
        delete upstreams[name]
        deleted = markDeleted(deleted, 'upstreams', name)
      }
      return { ...state, upstreams, deleted }
    })
  }
  const named = <K extends 'routes' | 'tenants' | 'apis'>(section: K) => {
    if (!present.has(section)) return
    const d = diff(byName(running[section] as readonly { name: string }[]), byName(imported[section] as readonly { name: string }[]))
    counts[section] = d.counts
    steps.push((state) => {
      const changedNames = new Set(d.upserts.map((e) => e.name))
      const gone = new Set(d.deletions)
      let deleted = state.deleted
      for (const name of changedNames) deleted = undelete(deleted, section, name)
      for (const name of gone) deleted = markDeleted(deleted, section, name)
      const kept = ((state[section] ?? []) as { name: string }[]).filter((e) => !changedNames.has(e.name) && !gone.has(e.name))
      return { ...state, [section]: [...kept, ...d.upserts], deleted }
    })
  }
  named('routes')
  named('tenants')
  named('apis')

  if (present.has('consumers')) {
    const d = diff(byName(running.consumers), byName(imported.consumers))
    counts.consumers = d.counts
    steps.push((state) => {
      const changedNames = new Set(d.upserts.map((c) => c.name))
      const gone = new Set(d.deletions)
      let deleted = state.deleted
      for (const name of changedNames) deleted = undelete(deleted, 'consumers', name)
      for (const name of gone) deleted = markDeleted(deleted, 'consumers', name)
      const whole: AdminConsumer[] = d.upserts.map((c) => ({
        name: c.name,
        ...(c.tenant !== undefined ? { tenant: c.tenant } : {}),
        scopes: [...c.scopes],
        roles: [...c.roles],
        keys: [...c.keys],
        attributes: { ...c.attributes },
        createdAt: now,
      }))
      return { ...state, consumers: [...state.consumers.filter((c) => !changedNames.has(c.name) && !gone.has(c.name)), ...whole], deleted }
    })
  }
  if (present.has('subscriptions')) {
    const running_ = new Map(running.subscriptions.map((s) => [String(s.id), s]))
    const changes: AdminSubscription[] = []
    const c: SectionCounts = { created: 0, changed: 0, deleted: 0 }
    for (const s of imported.subscriptions) {
      const current = running_.get(String(s.id))
      if (current && current.consumer === s.consumer && current.api === s.api && current.state === s.state) continue
      if (current) c.changed++
      else c.created++
      changes.push({ id: s.id, consumer: s.consumer, api: s.api, state: s.state, updatedAt: now })
    }
    counts.subscriptions = c
    steps.push((state) => {
      const ids = new Set(changes.map((s) => String(s.id)))
      return { ...state, subscriptions: [...state.subscriptions.filter((s) => !ids.has(String(s.id))), ...changes] }
    })
  }
  const changes = Object.values(counts).reduce((sum, n) => sum + n.created + n.changed + n.deleted, 0)
  return { counts, changes, mutate: (state: AdminState) => steps.reduce((s, step) => step(s), state) }
}

export const importConfig = defineEndpoint({
  method: 'POST',
  path: '/api/config/import',
  summary: 'Import a YAML config (application/yaml): validated like gatehouse check, then its upstreams, consumers, tenants, apis, subscriptions and routes replace the running ones, persisted; ?dryRun=true only reports; admin tokens only',
  action: 'write',
  adminOnly: true,
  textBody: { types: ['application/yaml', 'text/yaml', 'application/x-yaml', 'text/x-yaml'], maxBytes: 1024 * 1024 },
  query: z.object({ dryRun: z.enum(['true', 'false']).default('false').describe('true: validate and report what would change, change nothing.') }).strict(),
  async handle({ query, body, audit }, deps) {
    const text = String(body ?? '')
    const baseDir = deps.configFile ? dirname(deps.configFile) : process.cwd()
    const loaded = loadConfigText(text, 'import.yaml', process.env, baseDir)
    if (!loaded.ok) {
      const errors = loaded.problems.filter((p) => p.severity === 'error').map((p) => ({ line: p.line, col: p.col, field: p.path, message: p.message }))
      return { status: 400, body: { title: 'Invalid config', detail: errors.map((e) => `${e.line}:${e.col} ${e.field ? `${e.field}: ` : ''}${e.message}`).join('; '), errors } }
    }
    const raw = parseYaml(text) as Record<string, unknown> | null
    const keys = Object.keys(raw ?? {})
    const present = new Set(importedSections.filter((s) => keys.includes(s)))
    const ignored = keys.filter((k) => !(importedSections as readonly string[]).includes(k))
    const plan = planImport(deps.runtime().config, loaded.config, present)
    const warnings = loaded.warnings.map((p) => ({ line: p.line, col: p.col, field: p.path, message: p.message }))
    if (query.dryRun === 'true') return { status: 200, body: { dryRun: true, wouldApply: plan.counts, changes: plan.changes, ignored, warnings } }
    if (plan.changes > 0) {
      const change = await applyChange(deps, 'Cannot import config', plan.mutate)
      if (!change.ok) return change.result
    }
    audit('config.import', 'config', { changes: plan.changes, sections: [...present] })
    return { status: 200, body: { applied: plan.counts, changes: plan.changes, ignored, warnings } }
  },
})

export const configIoEndpoints: AdminEndpoint[] = [exportConfig, importConfig] as AdminEndpoint[]
