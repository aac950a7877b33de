import type { JsonObject } from './json.js'

/**
 * A rule a policy can deny with. Declared once in the policy's `rules.ts`; the id is
 * stable once released and is what operators search for in logs and docs/errors.md.
 */
export interface Rule {
  /** `<layer>.<rule>` or `<layer>.<method>.<rule>`, lowercase with dashes. */
  id: string
  status: number
  /** Short human title; becomes the problem's `title`. */
  title: string
  /** What the rule means, for docs/errors.md. */
  meaning: string
  /** Generic advice safe for any caller (`explain: public`). */
  remedy: string
}

/** Why a request was refused. A value, never thrown. */
export interface Denial {
  layer: string
  rule: string
  status: number
  title: string
  /** Safe for the client at `explain: consumer` and above. */
  message: string
  /** For the operator: what to change, and where. */
  remediation: string
  /** Generic remedy that `explain: public` shows. */
  publicRemedy: string
  /** Facts for the stored trace and the doctor; shown to callers only at `explain: full`. */
  detail?: JsonObject
  /** Challenge and retry headers (WWW-Authenticate, Retry-After). */
  headers?: Record<string, string>
}

/** Builds a denial from a declared rule. `layer` is the prefix of the rule id. */
export function createDenial(
  rule: Rule,
  facts: { message: string; remediation?: string; detail?: JsonObject; headers?: Record<string, string>; status?: number },
): Denial {
  const dot = rule.id.indexOf('.')
  return {
    layer: dot === -1 ? rule.id : rule.id.slice(0, dot),
    rule: rule.id,
    status: facts.status ?? rule.status,
    title: rule.title,
    message: facts.message,
    remediation: facts.remediation ?? rule.remedy,
    publicRemedy: rule.remedy,
    detail: facts.detail,
    headers: facts.headers,
  }
}

/** The short rule name used in `Gatehouse-Decision` and problem `type`: the id without its layer. */
export function shortRuleName(ruleId: string): string {
  const dot = ruleId.indexOf('.')
  return dot === -1 ? ruleId : ruleId.slice(dot + 1)
}
