import type { Denial } from '../core/denial.js'
import type { Allow, Verdict } from '../policies/define.js'

function settled(verdict: Verdict | Promise<Verdict>): Verdict {
  // Sync policies must answer without a Promise: the hot path allocates none for them.
  if (verdict instanceof Promise) throw new Error('expected a synchronous verdict, got a Promise')
  return verdict
}

/** The denial of a verdict that must be a synchronous deny; throws (failing the test) otherwise. */
export function denialOf(verdict: Verdict | Promise<Verdict>): Denial {
  const v = settled(verdict)
  if (v.kind !== 'deny') throw new Error(`expected a denial, got ${JSON.stringify(v)}`)
  return v.denial
}

/** A verdict that must be a synchronous allow; throws (failing the test) otherwise. */
export function allowOf(verdict: Verdict | Promise<Verdict>): Allow {
  const v = settled(verdict)
  if (v.kind !== 'allow') throw new Error(`expected allow, got ${v.kind === 'deny' ? v.denial.rule : v.kind}`)
  return v
}
