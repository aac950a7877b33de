import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js'

/** Variables a rule expression may read; anything else is refused when the config loads. */
export const RULE_VARIABLES = ['identity', 'request', 'params', 'body', 'client', 'time'] as const
export type RuleVariable = (typeof RULE_VARIABLES)[number]

/** Longest rule expression accepted, in characters. */
export const MAX_EXPRESSION_CHARS = 1024

/** Macros that loop over a list or map; their cost grows with the data they walk. */
const LOOP_MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter'])

/**
 * A value an expression reads, such as `identity.tenant` or `request.headers["x-tenant"]`:
 * what a denial reports under `saw`.
 */
export interface ExpressionReference {
  /** As written for people: `request.headers["x-tenant"]`. */
  label: string
  root: RuleVariable
  /** Keys below the root, in order. */
  steps: (string | number)[]
}

export interface CompiledExpression {
  source: string
  run: ParseResult
  /** Root variables the expression reads, so only those are built per request. */
  roots: ReadonlySet<RuleVariable>
  references: readonly ExpressionReference[]
}

export type ExpressionCompile = { ok: true; expression: CompiledExpression } | { ok: false; message: string }

// Creating an environment is the costly part; one serves every rule of every route.
const environment = createEnvironment()

function createEnvironment(): Environment {
  const env = new Environment({
    // Structural bounds at parse time; with no loops nested (checked below) evaluation is
    // linear in the request's size, which the body layer bounds.
    limits: { maxAstNodes: 256, maxDepth: 32, maxListElements: 256, maxMapEntries: 256, maxCallArguments: 8 },
  })
  for (const name of RULE_VARIABLES) env.registerVariable(name, name === 'body' ? 'dyn' : 'map')
  return env
}

/**
 * Parses and checks a rule expression once, at config load. Refuses what would be unsafe or
 * unbounded on the hot path: over-long expressions, unknown variables, non-boolean results,
 * `matches` (a backtracking JS RegExp run on request data), and loops nested in loops.
 */
export function tryCompileExpression(source: string): ExpressionCompile {
  if (source.length > MAX_EXPRESSION_CHARS) return { ok: false, message: `an expression is at most ${MAX_EXPRESSION_CHARS} characters` }
  let run: ParseResult
  try {
    run = environment.parse(source)
  } catch (error) {
    return { ok: false, message: `not a valid CEL expression: ${summaryOf(error)}` }
  }
  const checked = run.check()
  if (!checked.valid) return { ok: false, message: `not a valid CEL expression: ${summaryOf(checked.error)}` }
  if (checked.type !== 'bool' && checked.type !== 'dyn') return { ok: false, message: `the expression must be true or false, but it gives ${checked.type}` }

  const problem = findUnsafe(run.ast, false)
  if (problem !== undefined) return { ok: false, message: problem }
  const references = collectReferences(run.ast)
  const roots = new Set(references.map((r) => r.root))
  return { ok: true, expression: { source, run, roots, references } }
}

/** The one-line reason of a CEL error, without the source excerpt it carries in `message`. */
export function summaryOf(error: unknown): string {
  if (error && typeof error === 'object' && 'summary' in error && typeof error.summary === 'string') return error.summary
  const message = error instanceof Error ? error.message : String(error)
  const nl = message.indexOf('\n')
  return nl === -1 ? message : message.slice(0, nl)
}

function findUnsafe(node: ASTNode, insideLoop: boolean): string | undefined {
  if (node.op === 'call' || node.op === 'rcall') {
    const name = node.args[0]
    if (name === 'matches') {
      return "'matches' is not available in rules: it would run a backtracking regular expression on request data; use startsWith, endsWith or contains"
    }
    if (node.op === 'rcall' && LOOP_MACROS.has(name)) {
      if (insideLoop) return `loops cannot be nested ('${name}' inside another loop), which keeps the cost of a rule linear in the size of the request`
      const receiverProblem = findUnsafe(node.args[1], insideLoop)
      if (receiverProblem !== undefined) return receiverProblem
      for (const arg of node.args[2]) {
        const problem = findUnsafe(arg, true)
        if (problem !== undefined) return problem
      }
      return undefined
    }
  }
  for (const child of childrenOf(node)) {
    const problem = findUnsafe(child, insideLoop)
    if (problem !== undefined) return problem
  }
  return undefined
}

function childrenOf(node: ASTNode): ASTNode[] {
  switch (node.op) {
    case 'value':
    case 'id':
      return []
    case '.':
    case '.?':
      return [node.args[0]]
    case 'call':
      return node.args[1]
    case 'rcall':
      return [node.args[1], ...node.args[2]]
    case 'list':
      return node.args
    case 'map':
      return node.args.flat()
    case '!_':
    case '-_':
      return [node.args]
    default:
      return node.args as ASTNode[]
  }
}

/** The longest chains of field and literal-index reads that start at a rule variable. */
function collectReferences(ast: ASTNode): ExpressionReference[] {
  const found = new Map<string, ExpressionReference>()
  const visit = (node: ASTNode) => {
    const chain = chainOf(node)
    if (chain !== undefined) {
      if (!found.has(chain.label)) found.set(chain.label, chain)
      return
    }
    // A read with a computed index (`request.headers[x]`) reports its container, then the index.
    if (node.op === '[]') {
      const container = chainOf(node.args[0])
      if (container !== undefined && !found.has(container.label)) found.set(container.label, container)
      else if (container === undefined) visit(node.args[0])
      visit(node.args[1])
      return
    }
    for (const child of childrenOf(node)) visit(child)
  }
  visit(ast)
  return [...found.values()]
}

function chainOf(node: ASTNode): ExpressionReference | undefined {
  if (node.op === 'id') {
    const root = node.args
    return (RULE_VARIABLES as readonly string[]).includes(root) ? { label: root, root: root as RuleVariable, steps: [] } : undefined
  }
  if (node.op === '.' || node.op === '.?') {
    const inner = chainOf(node.args[0])
    if (inner === undefined) return undefined
    const key = node.args[1]
    return { label: `${inner.label}.${key}`, root: inner.root, steps: [...inner.steps, key] }
  }
  if (node.op === '[]') {
    const inner = chainOf(node.args[0])
    const index = node.args[1]
    if (inner === undefined || index.op !== 'value') return undefined
    const key = index.args
    if (typeof key === 'string') return { label: `${inner.label}[${JSON.stringify(key)}]`, root: inner.root, steps: [...inner.steps, key] }
    if (typeof key === 'bigint') return { label: `${inner.label}[${key}]`, root: inner.root, steps: [...inner.steps, Number(key)] }
  }
  return undefined
}
