import { readFileSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { detectFormat } from './detect.js'
import { evaluateNginx } from './nginx/evaluate.js'
import { parseNginxFile } from './nginx/parse.js'
import { findRiskyNginxRules } from './nginx/risky.js'
import { evaluateApache } from './apache/evaluate.js'
import { parseApacheFile } from './apache/parse.js'
import { findRiskyApacheRules } from './apache/risky.js'
import { evaluateIis } from './iis/evaluate.js'
import { parseIisFile } from './iis/parse.js'
import { findRiskyIisRules } from './iis/risky.js'
import type { ConfigFormat, Finding, LintReport, LintRequest } from './types.js'

/** Largest main config file read. */
export const maxConfigBytes = 2_000_000

/** A config that cannot be linted at all: missing, unreadable, too big, unknown dialect. */
export class LintInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LintInputError'
  }
}

/** Options for `lintConfig`. */
export interface LintOptions {
  /** Overrides detection. */
  format?: ConfigFormat
  /** Evaluate this request; without it, risky rules are listed instead. */
  request?: LintRequest
  /** Paths in output are shown relative to it. */
  cwd?: string
}

/**
 * Lints one config file. With a request, finds the directive that denies it (the verdict)
 * and notes what could not be evaluated; without one, lists risky rules. Throws
 * LintInputError when the file cannot be read or its dialect is unknown.
 */
export function lintConfig(file: string, options: LintOptions = {}): LintReport {
  const cwd = options.cwd ?? process.cwd()
  const abs = isAbsolute(file) ? file : resolve(cwd, file)
  let text: string
  try {
    const st = statSync(abs)
    if (!st.isFile()) throw new LintInputError(`${file} is not a file`)
    if (st.size > maxConfigBytes) throw new LintInputError(`${file} is larger than ${maxConfigBytes} bytes`)
    text = readFileSync(abs, 'utf8')
  } catch (error) {
    if (error instanceof LintInputError) throw error
    throw new LintInputError(`cannot read ${file}: ${error instanceof Error ? error.message.replace(/^[A-Z]+: /, '') : String(error)}`)
  }
  const format = options.format ?? detectFormat(abs, text)
  if (!format) throw new LintInputError(`cannot tell whether ${file} is nginx, Apache or IIS config; pass --format nginx|apache|iis`)
  const displayPath = (p: string) => {
    if (p === abs) return file
    const rel = relative(cwd, p)
    return rel.startsWith('..') || isAbsolute(rel) ? p : rel
  }
  let findings: Finding[]
  let verdict: LintReport['verdict'] = null
  let trail: string[] | undefined
  if (format === 'nginx') {
    const config = parseNginxFile(abs, displayPath)
    findings = [...config.findings]
    if (options.request) {
      const result = evaluateNginx(config, options.request)
      verdict = result.verdict
      trail = result.trail
      findings.push(...result.findings)
    } else {
      findings.push(...findRiskyNginxRules(config))
    }
  } else if (format === 'apache') {
    const config = parseApacheFile(abs, displayPath)
    findings = [...config.findings]
    if (options.request) {
      const result = evaluateApache(config, options.request)
      verdict = result.verdict
      trail = result.trail
      findings.push(...result.findings)
    } else {
      findings.push(...findRiskyApacheRules(config))
    }
  } else {
    const config = parseIisFile(abs, displayPath)
    findings = [...config.findings]
    if (options.request) {
      const result = evaluateIis(config, options.request)
      verdict = result.verdict
      trail = result.trail
      findings.push(...result.findings)
    } else {
      findings.push(...findRiskyIisRules(config))
    }
  }
  return { file, format, verdict, findings: sortFindings(dedupe(findings), file), ...(trail ? { trail } : {}) }
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>()
  return findings.filter((f) => {
    const key = `${f.file}:${f.line}:${f.col}:${f.rule}:${f.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Main file first, then by file, line, column. */
function sortFindings(findings: Finding[], main: string): Finding[] {
  return [...findings].sort((a, b) => {
    if (a.file !== b.file) return a.file === main ? -1 : b.file === main ? 1 : a.file.localeCompare(b.file)
    return (a.line ?? 0) - (b.line ?? 0) || a.col - b.col
  })
}
