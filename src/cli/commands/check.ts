import { relative } from 'node:path'
import { formatProblem, loadConfigFile } from '../../config/load.js'
import { parseCommandArgs } from '../args.js'
import { configOption, configPath } from '../config-arg.js'
import { exitCodes, type Command } from '../io.js'

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a config file and list every problem with its location',
  usage: 'gatehouse check [-c gatehouse.yaml] [--json]',
  examples: ['gatehouse check -c gatehouse.yaml', 'gatehouse check --json'],
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...configOption, json: { type: 'boolean' } })
    const file = configPath(values.config ?? positionals[0], io)
    const shown = relative(io.cwd, file) || file
    const result = await loadConfigFile(file, io.env)
    const problems = (result.ok ? result.warnings : result.problems).map((p) => ({ ...p, file: shown }))
    if (values.json) {
      io.stdout(`${JSON.stringify({ ok: result.ok, file: shown, problems }, null, 2)}\n`)
      return result.ok ? exitCodes.ok : exitCodes.problems
    }
    for (const problem of problems) (result.ok ? io.stdout : io.stderr)(`${formatProblem(problem)}\n`)
    if (!result.ok) {
      const errors = problems.filter((p) => p.severity === 'error').length
      io.stderr(`${shown}: ${errors} ${errors === 1 ? 'problem' : 'problems'}; the file was not accepted\n`)
      return exitCodes.problems
    }
    const c = result.config
    io.stdout(`${shown}: ok (${c.routes.length} routes, ${Object.keys(c.upstreams).length} upstreams, ${c.consumers.length} consumers${problems.length ? `, ${problems.length} warnings` : ''})\n`)
    return exitCodes.ok
  },
}
