import type { Rule } from '../core/denial.js'
import { aiUpstreamRules } from '../ai/rules.js'
import { gatewayRules, upstreamRules } from '../gateway/rules.js'
import { policies } from '../policies/index.js'

/** Every rule id the gateway can answer with, in pipeline order. */
export function allRules(): Rule[] {
  return [
    ...Object.values(gatewayRules),
    ...policies.flatMap((policy) => Object.values(policy.rules)),
    ...Object.values(upstreamRules),
    ...Object.values(aiUpstreamRules),
  ]
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/** docs/errors.md: one row per rule id. A test keeps the file in sync with the code. */
export function renderErrorsDoc(): string {
  const rows = allRules().map((rule) => `| <a id="${rule.id.replace(/\./g, '-')}"></a>\`${rule.id}\` | ${rule.status} | ${cell(rule.meaning)} | ${cell(rule.remedy)} |`)
  return [
    '# Gatehouse rule ids',
    '',
    'Every answer the gateway gives of its own names a rule: in the `Gatehouse-Decision` header',
    '(`<layer>;rule=<rule>`), in the problem body (`layer`, `rule`) and in the call log. This table',
    'lists them all. It is generated from the code (`npm run docs`); a test fails when it is stale.',
    '',
    'An upstream\'s own answer is marked `Gatehouse-Decision: upstream` and logged as',
    '`upstream.status-<code>`: Gatehouse passed it through, so its cause is in that service.',
    '',
    '| Id | Status | Meaning | How to fix |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n')
}
