import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Logger } from '../core/logger.js'

const channel = 'gatehouse:admin-state'

/** Tells the other instances that the admin state changed, and hears them tell us. */
export interface AdminSync {
  /** Announces a change this instance made. */
  announce(): void
  close(): Promise<void>
}

/**
 * Admin changes are saved in the shared store; Redis pub/sub only says "reload it", so a lost
 * message costs freshness, never correctness (the next change or restart catches up). A message
 * carries the sender's id so an instance does not reload its own change.
 */
export function startAdminSync(redisUrl: string, onRemoteChange: () => void, logger: Logger): AdminSync {
  const id = randomUUID()
  const options = { lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: (times: number) => Math.min(times * 200, 2000) }
  const publisher = new Redis(redisUrl, options)
  const subscriber = new Redis(redisUrl, options)
  let warned = false
  const onError = (error: Error) => {
    if (warned) return
    warned = true
    logger.warn({ err: error.message }, 'admin sync: Redis unreachable; admin changes reach other instances when it returns')
  }
  publisher.on('error', onError)
  subscriber.on('error', onError)
  subscriber.on('ready', () => { warned = false })
  subscriber.subscribe(channel).catch(onError)
  subscriber.on('message', (_channel: string, message: string) => {
    if (message !== id) onRemoteChange()
  })
  return {
    announce() {
      publisher.publish(channel, id).catch(onError)
    },
    async close() {
      subscriber.disconnect()
      publisher.disconnect()
    },
  }
}
