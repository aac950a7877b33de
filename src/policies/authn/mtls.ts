import type { ClientCertificate } from '../../gateway/context.js'
import { allow, type Allow, type ConsumerRecord } from '../define.js'
import { ExpiringCache, RANK, consumerIdentity, deepFreeze, failure, requireConsumer, type MethodCheck, type MethodFailure } from './method.js'
import { rules } from './rules.js'

/** One `auth.mtls.consumers` entry after schema parsing: every given criterion must match. */
export interface MtlsMapping {
  subject?: string
  fingerprint256?: string
  san?: string
  consumer: string
}

/** `auth.mtls` after schema parsing. */
export interface MtlsOptions {
  consumers: MtlsMapping[]
}

interface CompiledMapping {
  attributes?: [string, string][]
  fingerprint?: string
  san?: string
  verdict: Allow
}

/** Distinct certificates remembered per config load; a certificate's fields never change. */
const MAX_CACHED = 1000
const FOREVER = Number.POSITIVE_INFINITY

/** `AB:cd:01` → `ABCD01`, the form fingerprints are compared in. */
export function normalizeFingerprint(value: string): string {
  return value.replaceAll(':', '').toUpperCase()
}

/**
 * Splits a distinguished name as Node prints it (`CN=app,O=Acme` or one attribute per line)
 * into [type, value] pairs. Escaped commas inside values are rare in client certificates and
 * are not supported: such an entry simply does not match.
 */
export function parseDistinguishedName(dn: string): [string, string][] {
  const pairs: [string, string][] = []
  for (const part of dn.split(/[,\n]/)) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    pairs.push([part.slice(0, eq).trim().toUpperCase(), part.slice(eq + 1).trim()])
  }
  return pairs
}

/** Entries of Node's subjectAltName string (`DNS:a, URI:spiffe://x`), type upper-cased. */
function sanEntries(value: string | undefined): string[] {
  if (value === undefined || value === '') return []
  return value.split(', ').map(normalizeSan)
}

function normalizeSan(entry: string): string {
  const colon = entry.indexOf(':')
  return colon === -1 ? entry.trim() : `${entry.slice(0, colon).trim().toUpperCase()}:${entry.slice(colon + 1).trim()}`
}

/**
 * Compiles the `mtls` method: the TLS layer already verified the chain against the
 * configured CA (`ctx.clientCert.authorized`); this maps a verified certificate to a
 * consumer by subject attributes, SHA-256 fingerprint and/or a subject alternative name.
 * A subject criterion matches when every attribute it lists equals the certificate's (so
 * `CN=orders-client` matches `CN=orders-client,O=Acme`).
 */
export function compileMtls(options: MtlsOptions, consumersByName: ReadonlyMap<string, ConsumerRecord>, where: string): { check: MethodCheck } {
  const mappings: CompiledMapping[] = options.consumers.map((entry, i) => {
    const consumer = requireConsumer(consumersByName, entry.consumer, `mtls.consumers[${i}].consumer`, where)
    const claims = { certificate: entry.fingerprint256 !== undefined ? normalizeFingerprint(entry.fingerprint256).slice(0, 16) : (entry.subject ?? entry.san ?? '') }
    return {
      attributes: entry.subject === undefined ? undefined : parseDistinguishedName(entry.subject),
      fingerprint: entry.fingerprint256 === undefined ? undefined : normalizeFingerprint(entry.fingerprint256),
      san: entry.san === undefined ? undefined : normalizeSan(entry.san),
      verdict: deepFreeze(allow({ identity: consumerIdentity(consumer, 'mtls', claims), detail: { method: 'mtls', consumer: consumer.name, mapping: i } })),
    }
  })
  // Connections are reused, so the same certificate comes back request after request.
  const byCertificate = new ExpiringCache<Allow | MethodFailure>(MAX_CACHED)

  function resolve(cert: ClientCertificate): Allow | MethodFailure {
    const fingerprint = normalizeFingerprint(cert.fingerprint256)
    const subject = parseDistinguishedName(cert.subject)
    const sans = sanEntries(cert.subjectAltName)
    for (const m of mappings) {
      if (m.fingerprint !== undefined && m.fingerprint !== fingerprint) continue
      if (m.san !== undefined && !sans.includes(m.san)) continue
      if (m.attributes !== undefined && !m.attributes.every(([type, value]) => subject.some(([t, v]) => t === type && v === value))) continue
      return m.verdict
    }
    return failure(
      rules.mtlsUnknownCertificate,
      RANK.unknown,
      'Your client certificate is valid but not registered for this API.',
      `No auth.mtls.consumers entry of ${where} matches the certificate with subject '${cert.subject}', SHA-256 fingerprint ${cert.fingerprint256}${cert.subjectAltName === undefined ? '' : ` and SAN '${cert.subjectAltName}'`}. Add an entry (subject, fingerprint256 or san) naming its consumer.`,
      { subject: cert.subject, issuer: cert.issuer, fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber },
    )
  }

  const check: MethodCheck = (ctx) => {
    const cert = ctx.clientCert
    if (!ctx.secure || cert === undefined) return undefined
    if (!cert.authorized) {
      const reason = cert.authorizationError ?? 'unknown'
      return failure(
        rules.mtlsUntrusted,
        RANK.badProof,
        `Your client certificate was not accepted (${reason}).`,
        `The certificate with subject '${cert.subject}' issued by '${cert.issuer}' does not verify against tls.ca: ${reason}. Renew it if it expired, or issue it from the configured CA.`,
        { authorizationError: reason, subject: cert.subject, issuer: cert.issuer, fingerprint256: cert.fingerprint256, validTo: cert.validTo },
      )
    }
    // The fingerprint alone identifies a certificate; subject and SAN are in the key too so
    // a listener that reports no fingerprint can never make two certificates share a verdict.
    const memoKey = `${cert.fingerprint256}|${cert.subject}|${cert.subjectAltName ?? ''}`
    const cached = byCertificate.get(memoKey, 0)
    if (cached !== undefined) return cached
    const outcome = resolve(cert)
    byCertificate.set(memoKey, outcome, FOREVER)
    return outcome
  }

  return { check }
}
