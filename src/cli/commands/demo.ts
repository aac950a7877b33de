import { fileURLToPath } from 'node:url'
import { createLogger } from '../../core/logger.js'
import { isGatewayError } from '../../core/errors.js'
import { startDemoUpstream } from '../../demo/upstream.js'
import { startGateway } from '../../gateway/server.js'
import { parseCommandArgs } from '../args.js'
import { exitCodes, type Command } from '../io.js'

const demoConfig = fileURLToPath(new URL('../../../examples/demo.yaml', import.meta.url))

/** The lines `npm start` prints so a newcomer sees an allow, a 401, a 403 and `why` in a minute. */
export function demoInstructions(gatewayUrl: string, adminUrl?: string, adminToken = 'demo-admin-token-change-me'): string {
  const c = '-c examples/demo.yaml'
  const consoleLines = adminUrl
    ? [
        `  # web console: ${adminUrl}/  (sign in with the admin token ${adminToken})`,
        `  # developer portal: ${adminUrl}/portal  (sign in with a consumer key, e.g. demo-key-reader)`,
        '  # 403 until reader-app subscribes to reports-api: request it in the portal, approve it in the',
        '  # console (as admin, or as acme\'s tenant admin: demo-acme-admin-token), then call again:',
        `  curl -i ${gatewayUrl}/reports -H 'X-API-Key: demo-key-reader'`,
        '',
      ]
    : []
  return [
    '',
    `Gatehouse demo: gateway on ${gatewayUrl}, orders API behind it. Try:`,
    '',
    '  # allowed: a consumer with the orders:read scope',
    `  curl -i ${gatewayUrl}/orders -H 'X-API-Key: demo-key-acme'`,
    '  # 401: no credentials (see the WWW-Authenticate challenge)',
    `  curl -i ${gatewayUrl}/orders`,
    '  # 403: the key is valid but lacks orders:write',
    `  curl -i -X POST ${gatewayUrl}/orders -H 'X-API-Key: demo-key-reader' -H 'Content-Type: application/json' -d '{"sku":"tea-001"}'`,
    "  # 403 from the upstream itself, passed through and marked 'Gatehouse-Decision: upstream'",
    `  curl -i ${gatewayUrl}/admin/users`,
    '  # AI route (OpenAI-compatible, a fake local model): a chat, then 403 model-not-allowed',
    `  curl -i ${gatewayUrl}/v1/chat/completions -H 'Authorization: Bearer demo-key-acme' -H 'Content-Type: application/json' -d '{"model":"fast","messages":[{"role":"user","content":"Hello"}]}'`,
    `  curl -i ${gatewayUrl}/v1/chat/completions -H 'Authorization: Bearer demo-key-reader' -H 'Content-Type: application/json' -d '{"model":"fast","messages":[{"role":"user","content":"Hello"}]}'`,
    '',
    ...consoleLines,
    '  # why was it denied? take the X-Request-Id of any response:',
    `  npx gatehouse why <request-id> ${c}`,
    `  npx gatehouse calls --denied ${c}`,
    `  npx gatehouse explain ${c} -X POST ${gatewayUrl}/orders -H 'X-API-Key: demo-key-reader' -d '{}'`,
    '',
    'Ctrl-C stops it.',
    '',
  ].join('\n')
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the demo: an orders API behind the gateway, with the curl lines to try',
  usage: 'gatehouse demo [--listen host:port] [--admin-listen host:port] [--upstream-port n]',
  examples: ['gatehouse demo', 'gatehouse demo --listen 127.0.0.1:9080 --admin-listen 127.0.0.1:9081 --upstream-port 0'],
  async run(args, io) {
    const { values } = parseCommandArgs(args, { listen: { type: 'string' }, 'admin-listen': { type: 'string' }, 'upstream-port': { type: 'string' } }, false)
    const upstreamPort = values['upstream-port'] === undefined ? 3001 : Number(values['upstream-port'])
    let upstream
    try {
      upstream = await startDemoUpstream('127.0.0.1', upstreamPort)
    } catch (error) {
      io.stderr(`gatehouse demo: cannot start the demo orders API on 127.0.0.1:${upstreamPort} (${(error as Error).message}); pass --upstream-port 0 for any free port\n`)
      return exitCodes.problems
    }
    const env = { ...io.env, DEMO_UPSTREAM: upstream.url, GATEHOUSE_LOG_LEVEL: io.env.GATEHOUSE_LOG_LEVEL ?? 'warn' }
    let gateway
    try {
      gateway = await startGateway({ configFile: demoConfig, env, logger: createLogger(env), listen: values.listen, adminListen: values['admin-listen'] })
    } catch (error) {
      upstream.server.close()
      const message = isGatewayError(error) ? `${error.message}${error.remediation ? `\n${error.remediation}` : ''}` : (error as Error).message
      io.stderr(`gatehouse demo: ${message}\n(is something else on port 8080 or 8081? pass --listen 127.0.0.1:9080 --admin-listen 127.0.0.1:9081)\n`)
      return exitCodes.problems
    }
    // Print the demo's own admin token only; an operator's token from the environment stays unprinted.
    io.stdout(demoInstructions(gateway.url, gateway.adminUrl, io.env.GATEHOUSE_ADMIN_TOKEN ? '$GATEHOUSE_ADMIN_TOKEN' : undefined))
    const running = gateway
    return new Promise<number>((resolve) => {
      const stop = () => {
        void running.close().then(() => {
          upstream.server.close()
          resolve(exitCodes.ok)
        })
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
  },
}
