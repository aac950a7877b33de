import { UsageError } from './args.js'
import type { Command, Io } from './io.js'
import { exitCodes } from './io.js'
import { commands } from './commands/index.js'

function createProcessIo(): Io {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    env: process.env,
    cwd: process.cwd(),
  }
}

function renderHelp(list: Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length))
  const rows = list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return `gatehouse: an API gateway that tells you why it said no\n\nUsage: gatehouse <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun 'gatehouse <command> --help' for a command's options.\n`
}

function renderCommandHelp(command: Command): string {
  const examples = command.examples.length ? `\nExamples:\n${command.examples.map((e) => `  ${e}`).join('\n')}\n` : ''
  return `${command.summary}\n\nUsage: ${command.usage}\n${examples}`
}

/** Runs the CLI and returns the exit code; `bin/gatehouse.js` sets it. */
export async function main(argv: string[], io: Io = createProcessIo()): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(renderHelp(commands))
    return name === undefined ? exitCodes.usage : exitCodes.ok
  }
  if (name === '--version' || name === '-v') {
    io.stdout('gatehouse 0.1.0\n')
    return exitCodes.ok
  }
  const command = commands.find((c) => c.name === name)
  if (!command) {
    io.stderr(`gatehouse: unknown command '${name}'\n\n${renderHelp(commands)}`)
    return exitCodes.usage
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(renderCommandHelp(command))
    return exitCodes.ok
  }
  const debug = rest.includes('--debug')
  const args = debug ? rest.filter((a) => a !== '--debug') : rest
  try {
    return await command.run(args, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`gatehouse ${command.name}: ${error.message}\nUsage: ${command.usage}\n`)
      return exitCodes.usage
    }
    const message = error instanceof Error ? error.message : String(error)
    io.stderr(`gatehouse ${command.name}: ${message}\n`)
    if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`)
    return exitCodes.usage
  }
}
