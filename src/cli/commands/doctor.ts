import type { Command } from '../io.js'

// Placeholder until the command lands; replaced whole by its implementation.
export const doctorCommand: Command = {
  name: 'doctor',
  summary: '(not built yet)',
  usage: 'gatehouse doctor',
  examples: [],
  async run(_args, io) {
    io.stderr('gatehouse doctor: not built yet\n')
    return 2
  },
}
