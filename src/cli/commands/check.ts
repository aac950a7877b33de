import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const checkCommand: Command = {
  name: 'check',
  summary: '(not built yet)',
  usage: 'gatehouse check',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse check: not built yet\n')
    return 2
  },
}
