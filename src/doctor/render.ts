import type { Diagnosis } from './types.js'

const ansi = { bold: '\u001b[1m', dim: '\u001b[2m', green: '\u001b[32m', yellow: '\u001b[33m', red: '\u001b[31m', reset: '\u001b[0m' }

/** How many remedies to print per diagnosis; `--json` carries them all. */
const maxFixes = 3

/**
 * Renders ranked diagnoses as short human-readable text, one numbered block each:
 *
 * ```
 * 1. cloudflare · waf  (92%)
 *    cause: ...
 *    evidence: header cf-ray, body: error code: 1020
 *    fix: ...
 * ```
 * Colour (ANSI) only when `options.color` is set.
 */
export function renderDiagnoses(diagnoses: Diagnosis[], options: { color: boolean }): string {
  if (diagnoses.length === 0) return 'no diagnosis\n'
  const paint = (code: string, text: string) => (options.color ? `${code}${text}${ansi.reset}` : text)
  const blocks = diagnoses.map((diagnosis, index) => {
    const percent = Math.round(Math.max(0, Math.min(1, diagnosis.confidence)) * 100)
    const tone = percent >= 80 ? ansi.green : percent >= 50 ? ansi.yellow : ansi.dim
    const heading = `${index + 1}. ${paint(ansi.bold, `${diagnosis.producer} · ${diagnosis.layer}`)}  ${paint(tone, `(${percent}%)`)}`
    const lines = [heading, `   cause: ${diagnosis.cause}`]
    if (diagnosis.evidence.length > 0) lines.push(`   evidence: ${paint(ansi.dim, diagnosis.evidence.join(', '))}`)
    const fixes = diagnosis.remedies.slice(0, maxFixes)
    fixes.forEach((remedy, fixIndex) => lines.push(`   ${fixIndex === 0 ? 'fix:' : '    '} ${remedy}`))
    if (diagnosis.remedies.length > maxFixes) lines.push(`        ${paint(ansi.dim, `(+${diagnosis.remedies.length - maxFixes} more with --json)`)}`)
    return lines.join('\n')
  })
  return `${blocks.join('\n\n')}\n`
}
