import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { policies } from '../policies/index.js'
import { renderConfigDoc } from './config-doc.js'
import { allRules, renderErrorsDoc } from './errors-doc.js'

describe('rule ids and docs/errors.md', () => {
  it('pins the pipeline order of SPEC §1', () => {
    expect([...policies].sort((a, b) => a.order - b.order).map((p) => p.name)).toEqual(policies.map((p) => p.name))
    const specOrder = ['ip', 'cors', 'body', 'waf', 'authn', 'subscription', 'authz', 'csrf', 'models', 'rate-limit', 'budget', 'transform']
    // A layer may have several policies (authz: scopes, then roles and rules); they must sit together.
    const present = policies.map((p) => p.name).filter((name, i, all) => i === 0 || all[i - 1] !== name)
    expect(present).toEqual(specOrder.filter((name) => present.includes(name)))
  })

  it('has unique, well-formed rule ids prefixed by their layer', () => {
    const ids = allRules().map((r) => r.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(id).toMatch(/^[a-z]+(-[a-z]+)*\.[a-z0-9]+(-[a-z0-9]+)*$/)
    for (const policy of policies) for (const rule of Object.values(policy.rules)) expect(rule.id.startsWith(`${policy.name}.`)).toBe(true)
  })

  it('never uses 403 for an upstream failure', () => {
    for (const rule of allRules().filter((r) => r.id.startsWith('upstream.'))) {
      // An AI provider's refusal of the prompt (400) or its rate limit (429, with Retry-After) is
      // passed on as such; a provider's 401/403 (the gateway's own key) becomes 502.
      const allowed = rule.id.startsWith('upstream.provider-') ? [400, 429, 502, 503, 504] : [502, 503, 504]
      expect(allowed).toContain(rule.status)
    }
  })

  it('keeps docs/errors.md in sync with the code (run `npm run docs`)', () => {
    const onDisk = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    expect(onDisk).toBe(renderErrorsDoc())
  })

  it('keeps docs/config.md in sync with the schemas (run `npm run docs`)', () => {
    const onDisk = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')
    expect(onDisk).toBe(renderConfigDoc())
  })

  it('describes every schema field of every policy', () => {
    const undescribed: string[] = []
    const visit = (schema: unknown, path: string) => {
      const s = schema as { description?: string; def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown>; element?: unknown; options?: unknown[] } }
      const def = s.def
      if (!def) return
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'pipe') {
        if (s.description) return
        return visit(def.innerType ?? (def as { in?: unknown }).in, path)
      }
      if (def.type === 'object' && def.shape) {
        for (const [key, field] of Object.entries(def.shape)) {
          const f = field as { description?: string }
          if (!f.description) undescribed.push(`${path}.${key}`)
          visit(field, `${path}.${key}`)
        }
      }
    }
    for (const policy of policies) visit(policy.schema, policy.configKey)
    expect(undescribed).toEqual([])
  })
})
