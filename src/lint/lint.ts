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
  const analysed =
    format === 'nginx'
      ? analyse(parseNginxFile(abs, displayPath), evaluateNginx, findRiskyNginxRules, options.request)
      : format === 'apache'
        ? analyse(parseApacheFile(abs, displayPath), evaluateApache, findRiskyApacheRules, options.request)
        : analyse(parseIisFile(abs, displayPath), evaluateIis, findRiskyIisRules, options.request)
  const { findings, verdict, trail } = analysed
  return { file, format, verdict, findings: sortFindings(dedupe(findings), file), ...(trail ? { trail } : {}) }
}

/** One format's pass: its parse findings, then either the request's verdict or the risky rules. */
function analyse<Config extends { findings: readonly Finding[] }, Request>(
  config: Config,
  evaluate: (config: Config, request: Request) => { verdict: LintReport['verdict']; trail?: string[]; findings: readonly Finding[] },
  risky: (config: Config) => readonly Finding[],
  request: Request | undefined,
): { findings: Finding[]; verdict: LintReport['verdict']; trail?: string[] } {
  const findings = [...config.findings]
  if (request === undefined) return { findings: [...findings, ...risky(config)], verdict: null }
  const result = evaluate(config, request)
  return { findings: [...findings, ...result.findings], verdict: result.verdict, trail: result.trail }
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
