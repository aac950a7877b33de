import type { Finding, Severity } from '../types.js'
import type { IisConfig } from './parse.js'
import { child, path, type XmlElement } from './xml.js'

const commonVerbs = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

function finding(file: string, el: XmlElement, severity: Severity, message: string, rule: string): Finding {
  return { file, line: el.line, col: el.col, severity, message, rule }
}

/** Lists risky web.config rules: verbs and addresses refused by default, unreachable rules. */
export function findRiskyIisRules(config: IisConfig): Finding[] {
  const out: Finding[] = []
  const file = config.file
  for (const s of config.sections) {
    const where = s.label
    const rf = path(s.webServer, 'security', 'requestFiltering')
    const verbs = child(rf, 'verbs')
    if (verbs) {
      const adds = verbs.children.filter((c) => c.name === 'add')
      if (verbs.attrs.allowUnlisted?.toLowerCase() === 'false') {
        const allowed = new Set(adds.filter((a) => a.attrs.allowed?.toLowerCase() !== 'false').map((a) => (a.attrs.verb ?? '').toUpperCase()))
        const refused = commonVerbs.filter((v) => !allowed.has(v))
        out.push(finding(file, verbs, 'warning', `verbs allowUnlisted="false" in ${where}: only ${[...allowed].join(', ') || 'no verb'} pass; ${refused.join(', ')} get 404.6${refused.includes('OPTIONS') ? ' (this also breaks CORS preflight)' : ''}`, 'iis.verbs-allow-unlisted-false'))
      }
      for (const a of adds.filter((x) => x.attrs.allowed?.toLowerCase() === 'false')) {
        const verb = (a.attrs.verb ?? '').toUpperCase()
        out.push(finding(file, a, 'warning', `verb ${verb} is refused with 404.6 in ${where}${verb === 'OPTIONS' ? '; CORS preflight requests will fail' : ''}`, 'iis.verb-denied'))
      }
    }
    const fileExt = child(rf, 'fileExtensions')
    if (fileExt?.attrs.allowUnlisted?.toLowerCase() === 'false') {
      out.push(finding(file, fileExt, 'warning', `fileExtensions allowUnlisted="false" in ${where}: every extension not listed gets 404.7`, 'iis.extensions-allow-unlisted-false'))
    }
    const limits = child(rf, 'requestLimits')
    const maxLen = limits?.attrs.maxAllowedContentLength
    if (limits && maxLen !== undefined && Number(maxLen) < 1_048_576) {
      out.push(finding(file, limits, 'warning', `maxAllowedContentLength=${maxLen} in ${where}: bodies larger than that get 404.13 (not 413), which looks like a missing page`, 'iis.small-content-limit'))
    }
    const ip = path(s.webServer, 'security', 'ipSecurity')
    if (ip?.attrs.allowUnlisted?.toLowerCase() === 'false') {
      const allowed = ip.children.filter((c) => c.name === 'add' && c.attrs.allowed?.toLowerCase() === 'true').map((c) => c.attrs.domainName ?? `${c.attrs.ipAddress ?? '?'}${c.attrs.subnetMask ? `/${c.attrs.subnetMask}` : ''}`)
      out.push(finding(file, ip, 'warning', `ipSecurity allowUnlisted="false" in ${where}: only ${allowed.join(', ') || 'no address'} may connect; everyone else gets 403.503 (403.6 on IIS 7)`, 'iis.ip-allow-unlisted-false'))
    }
    const access = path(s.webServer, 'security', 'access')
    if (access?.attrs.sslFlags && /\bssl\b/i.test(access.attrs.sslFlags)) {
      out.push(finding(file, access, 'warning', `sslFlags="${access.attrs.sslFlags}" in ${where}: plain HTTP requests get 403.4`, 'iis.ssl-required'))
    }
    const webAuth = child(s.web, 'authorization')
    if (webAuth) {
      const rules = webAuth.children.filter((c) => c.name === 'allow' || c.name === 'deny')
      const catchAll = rules.findIndex((r) => (r.attrs.users ?? '').split(',').map((u) => u.trim()).includes('*') && !r.attrs.verbs && !r.attrs.verb)
      if (catchAll >= 0) {
        for (const later of rules.slice(catchAll + 1)) {
          out.push(finding(file, later, rules[catchAll].name !== later.name ? 'error' : 'warning', `${later.text} is never reached: ${rules[catchAll].text} (line ${rules[catchAll].line}) matches every user first`, 'iis.authorization-unreachable'))
        }
        if (rules[catchAll].name === 'deny' && catchAll === 0) {
          out.push(finding(file, rules[catchAll], 'error', `${rules[catchAll].text} is the first rule in ${where}: every user, signed in or not, is refused`, 'iis.deny-everyone'))
        }
      }
    }
  }
  return out
}
