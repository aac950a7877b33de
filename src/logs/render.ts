import type { FileReport, TopEntry } from './types.js'

/** Styling hooks; the command passes ANSI ones only when colour is on. */
export interface RenderStyle {
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
}

/** No styling. */
export const plainStyle: RenderStyle = { bold: (t) => t, dim: (t) => t, red: (t) => t }

/** ANSI styling for terminals. */
export const ansiStyle: RenderStyle = {
  bold: (t) => `\u001b[1m${t}\u001b[22m`,
  dim: (t) => `\u001b[2m${t}\u001b[22m`,
  red: (t) => `\u001b[31m${t}\u001b[39m`,
}

function renderTop(label: string, entries: TopEntry[] | undefined, limit: number): string | null {
  if (entries === undefined || entries.length === 0) return null
  const shown = entries.slice(0, limit).map((e) => `${e.value} (${e.count})`)
  return `  top ${label}: ${shown.join(', ')}`
}

/** Renders one file's report for people: format, counts, top lists, spikes, clusters. */
export function renderFileReport(report: FileReport, style: RenderStyle = plainStyle): string {
  const out: string[] = []
  const s = report.status
  out.push(`${style.bold(report.file)}  ${style.dim(`(${report.format})`)}`)
  const skipped = report.skipped > 0 ? `, ${report.skipped} skipped` : ''
  out.push(`  ${report.lines} lines, ${report.records} records${skipped}`)
  const denied = s['403'] > 0 ? style.red(`403: ${s['403']}`) : '403: 0'
  out.push(`  ${denied}   401: ${s['401']}   429: ${s['429']}`)
  const t = report.top403
  for (const line of [
    renderTop('paths', t.path, 5),
    renderTop('clients', t.client, 5),
    renderTop('forwarded clients', t.forwardedClient, 5),
    renderTop('methods', t.method, 5),
    renderTop('rules', t.rule, 5),
    renderTop('substatus', t.substatus, 5),
  ]) {
    if (line !== null) out.push(line)
  }
  if (report.spikes.length > 0) {
    out.push(`  spikes (403s per minute): ${report.spikes.slice(0, 5).map((sp) => `${sp.minute} (${sp.count})`).join(', ')}${report.spikes.length > 5 ? ', …' : ''}`)
  }
  if (report.clusters.length > 0) {
    out.push('  likely causes:')
    for (const cluster of report.clusters) {
      out.push(`    ${style.bold(`${cluster.count}×`)} ${cluster.summary}`)
      out.push(`       ${style.dim(cluster.explanation)}`)
    }
  } else if (s['403'] + s['401'] + s['429'] === 0) {
    out.push('  no 401/403/429 in this log')
  }
  return `${out.join('\n')}\n`
}
