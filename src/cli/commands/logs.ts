import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const logsCommand: Command = {
  name: 'logs',
  summary: '(not built yet)',
  usage: 'gatehouse logs',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse logs: not built yet\n')
    return 2
  },
}
