import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const lintCommand: Command = {
  name: 'lint',
  summary: '(not built yet)',
  usage: 'gatehouse lint',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse lint: not built yet\n')
    return 2
  },
}
