import type { Finding, Severity } from '../types.js'
import { describeSection } from './evaluate.js'
import { isNamed, type ApacheConfig, type ApacheNode } from './parse.js'

const commonMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

function finding(n: ApacheNode, severity: Severity, message: string, rule: string): Finding {
  return { file: n.file, line: n.line, col: n.col, severity, message, rule }
}

/** A scope: the directives directly in a section (or at top level), conditionals unwrapped. */
interface RiskScope {
  label: string
  node: ApacheNode | null
  directives: ApacheNode[]
  parent: RiskScope | null
}

function directChildren(nodes: ApacheNode[]): ApacheNode[] {
  const out: ApacheNode[] = []
  for (const n of nodes) {
    if (n.children && isNamed(n, 'IfModule', 'IfDefine', 'IfVersion')) out.push(...directChildren(n.children))
    else out.push(n)
  }
  return out
}

function collectScopes(nodes: ApacheNode[], label: string, node: ApacheNode | null, out: RiskScope[], parent: RiskScope | null = null): void {
  const direct = directChildren(nodes)
  const scope: RiskScope = { label, node, directives: direct, parent }
  out.push(scope)
  for (const n of direct) {
    if (!n.children) continue
    if (isNamed(n, 'RequireAll', 'RequireAny', 'RequireNone')) continue
    collectScopes(n.children, describeSection(n), n, out, scope)
  }
}

/** All Require lines under a scope, through authz containers. */
function requiresIn(nodes: ApacheNode[]): ApacheNode[] {
  const out: ApacheNode[] = []
  for (const n of directChildren(nodes)) {
    if (n.children && isNamed(n, 'RequireAll', 'RequireAny', 'RequireNone', 'Limit', 'LimitExcept')) out.push(...requiresIn(n.children))
    else if (!n.children && isNamed(n, 'Require')) out.push(n)
  }
  return out
}

/** Lists risky Apache rules: what denies everything, is never reached, or leaks methods. */
export function findRiskyApacheRules(config: ApacheConfig): Finding[] {
  const out: Finding[] = []
  const scopes: RiskScope[] = []
  collectScopes(config.nodes, config.htaccess ? '.htaccess' : 'server config', null, scopes)
  const everything = scopes.flatMap((s) => s.directives)
  const anyAuthType = everything.some((d) => isNamed(d, 'AuthType') && d.args[0]?.toLowerCase() !== 'none')
  const engineOn = everything.some((d) => isNamed(d, 'RewriteEngine') && d.args[0]?.toLowerCase() === 'on')
  for (const scope of scopes) {
    const ds = scope.directives
    const order = ds.find((d) => isNamed(d, 'Order'))
    const allows = ds.filter((d) => isNamed(d, 'Allow'))
    // Allow lines outside a <Limit> still apply to the limited methods.
    const inLimit = scope.node !== null && isNamed(scope.node, 'Limit', 'LimitExcept')
    const outerAllows = inLimit && scope.parent ? scope.parent.directives.filter((d) => isNamed(d, 'Allow')) : []
    const denies = ds.filter((d) => isNamed(d, 'Deny'))
    const requires = requiresIn(ds)
    const orderValue = order?.args.join('').toLowerCase()
    if (order && (orderValue === 'allow,deny' || orderValue === 'mutual-failure') && allows.length === 0) {
      out.push(finding(order, 'error', `'${order.text}' with no Allow from in ${scope.label}: the default is deny, so every request gets 403`, 'apache.order-allow-deny-no-allow'))
    }
    if (denies.some((d) => /\ball\b/i.test(d.args.join(' '))) && allows.length === 0 && outerAllows.length === 0 && (!order || orderValue === 'deny,allow')) {
      const d = denies.find((x) => /\ball\b/i.test(x.args.join(' '))) as ApacheNode
      out.push(finding(d, 'warning', `'${d.text}' in ${scope.label} refuses every client (no Allow from overrides it)`, 'apache.deny-from-all'))
    }
    if ((order || allows.length || denies.length) && ds.some((d) => isNamed(d, 'Require') || (d.children && isNamed(d, 'RequireAll', 'RequireAny', 'RequireNone')))) {
      const first = order ?? allows[0] ?? denies[0]
      out.push(finding(first, 'warning', `${scope.label} mixes 2.2 Order/Allow/Deny with 2.4 Require; httpd evaluates both and the result is rarely what was meant — use Require only`, 'apache.mixed-authz'))
    }
    if (scope.node && isNamed(scope.node, 'Limit')) {
      const restricts = requires.length > 0 || denies.length > 0
      if (restricts) {
        const limited = new Set(scope.node.args.map((m) => m.toUpperCase()))
        if (limited.has('GET')) limited.add('HEAD')
        const open = commonMethods.filter((m) => !limited.has(m))
        out.push(finding(scope.node, 'warning', `${describeSection(scope.node)} restricts only ${scope.node.args.join(', ')}; ${open.join(', ')} are not restricted by it (use <LimitExcept> or drop the <Limit>)`, 'apache.limit-partial'))
      }
    }
    if (scope.node && isNamed(scope.node, 'LimitExcept')) {
      const blocksAll = requires.some((r) => /^all\s+denied$/i.test(r.args.join(' '))) || denies.some((d) => /\ball\b/i.test(d.args.join(' ')))
      if (blocksAll || requires.length) {
        const except = new Set(scope.node.args.map((m) => m.toUpperCase()))
        if (except.has('GET')) except.add('HEAD')
        const blocked = commonMethods.filter((m) => !except.has(m))
        out.push(finding(scope.node, 'warning', `${describeSection(scope.node)} ${blocksAll ? 'refuses' : 'restricts'} ${blocked.join(', ')}${blocksAll ? ' for everyone' : ''}: only ${[...except].join(', ')} pass freely`, 'apache.limit-except-blocks-methods'))
      }
    }
    for (const r of requires) {
      const provider = (r.args[0]?.toLowerCase() === 'not' ? r.args[1] : r.args[0])?.toLowerCase()
      if (provider === 'host' || provider === 'forward-dns') {
        out.push(finding(r, 'warning', `'${r.text}' depends on reverse DNS of the client: slow, and a missing PTR record means 403`, 'apache.require-host'))
      }
      if ((provider === 'valid-user' || provider === 'user' || provider === 'group') && !anyAuthType) {
        out.push(finding(r, 'error', `'${r.text}' without an AuthType: httpd answers 500 ("AuthType not set") instead of asking for credentials`, 'apache.require-without-authtype'))
      }
    }
    for (const rule of ds.filter((d) => isNamed(d, 'RewriteRule'))) {
      const flags = (rule.args[2] ?? '').toUpperCase()
      const idx = ds.indexOf(rule)
      const hasCond = idx > 0 && isNamed(ds[idx - 1], 'RewriteCond')
      if (/[[,](F|FORBIDDEN)[\],]/.test(flags) && !hasCond && /^(\^?\.\*\$?|\^|\.|\^\$?|\(\.\*\))$/.test(rule.args[0] ?? '')) {
        out.push(finding(rule, 'error', `'${rule.text}' has no RewriteCond and its pattern matches every path: every request in ${scope.label} gets 403`, 'apache.rewrite-forbids-everything'))
      }
      if (!engineOn) {
        out.push(finding(rule, 'warning', `'${rule.text}' is ignored: no 'RewriteEngine On'`, 'apache.rewrite-engine-off'))
      }
    }
  }
  checkRootDenied(scopes, config, out)
  if (config.htaccess) {
    const top = scopes[0]
    for (const r of requiresIn(top.directives.filter((d) => !d.children || isNamed(d, 'RequireAll', 'RequireAny', 'RequireNone')))) {
      if (/^all\s+denied$/i.test(r.args.join(' ')) && top.directives.includes(r)) {
        out.push(finding(r, 'warning', `'${r.text}' at the top of .htaccess refuses every request to this directory and below`, 'apache.require-all-denied'))
      }
    }
  }
  return out
}

/** `<Directory />` with Require all denied and nothing later that grants anything. */
function checkRootDenied(scopes: RiskScope[], config: ApacheConfig, out: Finding[]): void {
  const root = scopes.find((s) => s.node && isNamed(s.node, 'Directory') && (s.node.args[0] === '/' || s.node.args[0] === ''))
  if (!root) return
  const denied = requiresIn(root.directives).find((r) => /^all\s+denied$/i.test(r.args.join(' ')))
  if (!denied) return
  const grants = scopes.filter((s) => s !== root).some((s) => requiresIn(s.directives).some((r) => {
    const a = r.args.join(' ').toLowerCase()
    return a !== 'all denied' && !a.startsWith('not ')
  }) || s.directives.some((d) => isNamed(d, 'Allow')))
  if (!grants && !config.htaccess) {
    out.push(finding(denied, 'error', `'${denied.text}' in <Directory /> and no later section grants access (no Require all granted / ip / valid-user for the DocumentRoot): every request gets 403`, 'apache.require-all-denied-root'))
  }
}
