import type { Rule } from '../../core/denial.js'

const remedy =
  'The request looked like an attack and was refused. If it is legitimate, remove the unusual content or ' +
  'ask the API owner to review this request id.'

/**
 * Rules of the `waf` layer; the only place their ids are spelled. A block is reported under the
 * family of the match that scored most; the individual signatures (`sqli-001`, ...) live in the
 * rule set data (ruleset/) and appear only in the stored trace.
 */
export const rules = {
  sqli: {
    id: 'waf.sqli',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning: 'The WAF blocked the request: its anomaly score reached the threshold, mostly from SQL injection signatures.',
    remedy,
  },
  xss: {
    id: 'waf.xss',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning: 'The WAF blocked the request: its anomaly score reached the threshold, mostly from cross-site scripting signatures.',
    remedy,
  },
  lfi: {
    id: 'waf.lfi',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning: 'The WAF blocked the request: its anomaly score reached the threshold, mostly from path traversal / local file inclusion signatures.',
    remedy,
  },
  rfi: {
    id: 'waf.rfi',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning: 'The WAF blocked the request: its anomaly score reached the threshold, mostly from remote file inclusion signatures.',
    remedy,
  },
  rce: {
    id: 'waf.rce',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning: 'The WAF blocked the request: its anomaly score reached the threshold, mostly from OS command injection signatures.',
    remedy,
  },
  codeInjection: {
    id: 'waf.code-injection',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning:
      'The WAF blocked the request: its anomaly score reached the threshold, mostly from code injection signatures ' +
      '(PHP, Java/Log4Shell, Node.js, prototype pollution, server-side template injection).',
    remedy,
  },
  protocol: {
    id: 'waf.protocol',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning:
      'The WAF blocked the request: its anomaly score reached the threshold, mostly from protocol anomalies (NUL bytes, ' +
      'overlong UTF-8, header injection, request smuggling leftovers, a body that does not match its Content-Type).',
    remedy,
  },
  scanner: {
    id: 'waf.scanner',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning: 'The WAF blocked the request: it came from a known attack tool or vulnerability scanner.',
    remedy,
  },
  engineError: {
    id: 'waf.engine-error',
    status: 403,
    title: 'Request blocked by the WAF',
    meaning: "The WAF could not finish inspecting the request (timeout or engine error) and the route's waf.onError is 'closed'.",
    remedy: 'Retry the request; if it keeps failing, send a smaller request or contact the API owner with the request id.',
  },
} as const satisfies Record<string, Rule>

/** Attack families of the rule set, in the order ties are broken when picking the reported rule. */
export const families = ['sqli', 'xss', 'lfi', 'rfi', 'rce', 'code-injection', 'protocol', 'scanner'] as const
export type Family = (typeof families)[number]

/** The layer rule a block is reported under, by family. */
export const ruleOfFamily: Record<Family, Rule> = {
  sqli: rules.sqli,
  xss: rules.xss,
  lfi: rules.lfi,
  rfi: rules.rfi,
  rce: rules.rce,
  'code-injection': rules.codeInjection,
  protocol: rules.protocol,
  scanner: rules.scanner,
}
