import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * The process logger: JSON lines on stderr (stdout stays free for command output).
 * `GATEHOUSE_LOG_LEVEL` sets the level (default info; `silent` in tests).
 */
export function createLogger(env: Record<string, string | undefined> = process.env): Logger {
  return pino({ level: env.GATEHOUSE_LOG_LEVEL ?? 'info', base: { service: 'gatehouse' } }, pino.destination({ fd: 2, sync: false }))
}

export const silentLogger: Logger = pino({ level: 'silent' })
