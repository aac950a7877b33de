import { explainApacheCause, explainGatehouseLayer, explainIisSubstatus, explainModsecRule, explainNginxCause, explainWin32Status, isProbePath, type CauseText } from './explanations.js'
import type { Cluster, LogFormat, LogRecord } from './types.js'

/** What a cause cluster remembers besides its count (bounded). */
export interface CauseSlot {
  status: number | null
  example: string | null
  client: string | null
  message: string | null
  win32: string | null
  clients: Set<string>
  methods: Set<string>
}

/** Most clusters reported per file. */
export const maxClusters = 10

function prefixOf(path: string | null): string {
  if (path === null) return '-'
  const second = path.indexOf('/', 1)
  if (second === -1) return path
  const third = path.indexOf('/', second + 1)
  if (third === -1) return path
  return third === path.length - 1 ? path.slice(0, third) : `${path.slice(0, third)}/*`
}

/** True for CRS rules that report a total rather than detect something themselves. */
function isScoreRule(id: string): boolean {
  return id.startsWith('949') || id.startsWith('959') || id.startsWith('980')
}

/**
 * The key a denial is grouped under: the producer's own cause when the log names one
 * (ModSecurity rule, Apache AH code, IIS substatus, nginx message, Gatehouse layer and rule),
 * else status + method + path prefix for plain access logs.
 */
export function causeKeyOf(record: LogRecord): string {
  const cause = record.cause
  if (cause === 'modsec') {
    // Group by the rule that detected something, not CRS's 949110 threshold rule that blocked.
    const primary = record.rules.find((r) => !isScoreRule(r)) ?? record.rules[0] ?? 'unknown'
    return `modsec:${primary}`
  }
  if (cause !== null && cause.startsWith('gatehouse:')) return `${cause}:${record.rules[0] ?? ''}`
  if (cause !== null && !(cause.startsWith('iis:') && cause.endsWith('.0'))) return cause
  const status = record.status ?? 0
  // Probe targets (/.env, /wp-login.php, ...) are one cause however many of them there are.
  if (status === 403 && record.path !== null && isProbePath(record.path)) return 'probe:403'
  if (status === 403) return `http:403:${record.method ?? '-'} ${prefixOf(record.path)}`
  return `http:${status}:${prefixOf(record.path)}`
}

/** Everything the cluster builder reads from the aggregator. */
export interface ClusterInput {
  format: LogFormat | 'unknown'
  causes: [string, { count: number; error: number; payload: CauseSlot | undefined }][]
  clients: [string, { count: number; error: number; payload: { paths: Set<number> } | undefined }][]
  okMethods: Map<string, Set<string>>
  denied403: number
}

/** Distinct 403 paths that make a client look like a scanner (mirrors the aggregator's cap). */
const scannerPaths = 20

function locationAdvice(format: LogFormat | 'unknown'): string {
  switch (format) {
    case 'nginx':
      return 'check allow/deny, auth_basic and limit_except in the matching location (the nginx error log names the rule), or file permissions'
    case 'apache':
      return 'check Require / Order-Deny rules and .htaccess files for that path (the error log gives the AH code), or file permissions'
    case 'iis':
      return 'check the substatus, <ipSecurity>, request filtering and NTFS permissions for that path'
    default:
      return 'check the access rules that cover that path'
  }
}

function explainHttpCluster(key: string, count: number, slot: CauseSlot | undefined, input: ClusterInput): Cluster {
  // key: http:<status>:<METHOD> <prefix> (403) or http:<status>:<prefix>
  const rest = key.slice(5)
  const colon = rest.indexOf(':')
  const status = rest.slice(0, colon)
  const target = rest.slice(colon + 1)
  if (status === '401') {
    return { summary: `401 on ${target}`, count, explanation: 'Requests without valid credentials: check the token, cookie or Basic credentials clients send (missing, expired, wrong audience) rather than authorization rules.' }
  }
  if (status === '429') {
    return { summary: `429 on ${target}`, count, explanation: 'Rate limiting refused these requests: check the limit for this path and whether many users share one client address (NAT, proxy).' }
  }
  const space = target.indexOf(' ')
  const method = target.slice(0, space)
  const prefix = target.slice(space + 1)
  const summary = `403 on ${method} ${prefix}`
  const ok = input.okMethods.get(prefix)
  const others = ok === undefined ? [] : [...ok].filter((m) => m !== method)
  if (ok !== undefined && others.length > 0 && !ok.has(method)) {
    return { summary, count, explanation: `${others.slice(0, 3).join(', ')} ${others.length === 1 ? 'succeeds' : 'succeed'} on the same paths while ${method} is refused, so the rule depends on the method or body: check method limits (limit_except, <Limit>/<LimitExcept>, allowed verbs), a WAF rule on the body, or CSRF protection in the app.` }
  }
  if (ok !== undefined && ok.has(method)) {
    const who = slot !== undefined && slot.clients.size === 1 ? ` (all from ${[...slot.clients][0]})` : ''
    return { summary, count, explanation: `The same method also succeeds here${who}, so the refusal depends on who asks or what they send: compare a refused and an accepted request for address, credentials, headers and body (IP rules, app authorization, WAF).` }
  }
  return { summary, count, explanation: `Nothing succeeds under this prefix in this log, so a rule for the whole location refuses it: ${locationAdvice(input.format)}; if the application itself answers 403, check its authorization.` }
}

function withWin32(text: CauseText, slot: CauseSlot | undefined): string {
  // Win32 codes explain authentication failures; on other substatuses they add noise.
  const note = slot?.win32 && slot.status === 401 ? explainWin32Status(slot.win32) : null
  return note === null ? text.explanation : `${text.explanation} ${note}`
}

function explainCause(key: string, count: number, slot: CauseSlot | undefined, input: ClusterInput): Cluster | null {
  const colon = key.indexOf(':')
  const kind = key.slice(0, colon)
  const code = key.slice(colon + 1)
  if (kind === 'http') return explainHttpCluster(key, count, slot, input)
  if (kind === 'probe') {
    const example = slot?.example ? ` (e.g. ${slot.example})` : ''
    return { summary: `403 on paths scanners probe for${example}`, count, explanation: 'Requests for files scanners look for (dotfiles, backups, admin tools, WordPress): the 403 is the server refusing them, as it should; nothing to fix unless one of these is a real page of yours.' }
  }
  if (kind === 'modsec') {
    const text = explainModsecRule(code)
    const msg = slot?.message ? `: ${slot.message}` : ''
    return { summary: `ModSecurity rule ${code} (${text.title})${msg}`, count, explanation: text.explanation }
  }
  if (kind === 'iis') {
    const text = explainIisSubstatus(code) ?? { title: 'substatus', explanation: `IIS ${code}: look it up in the IIS HTTP status code list for the matching feature.` }
    return { summary: `IIS ${code}: ${text.title}`, count, explanation: withWin32(text, slot) }
  }
  if (kind === 'apache') {
    const text = explainApacheCause(code)
    if (text === null) return null
    return { summary: `Apache ${code === 'client-denied' ? '' : `${code} `}${text.title}`, count, explanation: text.explanation }
  }
  if (kind === 'nginx') {
    const text = explainNginxCause(code)
    if (text === null) return null
    return { summary: `nginx ${text.title}`, count, explanation: text.explanation }
  }
  if (kind === 'gatehouse') {
    const [layer, rule] = code.split(':')
    const text = explainGatehouseLayer(layer)
    return { summary: `Gatehouse ${layer}: ${text.title}${rule ? ` (${rule})` : ''}`, count, explanation: text.explanation }
  }
  return null
}

/**
 * Turns grouped denials into at most `maxClusters` clusters, largest first: one per cause
 * key, plus scanner-like clients (many distinct 403 paths) and a client that takes most of
 * the 403s. Scanner and client clusters overlap the path clusters of the same requests: they
 * answer "who", the others "which rule".
 */
export function buildClusters(input: ClusterInput): Cluster[] {
  const clusters: Cluster[] = []
  const scanners = new Set(input.clients.filter(([, slot]) => (slot.payload?.paths.size ?? 0) >= scannerPaths).map(([client]) => client))
  for (const [key, slot] of input.causes) {
    // Path groups made only by scanners are already explained by their scanner cluster.
    const clients = slot.payload?.clients
    if (key.startsWith('http:') && clients !== undefined && clients.size > 0 && [...clients].every((c) => scanners.has(c))) continue
    const cluster = explainCause(key, slot.count - slot.error, slot.payload, input)
    if (cluster !== null) clusters.push(cluster)
  }
  for (const [client, slot] of input.clients) {
    const count = slot.count - slot.error
    const distinct = slot.payload?.paths.size ?? 0
    if (distinct >= scannerPaths && count >= scannerPaths) {
      clusters.push({
        summary: `scanner-like client ${client}: 403 on ${distinct}+ different paths`,
        count,
        explanation: 'One client probing many paths is a scanner or crawler and the 403s are defences working; if it is your own monitor or a partner, allow its address, otherwise block it earlier (firewall, CDN).',
      })
    } else if (input.denied403 >= 10 && count * 2 >= input.denied403) {
      clusters.push({
        summary: `one client, ${client}, got ${Math.round((count * 100) / input.denied403)}% of the 403s`,
        count,
        explanation: 'An address-based rule (deny, Require ip, ipSecurity, WAF IP reputation) probably targets this client; check whether the address is a proxy or NAT that many users share, and whether the server sees the real client address.',
      })
    }
  }
  return clusters.sort((a, b) => b.count - a.count || (a.summary < b.summary ? -1 : 1)).slice(0, maxClusters)
}
