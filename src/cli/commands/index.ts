import type { Command } from '../io.js'
import { callsCommand } from './calls.js'
import { checkCommand } from './check.js'
import { demoCommand } from './demo.js'
import { doctorCommand } from './doctor.js'
import { explainCommand } from './explain.js'
import { lintCommand } from './lint.js'
import { logsCommand } from './logs.js'
import { startCommand } from './start.js'
import { whyCommand } from './why.js'

/** Every CLI command, in the order `gatehouse --help` lists them. */
export const commands: Command[] = [
  startCommand,
  checkCommand,
  explainCommand,
  whyCommand,
  callsCommand,
  doctorCommand,
  logsCommand,
  lintCommand,
  demoCommand,
]
