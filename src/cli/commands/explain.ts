import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const explainCommand: Command = {
  name: 'explain',
  summary: '(not built yet)',
  usage: 'gatehouse explain',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse explain: not built yet\n')
    return 2
  },
}
