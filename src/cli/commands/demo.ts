import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const demoCommand: Command = {
  name: 'demo',
  summary: '(not built yet)',
  usage: 'gatehouse demo',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse demo: not built yet\n')
    return 2
  },
}
