import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const callsCommand: Command = {
  name: 'calls',
  summary: '(not built yet)',
  usage: 'gatehouse calls',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse calls: not built yet\n')
    return 2
  },
}
