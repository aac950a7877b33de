import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { TLSSocket } from 'node:tls'
import type { GatehouseConfig } from '../config/schema.js'
import { GatewayError } from '../core/errors.js'
import type { ClientCertificate } from './context.js'

/** Reads the `tls:` files (paths relative to the config file). Throws GatewayError('config.tls') naming the file. */
export async function readTlsFiles(tls: NonNullable<GatehouseConfig['tls']>, baseDir: string): Promise<{ cert: Buffer; key: Buffer; ca?: Buffer }> {
  const read = async (path: string, what: string) => {
    try {
      return await readFile(resolve(baseDir, path))
    } catch (error) {
      throw new GatewayError('config.tls', `cannot read the TLS ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        remediation: `Check tls.${what} in the config; paths are relative to the config file.`,
      })
    }
  }
  const [cert, key, ca] = await Promise.all([read(tls.cert, 'cert'), read(tls.key, 'key'), tls.ca ? read(tls.ca, 'ca') : undefined])
  return ca ? { cert, key, ca } : { cert, key }
}

/** The peer certificate of an mTLS connection, as the authn layer sees it. */
export function readClientCertificate(socket: TLSSocket): ClientCertificate | undefined {
  if (typeof socket.getPeerCertificate !== 'function') return undefined
  const cert = socket.getPeerCertificate()
  if (!cert || Object.keys(cert).length === 0) return undefined
  const name = (n: Record<string, string | string[]> | undefined) =>
    n ? Object.entries(n).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(',') : ''
  const out: ClientCertificate = {
    subject: name(cert.subject as unknown as Record<string, string>),
    issuer: name(cert.issuer as unknown as Record<string, string>),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    validTo: cert.valid_to,
    authorized: socket.authorized,
  }
  if (cert.subjectaltname) out.subjectAltName = cert.subjectaltname
  if (!socket.authorized && socket.authorizationError) out.authorizationError = String(socket.authorizationError)
  return out
}
