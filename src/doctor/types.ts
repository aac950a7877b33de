/** A recorded HTTP exchange: what `doctor --replay` reads and `doctor --json` echoes (SPEC §4). */
export interface Exchange {
  request: {
    method: string
    url: string
    headers: Record<string, string>
    body?: string
  }
  response: {
    status: number
    headers: Record<string, string>
    body?: string
  }
}

/** Where in the stack a denial came from (SPEC §4 vocabulary). */
export type DoctorLayer =
  | 'waf' | 'cdn' | 'ip-filter' | 'server-config' | 'authn' | 'authz' | 'csrf' | 'cors'
  | 'rate-limit' | 'gateway' | 'geo' | 'upstream' | 'unknown'

/** One ranked explanation of a denial. */
export interface Diagnosis {
  /** Lowercase product slug (`cloudflare`, `aws-waf`, `nginx`, ...) or `unknown`. */
  producer: string
  layer: DoctorLayer
  cause: string
  /** 0..1 */
  confidence: number
  evidence: string[]
  remedies: string[]
}
