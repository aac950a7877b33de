import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument, visit, isScalar, type Document } from 'yaml'
import type { z } from 'zod'
import { policies } from '../policies/index.js'
import { requestPlaceholderNames } from '../policies/transform/placeholders.js'
import { createConfigSchema, type GatehouseConfig } from './schema.js'
import { formatPath, locatePath } from './locate.js'
import { checkConfigReferences } from './references.js'

/** One thing wrong with a config file, located in the source. */
export interface ConfigProblem {
  file: string
  line: number
  col: number
  /** Schema path, e.g. `routes[0].policies.ip.allow[2]`; '' for the whole file. */
  path: string
  message: string
  severity: 'error' | 'warning'
}

export type LoadResult =
  | { ok: true; config: Readonly<GatehouseConfig>; file: string; baseDir: string; warnings: ConfigProblem[] }
  | { ok: false; file: string; problems: ConfigProblem[] }

const configSchema = createConfigSchema(policies)

/** `file:line:col key: message`, the format `gatehouse check` prints. */
export function formatProblem(problem: ConfigProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.col}`
  const label = problem.severity === 'warning' ? 'warning: ' : ''
  return problem.path ? `${where} ${problem.path}: ${label}${problem.message}` : `${where} ${label}${problem.message}`
}

/** Reads, interpolates and validates a config file. Never throws for bad input. */
export async function loadConfigFile(path: string, env: Record<string, string | undefined> = process.env): Promise<LoadResult> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const message = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(error)})`
    return { ok: false, file: path, problems: [{ file: path, line: 1, col: 1, path: '', message, severity: 'error' }] }
  }
  return loadConfigText(text, path, env, dirname(file))
}

/** Validates config source text; `displayName` is used in problem locations. */
export function loadConfigText(
  text: string,
  displayName: string,
  env: Record<string, string | undefined> = process.env,
  baseDir = process.cwd(),
): LoadResult {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const problems: ConfigProblem[] = []
  const at = (path: readonly PropertyKey[], message: string, key?: string, severity: 'error' | 'warning' = 'error') => {
    const pos = locatePath(doc, lines, path, key)
    problems.push({ file: displayName, line: pos.line, col: pos.col, path: formatPath(key === undefined ? path : [...path, key]), message, severity })
  }

  for (const error of doc.errors) {
    const pos = lines.linePos(error.pos[0])
    problems.push({ file: displayName, line: pos.line, col: pos.col, path: '', message: `YAML: ${firstLine(error.message)}`, severity: 'error' })
  }
  if (problems.length > 0) return { ok: false, file: displayName, problems }

  interpolateEnv(doc, env, (offset, message) => {
    const pos = lines.linePos(offset)
    problems.push({ file: displayName, line: pos.line, col: pos.col, path: '', message, severity: 'error' })
  })

  let raw: unknown
  try {
    raw = doc.toJS() ?? {}
  } catch (error) {
    // yaml throws, instead of reporting, for an alias without its anchor and for alias bombs.
    let offset = 0
    visit(doc, { Alias(_key, node) { offset = node.range?.[0] ?? 0; return visit.BREAK } })
    const pos = lines.linePos(offset)
    problems.push({ file: displayName, line: pos.line, col: pos.col, path: '', message: `YAML: ${firstLine((error as Error).message)}`, severity: 'error' })
    return { ok: false, file: displayName, problems }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push({ file: displayName, line: 1, col: 1, path: '', message: 'expected a mapping of settings (listen, upstreams, routes, ...)', severity: 'error' })
    return { ok: false, file: displayName, problems }
  }

  const parsed = configSchema.safeParse(raw, { reportInput: true })
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(issue, at)
  }
  for (const finding of checkConfigReferences(raw, env)) at(finding.path, finding.message, undefined, finding.severity)

  if (parsed.success) {
    parsed.data.routes.forEach((route, i) => {
      const configs = route.policies as Record<string, unknown>
      for (const policy of policies) {
        const config = configs[policy.configKey]
        if (config === undefined || !policy.lint) continue
        for (const finding of policy.lint(config, { name: route.name, policies: configs })) {
          at(['routes', i, 'policies', policy.configKey, ...finding.path], finding.message, undefined, 'warning')
        }
      }
    })
  }

  const errors = problems.filter((p) => p.severity === 'error')
  if (errors.length > 0 || !parsed.success) return { ok: false, file: displayName, problems: sortProblems(problems) }
  return {
    ok: true,
    config: deepFreeze(parsed.data),
    file: displayName,
    baseDir,
    warnings: sortProblems(problems.filter((p) => p.severity === 'warning')),
  }
}

type IssueReporter = (path: readonly PropertyKey[], message: string, key?: string) => void

function reportIssue(issue: z.core.$ZodIssue, at: IssueReporter): void {
  if (issue.code === 'unrecognized_keys') {
    const isPolicies = issue.path[issue.path.length - 1] === 'policies'
    for (const key of issue.keys) {
      const message = isPolicies
        ? `unknown policy '${key}'; known policies: ${policies.map((p) => p.configKey).join(', ')}`
        : `unknown key '${key}'`
      at(issue.path, message, key)
    }
    return
  }
  if (issue.code === 'invalid_union') {
    // Report the branch that got furthest instead of zod's generic "invalid input".
    const branches = issue.errors.filter((b) => b.length > 0)
    const best = branches.sort((a, b) => deepest(b) - deepest(a))[0]
    if (best) {
      for (const inner of best) reportIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, at)
      return
    }
  }
  at(issue.path, humanize(issue))
}

function deepest(issues: z.core.$ZodIssue[]): number {
  return Math.max(...issues.map((i) => i.path.length))
}

function humanize(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const received = (issue as { input?: unknown }).input
    if (received === undefined) return `required (expected ${issue.expected})`
    return `expected ${issue.expected}, got ${describeValue(received)}`
  }
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
  return issue.message
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  const shown = JSON.stringify(value)
  return `${typeof value} ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`
}

/** Replaces `${NAME}` and `${NAME:-default}` inside string scalars, keeping positions. */
function interpolateEnv(doc: Document, env: Record<string, string | undefined>, report: (offset: number, message: string) => void): void {
  const pattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return
      node.value = node.value.replace(pattern, (m: string, name: string, fallback: string | undefined) => {
        // Transform placeholders (${consumer}, ...) are filled per request, not from the environment.
        if (fallback === undefined && requestPlaceholderNames.has(name)) return m
        const value = env[name]
        if (value !== undefined && value !== '') return value
        if (fallback !== undefined) return fallback
        report(node.range?.[0] ?? 0, `environment variable ${name} is not set (write \${${name}:-default} for a default)`)
        return ''
      })
    },
  })
}

function firstLine(message: string): string {
  const nl = message.indexOf('\n')
  return nl === -1 ? message : message.slice(0, nl)
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col)
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
