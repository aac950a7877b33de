import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const startCommand: Command = {
  name: 'start',
  summary: '(not built yet)',
  usage: 'gatehouse start',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse start: not built yet\n')
    return 2
  },
}
