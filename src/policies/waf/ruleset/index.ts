import { codeInjectionSignatures } from './code-injection.js'
import { lfiSignatures } from './lfi.js'
import { protocolSignatures, scannerSignatures } from './protocol.js'
import { rceSignatures } from './rce.js'
import { rfiSignatures } from './rfi.js'
import { sqliSignatures } from './sqli.js'
import type { Signature } from './types.js'
import { xssSignatures } from './xss.js'

/** The whole rule set, written for Gatehouse (ideas from public knowledge of attack classes, no copied rules). */
export const signatures: readonly Signature[] = [
  ...sqliSignatures,
  ...xssSignatures,
  ...lfiSignatures,
  ...rfiSignatures,
  ...rceSignatures,
  ...codeInjectionSignatures,
  ...protocolSignatures,
  ...scannerSignatures,
]
