/**
 * Broken infrastructure or a bug: the only thing that is thrown. Denials are values.
 * Match on `code` (`store.unreachable`, `config.invalid`, `upstream.timeout`...).
 */
export class GatewayError extends Error {
  readonly code: string
  readonly remediation?: string

  constructor(code: string, message: string, options: { remediation?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    this.remediation = options.remediation
  }
}

export function isGatewayError(error: unknown, code?: string): error is GatewayError {
  return error instanceof GatewayError && (code === undefined || error.code === code)
}
