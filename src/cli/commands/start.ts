import { createLogger } from '../../core/logger.js'
import { isGatewayError } from '../../core/errors.js'
import { startGateway } from '../../gateway/server.js'
import { parseCommandArgs } from '../args.js'
import { configOption, configPath } from '../config-arg.js'
import { exitCodes, type Command } from '../io.js'

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the gateway (reloads the config file when it changes)',
  usage: 'gatehouse start [-c gatehouse.yaml] [--listen host:port]',
  examples: ['gatehouse start -c gatehouse.yaml', 'GATEHOUSE_ADMIN_TOKEN=... gatehouse start'],
  async run(args, io) {
    const { values } = parseCommandArgs(args, { ...configOption, listen: { type: 'string' }, json: { type: 'boolean' } }, false)
    const file = configPath(values.config, io)
    const logger = createLogger(io.env)
    let gateway
    try {
      gateway = await startGateway({ configFile: file, env: io.env, logger, listen: values.listen })
    } catch (error) {
      if (isGatewayError(error)) {
        io.stderr(`gatehouse start: ${error.message}\n${error.remediation ? `${error.remediation}\n` : ''}`)
        return exitCodes.problems
      }
      throw error
    }
    io.stdout(values.json ? `${JSON.stringify({ listening: gateway.url })}\n` : `gatehouse: listening on ${gateway.url} (config ${file})\n`)
    const running = gateway
    return new Promise<number>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping: draining in-flight requests and flushing the call log')
        void running.close().then(() => resolve(exitCodes.ok))
      }
      process.once('SIGTERM', () => stop('SIGTERM'))
      process.once('SIGINT', () => stop('SIGINT'))
    })
  },
}
