import type { JsonObject } from '../../core/json.js'
import { allow, definePolicy, deny, type Verdict } from '../define.js'
import { handleFor, quietHandleFor, routerFor, runEngine, type WafMatch } from './engine.js'
import { CleanHeaderCache, collectInputs, type ExclusionClassifier } from './inputs.js'
import { families, ruleOfFamily, rules, type Family } from './rules.js'
import { WafConfig, type WafExclusion } from './schema.js'

/** Fields whose values are credentials or session state: their excerpts never reach a trace. */
const secretFieldPrefixes = ['cookie.', 'header.authorization', 'header.proxy-authorization', 'header.x-api-key']
const excerptChars = 60

interface CompiledExclusion {
  all: boolean
  ruleIds: Set<string>
  families: Set<string>
  fields: string[]
}

/** True when `field` is `prefix` or lies under it (`json.a` covers `json.a.b`, `json.a[0]`, `xml.a@id`). */
export function isUnderField(field: string, prefix: string): boolean {
  if (!field.startsWith(prefix)) return false
  if (field.length === prefix.length) return true
  const next = field[prefix.length]
  return next === '.' || next === '[' || next === '@'
}

function compileExclusions(list: readonly WafExclusion[]): CompiledExclusion[] {
  return list.map((e) => ({
    all: e.rules.includes('*'),
    ruleIds: new Set(e.rules.filter((r) => /-\d{3}$/.test(r))),
    families: new Set(e.rules.filter((r) => (families as readonly string[]).includes(r))),
    fields: [...e.fields],
  }))
}

/**
 * A YAML flow mapping an operator can paste into `exclusions:` to let exactly these matches
 * through. Field paths with YAML-significant characters are quoted.
 */
export function exclusionYaml(ruleIds: string | readonly string[], fields: string | readonly string[]): string {
  const ids = [...new Set(typeof ruleIds === 'string' ? [ruleIds] : ruleIds)]
  const paths = [...new Set(typeof fields === 'string' ? [fields] : fields)].map((f) => (/^[A-Za-z_][A-Za-z0-9_.\-@]*$/.test(f) ? f : JSON.stringify(f)))
  return `{ rules: [${ids.join(', ')}], fields: [${paths.join(', ')}] }`
}

/** A short excerpt of a matched value for the stored trace: ≤ 60 chars, control characters and long digit runs masked. */
export function redactExcerpt(field: string, value: string): string {
  if (secretFieldPrefixes.some((p) => field.startsWith(p))) return '[withheld: credential or cookie]'
  const clipped = value.length > excerptChars ? `${value.slice(0, excerptChars - 1)}…` : value
  let out = ''
  let digits = 0
  for (const ch of clipped) {
    const code = ch.charCodeAt(0)
    digits = code >= 48 && code <= 57 ? digits + 1 : 0
    out += code < 32 || code === 127 ? '·' : ch
  }
  // Runs of 12+ digits are card or account numbers more often than attacks.
  return out.replace(/\d{12,}/g, (run) => '#'.repeat(run.length))
}

// Ties are broken towards what the attacker is after: in "; cat /etc/passwd" the file is only the
// argument of an injected command, and an XXE's DOCTYPE also looks like markup to the XSS checks.
const reportPriority: readonly Family[] = ['code-injection', 'rce', 'rfi', 'lfi', 'sqli', 'xss', 'protocol', 'scanner']

/** The family a block is reported under: the one whose matches add up to the most. */
function dominantFamily(matches: readonly WafMatch[]): Family {
  const totals = new Map<Family, number>()
  for (const m of matches) totals.set(m.family, (totals.get(m.family) ?? 0) + m.score)
  let best: Family = matches[0].family
  let bestScore = -1
  for (const family of reportPriority) {
    const total = totals.get(family) ?? 0
    if (total > bestScore) {
      best = family
      bestScore = total
    }
  }
  return best
}

const familyWords: Record<Family, string> = {
  sqli: 'SQL injection',
  xss: 'cross-site scripting',
  lfi: 'path traversal',
  rfi: 'remote file inclusion',
  rce: 'command injection',
  'code-injection': 'code injection',
  protocol: 'a malformed request',
  scanner: 'an attack tool',
}

/**
 * `waf`: scores the request against our attack signatures with libddwaf (libinjection for SQL
 * and XSS, RE2 regexes for the rest) and blocks when the anomaly score reaches the threshold.
 *
 * The libddwaf handle is built once per paranoia level (engine.ts); each request gets its own
 * context, runs with a time budget of `timeoutMs`, and is disposed. Exclusions are applied by
 * running the fields they cover in a separate context whose matches of excluded rules are dropped,
 * so a rule silenced on `json.description` still fires on `json.title`.
 */
export const wafPolicy = definePolicy({
  name: 'waf',
  configKey: 'waf',
  order: 400,
  schema: WafConfig,
  rules,
  needsBody: (config) => config.inspectBody,
  compile(config, deps) {
    const where = `routes[${deps.routeName}].policies.waf`
    const handles = { full: handleFor(config.paranoia), quiet: quietHandleFor(config.paranoia) }
    const router = routerFor(config.paranoia)
    const exclusions = compileExclusions(config.exclusions)
    const timeoutMicros = Math.round(config.timeoutMs * 1000)
    const cleanHeaders = new CleanHeaderCache()
    const threshold = config.threshold

    // Every field gets a class: the indexes of the exclusions covering it, '' for none (the common case).
    const classify: ExclusionClassifier | undefined =
      exclusions.length === 0
        ? undefined
        : (field) => {
            let cls = ''
            for (let i = 0; i < exclusions.length; i++) {
              if (exclusions[i].fields.some((prefix) => isUnderField(field, prefix))) cls += cls === '' ? String(i) : `,${i}`
            }
            return cls
          }

    const isExcluded = (ruleId: string, family: Family, field: string): boolean => {
      if (exclusions.length === 0) return false
      for (const e of exclusions) {
        if (!(e.all || e.ruleIds.has(ruleId) || e.families.has(family))) continue
        if (e.fields.some((prefix) => isUnderField(field, prefix))) return true
      }
      return false
    }

    function describe(matches: readonly WafMatch[], score: number): JsonObject {
      return {
        score,
        // One exclusion covering every match: pasted into the config, it lets this request through.
        exclusion: exclusionYaml(matches.map((m) => m.ruleId), matches.map((m) => m.field)),
        threshold,
        paranoia: config.paranoia,
        mode: config.mode,
        matches: matches.map((m) => ({
          rule: m.ruleId,
          family: m.family,
          paranoia: m.paranoia,
          severity: m.severity,
          score: m.score,
          field: m.field,
          excerpt: redactExcerpt(m.field, m.value),
          exclusion: exclusionYaml(m.ruleId, m.field),
        })),
      }
    }

    return function evaluateWaf(ctx): Verdict {
      const inputs = collectInputs(ctx, config.inspectBody, classify, cleanHeaders, router)
      const outcome = runEngine(handles, inputs.payloads, inputs.findings, config.paranoia, timeoutMicros, isExcluded)
      const matches = outcome.matches
      let score = 0
      for (const m of matches) score += m.score

      if (score >= threshold) {
        const family = dominantFamily(matches)
        const rule = ruleOfFamily[family]
        const detail = describe(matches, score)
        if (inputs.truncated) detail.truncated = true
        if (config.mode === 'detect') return allow({ result: 'detect', rule: rule.id, detail })
        const top = matches.find((m) => m.family === family) ?? matches[0]
        return deny(rule, {
          message: `The request was blocked by the web application firewall: ${top.field} looks like ${familyWords[family]}.`,
          remediation: `If this request is legitimate, add to ${where}.exclusions: ${String(detail.exclusion)} (the trace lists each match).`,
          detail,
        })
      }
      if (!outcome.ok) {
        const note = `WAF inspection ${outcome.reason === 'timeout' ? `did not finish within ${config.timeoutMs} ms` : 'failed'}`
        if (config.onError === 'closed') {
          return deny(rules.engineError, {
            message: 'The request could not be inspected in time and was refused; please retry.',
            remediation: `Raise ${where}.timeoutMs (now ${config.timeoutMs}) or set ${where}.onError to open.`,
            detail: { reason: outcome.reason, timeoutMs: config.timeoutMs, ...(outcome.message ? { error: outcome.message } : {}), ...describe(matches, score) },
          })
        }
        return allow({ detail: { note: `${note}; let through because onError is open`, reason: outcome.reason, ...describe(matches, score) } })
      }
      if (matches.length === 0 && inputs.headerKeys.length > 0) cleanHeaders.remember(inputs.headerKeys)
      if (matches.length === 0) {
        // Say so in the trail when part of the request went uninspected, so a miss can be explained.
        if (ctx.body.kind === 'too-large' && config.inspectBody) return allow({ detail: { note: 'body over the route limit was not inspected', receivedBytes: ctx.body.receivedBytes } })
        return inputs.truncated ? allow({ detail: { truncated: true, inspectedChars: inputs.inspectedChars } }) : allow()
      }
      return allow({ detail: { note: 'below the blocking threshold', ...describe(matches, score) } })
    }
  },
})
