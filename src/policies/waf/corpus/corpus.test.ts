import { describe, expect, it } from 'vitest'
import { evaluateCorpus, formatReport } from './evaluate.js'

// Quality bar from the WAF issue: at paranoia 1, ≥ 95% of each family's payloads blocked (none
// below 85%), no ordinary request blocked, ≤ 2% of tricky legitimate ones blocked.
describe('WAF quality on the attack and benign corpus', () => {
  it('meets the detection and false-positive targets at paranoia 1', () => {
    const report = evaluateCorpus(1)
    console.log(formatReport(report))
    for (const row of report.attacks) expect(row.percent, `${row.group} detection`).toBeGreaterThanOrEqual(95)
    expect(report.ordinary.blocked).toBe(0)
    expect(report.tricky.percent).toBeLessThanOrEqual(2)
  })

  it('blocks no ordinary request at paranoia 2 either', () => {
    expect(evaluateCorpus(2).ordinary.blocked).toBe(0)
  })
})
