import { createRequire } from 'node:module'
import type { Family } from './rules.js'
import { PlainRouter, plainVerdictOf, type PlainVerdict } from './alphabet.js'
import { addressOf, quietAddressOf, quietLocations, type NativeFinding, type Payload } from './inputs.js'
import { signatures } from './ruleset/index.js'
import { severityScore, type Severity, type Signature } from './ruleset/types.js'

interface DdwafEvent {
  rule?: { id?: string }
  rule_matches?: { parameters?: { address?: string; key_path?: (string | number)[]; value?: string; highlight?: string[] }[] }[]
}
interface DdwafResult {
  timeout: boolean
  events?: DdwafEvent[]
  errorCode?: number
}
interface DdwafContext {
  run(payload: { persistent?: object; ephemeral?: object }, timeoutMicros: number): DdwafResult
  dispose(): void
}
interface DdwafHandle {
  createContext(): DdwafContext
  readonly diagnostics: { rules?: { loaded?: string[]; failed?: string[]; errors?: Record<string, string[]> } }
}
interface DdwafModule {
  DDWAF: new (rules: object, path: string, config?: { obfuscatorKeyRegex?: string; obfuscatorValueRegex?: string }) => DdwafHandle
}

// @datadog/native-appsec is a CommonJS native addon without ESM types worth importing.
const require = createRequire(import.meta.url)
const { DDWAF } = require('@datadog/native-appsec') as DdwafModule

/** One signature that matched, with where. */
export interface WafMatch {
  ruleId: string
  family: Family
  paranoia: number
  severity: Severity
  score: number
  /** Field path, e.g. `json.address.line1`. */
  field: string
  /** The matched value as the engine saw it (not yet redacted: engine.ts callers redact). */
  value: string
}

export type EngineOutcome = { ok: true; matches: WafMatch[] } | { ok: false; reason: 'timeout' | 'error'; matches: WafMatch[]; message?: string }

const byId = new Map(signatures.map((s) => [s.id, s]))
const nativeByCheck = new Map(signatures.filter((s) => s.match.op === 'native').map((s) => [(s.match as { check: string }).check, s]))

// Worked out on first use (a few hundred ms of regex analysis), not when a CLI command imports this.
const plainVerdicts = new Map<string, PlainVerdict>()
function verdictOf(s: Signature): PlainVerdict {
  let verdict = plainVerdicts.get(s.id)
  if (verdict === undefined) {
    verdict = plainVerdictOf(s)
    plainVerdicts.set(s.id, verdict)
  }
  return verdict
}

/**
 * The addresses a signature reads in the quiet handle: the quiet addresses of its locations. Only
 * signatures without a gate go there (alphabet.ts): values at those addresses are plain and opened
 * no gate, so a gated signature cannot match them. libddwaf spends ~0.2 µs per loaded rule on every
 * run, so the quiet values get a handle of their own with only those few rules.
 */
function quietAddressesOf(s: Signature): string[] {
  const out: string[] = []
  for (const location of quietLocations) if (s.on.includes(location)) out.push(quietAddressOf[location])
  return out
}

const quietAddresses: ReadonlySet<string> = new Set(Object.values(quietAddressOf))

function conditionOf(s: Signature, addresses: readonly string[]): object {
  const inputs = addresses.map((address) => ({ address }))
  const m = s.match
  if (m.op === 'is_sqli' || m.op === 'is_xss') return { operator: m.op, parameters: { inputs } }
  if (m.op === 'regex') {
    // After a `lowercase` transformer the patterns (written in lower case) can match case-sensitively,
    // which RE2 does faster than case-folding.
    const caseSensitive = m.caseSensitive === true || (s.transforms ?? []).includes('lowercase')
    return { operator: 'match_regex', parameters: { inputs, regex: m.regex, options: { case_sensitive: caseSensitive, min_length: m.minLength ?? 0 } } }
  }
  if (m.op === 'phrase') return { operator: 'phrase_match', parameters: { inputs, list: m.list, options: { enforce_word_boundary: m.wordBoundary === true } } }
  throw new Error(`unreachable operator in ${s.id}`)
}

function ruleOf(s: Signature, addresses: readonly string[]): object {
  return {
    id: s.id,
    name: s.name,
    // A unique type per rule: libddwaf reports one match per type, and we want every signature
    // that matches (for the score, and so an exclusion never hides another match).
    tags: { type: s.id, family: s.family, category: 'attack_attempt', paranoia: String(s.paranoia), severity: s.severity },
    conditions: [conditionOf(s, addresses)],
    transformers: s.transforms ?? [],
  }
}

/**
 * Turns our signatures into libddwaf's rule format (schema version 2.2), reading the addresses of
 * their locations, or with `quiet` only the signatures without a gate, reading the quiet addresses.
 */
export function toDdwafRules(list: readonly Signature[], quiet = false): object {
  const rules = list
    .filter((s) => s.match.op !== 'native' && (!quiet || (verdictOf(s).kind === 'always' && quietAddressesOf(s).length > 0)))
    .map((s) => ruleOf(s, quiet ? quietAddressesOf(s) : s.on.map((location) => addressOf[location])))
  return { version: '2.2', metadata: { rules_version: 'gatehouse-1' }, rules }
}

function createHandle(rules: object): DdwafHandle {
  // No obfuscator: we redact excerpts ourselves and never store whole values.
  const handle = new DDWAF(rules, 'gatehouse/waf', { obfuscatorKeyRegex: '', obfuscatorValueRegex: '' })
  const failed = handle.diagnostics.rules?.failed ?? []
  if (failed.length > 0) throw new Error(`WAF signatures failed to load: ${failed.join(', ')} ${JSON.stringify(handle.diagnostics.rules?.errors)}`)
  warmUp(handle)
  return handle
}

// The handles of each paranoia level, shared by every route and kept across config reloads: the
// rule set depends only on the level (exclusions are applied by us), so a reload costs nothing and
// no native handle is leaked per reload.
const handles = new Map<number, DdwafHandle>()
const quietHandles = new Map<number, DdwafHandle>()

/** The compiled libddwaf handle for a paranoia level. Throws when a signature fails to load (a bug). */
export function handleFor(paranoia: number): DdwafHandle {
  let handle = handles.get(paranoia)
  if (handle === undefined) {
    handle = createHandle(toDdwafRules(signatures.filter((s) => s.paranoia <= paranoia)))
    handles.set(paranoia, handle)
  }
  return handle
}

/** The handle for the quiet addresses of a paranoia level: only the signatures without a gate. */
export function quietHandleFor(paranoia: number): DdwafHandle {
  let handle = quietHandles.get(paranoia)
  if (handle === undefined) {
    handle = createHandle(toDdwafRules(signatures.filter((s) => s.paranoia <= paranoia), true))
    quietHandles.set(paranoia, handle)
  }
  return handle
}

const routers = new Map<number, PlainRouter>()

/**
 * The router of a paranoia level, built from the gates of the signatures that read a quiet location.
 * One router serves every location: a gate of a header-only signature opening on a body value only
 * sends that value to the full handle, and one table is a quarter of the start-up work.
 */
export function routerFor(paranoia: number): PlainRouter {
  let router = routers.get(paranoia)
  if (router === undefined) {
    const gates: string[][][] = []
    for (const s of signatures) {
      if (s.paranoia > paranoia || !quietLocations.some((l) => s.on.includes(l))) continue
      const verdict = verdictOf(s)
      if (verdict.kind === 'gated') gates.push(verdict.gate)
    }
    router = new PlainRouter(gates)
    routers.set(paranoia, router)
  }
  return router
}

// libddwaf finishes setting up its matchers on first use, which made the first requests after a
// start take 20+ ms and run into the timeout; a few throwaway runs at compile time absorb that.
function warmUp(handle: DdwafHandle): void {
  const samples = ["1' or '1'='1", '<img src=x onerror=alert(1)>', '../../etc/passwd', 'http://a.example/x?', '; cat /etc/passwd', '${jndi:ldap://a}', 'hello world']
  for (let round = 0; round < 3; round++) {
    const payload: Record<string, { [field: string]: string[] }[]> = {}
    for (const address of [...Object.values(addressOf), ...Object.values(quietAddressOf)]) payload[address] = [{ warm: samples }]
    const context = handle.createContext()
    try {
      context.run({ persistent: payload }, 1_000_000)
    } finally {
      context.dispose()
    }
  }
}

function matchOf(signature: Signature, field: string, value: string): WafMatch {
  const score = severityScore[signature.severity]
  return { ruleId: signature.id, family: signature.family, paranoia: signature.paranoia, severity: signature.severity, score, field, value }
}

/** The two libddwaf handles of a paranoia level: every signature on the usual addresses, and the quiet one. */
export interface EngineHandles {
  full: DdwafHandle
  quiet: DdwafHandle
}

/**
 * Scores the native findings, then runs each payload through libddwaf in a fresh context with
 * `timeoutMicros`: its quiet addresses through the quiet handle, the rest through the full one
 * (each only when it has something). The payload under '' holds every field no exclusion covers;
 * each other payload holds the fields of one exclusion class, and matches there that `isExcluded`
 * covers are dropped (all fields of a class share their exclusions, so a dropped match never hides
 * a kept one). A signature counts once per request.
 */
export function runEngine(
  handles: EngineHandles,
  payloads: Map<string, Payload>,
  findings: NativeFinding[],
  paranoia: number,
  timeoutMicros: number,
  isExcluded: (ruleId: string, family: Family, field: string) => boolean,
): EngineOutcome {
  const matches: WafMatch[] = []
  const seen = new Set<string>()
  for (const finding of findings) {
    const signature = nativeByCheck.get(finding.check)
    if (signature === undefined || signature.paranoia > paranoia || seen.has(signature.id)) continue
    if (isExcluded(signature.id, signature.family, finding.field)) continue
    seen.add(signature.id)
    matches.push(matchOf(signature, finding.field, finding.excerpt))
  }
  let retried = false
  for (const [cls, payload] of payloads) {
    let quiet: Payload | undefined
    let rest: Payload | undefined
    for (const address of Object.keys(payload)) {
      if (quietAddresses.has(address)) (quiet ??= {})[address] = payload[address]
      else (rest ??= {})[address] = payload[address]
    }
    for (const [handle, part] of [[handles.full, rest], [handles.quiet, quiet]] as const) {
      if (part === undefined) continue
      let result = runOnce(handle, part, timeoutMicros)
      // One retry on a timeout: on a busy machine a run is sometimes descheduled mid-way, and
      // failing open on that would let an attack through. A request that is really too costly
      // times out twice and is reported. The budget is per run, as it already was per exclusion
      // class; a quiet run takes tens of microseconds.
      if ('timeout' in result && result.timeout && !retried) {
        retried = true
        result = runOnce(handle, part, timeoutMicros)
      }
      if ('error' in result) return { ok: false, reason: 'error', matches, message: result.error }
      for (const event of result.events ?? []) {
        const id = event.rule?.id
        const parameter = event.rule_matches?.[0]?.parameters?.[0]
        const signature = id === undefined ? undefined : byId.get(id)
        if (signature === undefined || seen.has(signature.id)) continue
        if (signature.match.op === 'is_sqli' && !isConvincingSqli(parameter?.highlight?.[0], parameter?.value ?? '')) continue
        // key_path is [group index, field, value index...]; see inputs.ts.
        const field = String(parameter?.key_path?.[1] ?? parameter?.address ?? '')
        if (cls !== '' && isExcluded(signature.id, signature.family, field)) continue
        seen.add(signature.id)
        matches.push(matchOf(signature, field, parameter?.value ?? ''))
      }
      if (result.timeout) return { ok: false, reason: 'timeout', matches }
      if (result.errorCode !== undefined && result.errorCode < 0) return { ok: false, reason: 'error', matches, message: `libddwaf error ${result.errorCode}` }
    }
  }
  return { ok: true, matches }
}

function runOnce(handle: DdwafHandle, payload: Payload, timeoutMicros: number): DdwafResult | { error: string } {
  const context = handle.createContext()
  try {
    return context.run({ persistent: payload }, timeoutMicros)
  } catch (error) {
    return { error: (error as Error).message }
  } finally {
    context.dispose()
  }
}

/**
 * libinjection flags arithmetic and boolean prose such as "5 * 3 = 15 and 10 / 2 = 5" or
 * "if (a && b || !c)" (fingerprints like `1&1`, `f(n&n`, `v&n`). A fingerprint counts only when it
 * has a string, comment, keyword, UNION/SELECT-like or statement token, or a function right after a
 * logic operator; the numeric tautologies it then drops ("1 OR 1=1") are caught by sqli-011.
 */
export function isConvincingSqli(fingerprint: string | undefined, value: string): boolean {
  if (fingerprint === undefined || fingerprint === '') return true
  // Comment padding (1/**/or/**/1=1) is not prose.
  if (value.includes('/*')) return true
  // A value that reads as a whole statement ("SELECT COUNT(*) FROM t", a snippet on a developer
  // forum) is not an injection into one: injections start by closing a string or number.
  if (fingerprint[0] === 'E' && startsWithLetter(value)) return false
  if (/[scUEkTBX;]/.test(fingerprint)) return true
  return /[&o]f|\(E/.test(fingerprint)
}

/** First non-whitespace character is a letter (a hand-written check: no JS RegExp on request data). */
function startsWithLetter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13)) continue
    return (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
  }
  return false
}

/** The signature behind an id, for docs and tests. */
export function signatureOf(id: string): Signature | undefined {
  return byId.get(id)
}
