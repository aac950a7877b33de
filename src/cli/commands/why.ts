import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const whyCommand: Command = {
  name: 'why',
  summary: '(not built yet)',
  usage: 'gatehouse why',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse why: not built yet\n')
    return 2
  },
}
