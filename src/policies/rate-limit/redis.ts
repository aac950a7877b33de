import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { slidingRetryMs, type HitResult, type LimitSpec } from './algorithms.js'

/*
 * Each algorithm is one Lua script so that read-decide-write happens atomically inside Redis:
 * two gateway instances counting the same key can never both take the last request. The
 * arithmetic mirrors algorithms.ts (the memory store); scripts return integers only, because
 * Redis truncates Lua numbers in replies.
 */

// KEYS[1] window counter. ARGV now, limit, windowMs, windowStart.
const fixedWindowLua = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local windowMs = tonumber(ARGV[3])
local start = tonumber(ARGV[4])
local reset = start + windowMs - now
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= limit then return {0, 0, reset} end
count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], reset + 1000) end
return {1, limit - count, reset}
`

// KEYS[1] current window, KEYS[2] previous window. ARGV now, limit, windowMs, windowStart.
const slidingWindowLua = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local windowMs = tonumber(ARGV[3])
local start = tonumber(ARGV[4])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local elapsed = now - start
local est = prev * (windowMs - elapsed) / windowMs + cur
if est < limit then
  redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], 2 * windowMs + 1000)
  local rem = math.floor(limit - est - 1)
  if rem < 0 then rem = 0 end
  return {1, rem, start + windowMs - now}
end
return {0, 0, 0, prev, cur}
`

// KEYS[1] bucket hash {t: tokens, ts: last refill}. ARGV now, limit, windowMs, capacity.
const tokenBucketLua = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local windowMs = tonumber(ARGV[3])
local capacity = tonumber(ARGV[4])
local rate = limit / windowMs
local data = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(data[1])
local ts = tonumber(data[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
else
  local d = now - ts
  if d < 0 then d = 0 end
  tokens = math.min(capacity, tokens + d * rate)
  -- An instance whose clock lags must not rewind the refill time.
  if now > ts then ts = now end
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(ts))
local full = math.ceil((capacity - tokens) / rate)
redis.call('PEXPIRE', KEYS[1], full + 1000)
local wait = math.ceil((1 - tokens) / rate)
if wait < 1 then wait = 1 end
if allowed == 1 then
  if tokens >= 1 then return {1, math.floor(tokens), full} end
  return {1, 0, wait}
end
return {0, 0, wait}
`

interface Script {
  source: string
  sha: string
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

const scripts = { fixed: script(fixedWindowLua), sliding: script(slidingWindowLua), bucket: script(tokenBucketLua) }

/** One ioredis client per URL, shared by every route and kept across reloads. */
export interface SharedRedis {
  client: Redis
  /** Last connection error seen, for the trace (never logged by the policy). */
  lastError?: string
  /**
   * Pending while the first connection attempt is under way, so requests arriving right after
   * start wait for it instead of failing; undefined once it succeeded or failed.
   */
  firstConnect?: Promise<void>
  close(): Promise<void>
}

/**
 * Starts the lazy connection on first use and returns a promise that settles when that first
 * attempt succeeds or fails, or undefined when there is nothing to wait for.
 */
function startConnecting(entry: SharedRedis): Promise<void> | undefined {
  const client = entry.client
  if (client.status !== 'wait') return entry.firstConnect
  entry.firstConnect = new Promise<void>((settle) => {
    const done = () => {
      entry.firstConnect = undefined
      client.off('ready', done).off('error', done).off('close', done)
      settle()
    }
    client.once('ready', done).once('error', done).once('close', done)
  })
  // Failures arrive as 'error' events (recorded above) and reconnects follow on their own.
  client.connect().catch(() => undefined)
  return entry.firstConnect
}

/** Every client this module opened, so tests and shutdown can close them. */
const openClients = new Set<SharedRedis>()

/**
 * The shared client for `url`, created on first use and stored in `shared`. Fails fast by
 * design: no offline queue (a command while disconnected is refused at once instead of
 * waiting for a reconnect) and a short command timeout, so an outage turns into
 * `onStoreError` within `commandTimeoutMs`; ioredis keeps reconnecting in the background,
 * so the store comes back without a restart.
 */
export function getSharedRedis(shared: Map<string, unknown>, url: string, commandTimeoutMs: number): SharedRedis {
  const slot = `rate-limit:redis:${url}`
  const existing = shared.get(slot) as SharedRedis | undefined
  if (existing) return existing
  const client = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(500, commandTimeoutMs * 5),
    maxRetriesPerRequest: 0,
    // Connect on the first request, not at compile: `check` and config reloads open nothing.
    lazyConnect: true,
    retryStrategy: (times: number) => Math.min(times * 100, 2000),
  })
  const entry: SharedRedis = {
    client,
    async close() {
      openClients.delete(entry)
      if (shared.get(slot) === entry) shared.delete(slot)
      client.disconnect(false)
    },
  }
  // Without a listener ioredis prints every failed reconnect; policies never log, the
  // trace carries the failure instead.
  client.on('error', (error: Error) => {
    entry.lastError = error.message
  })
  client.on('ready', () => {
    entry.lastError = undefined
    // The connection alone must not keep a CLI process (check, explain) alive.
    client.stream?.unref?.()
  })
  shared.set(slot, entry)
  openClients.add(entry)
  return entry
}

async function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([promise, new Promise<void>((ok) => { timer = setTimeout(ok, ms) })])
  clearTimeout(timer)
}

/** Closes every Redis client the rate-limit layer opened (tests, process shutdown). */
export async function closeAllRedisClients(): Promise<void> {
  await Promise.all([...openClients].map((entry) => entry.close()))
}

/**
 * Counters in Redis, shared by every gateway instance that uses the same Redis. Keys are
 * `gatehouse:rl:<route>:<key>:<algorithm part>` and always carry an expiry.
 */
export class RedisStore {
  readonly #redis: SharedRedis
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor(redis: SharedRedis, routeName: string, timeoutMs: number) {
    this.#redis = redis
    this.#prefix = `gatehouse:rl:${routeName}:`
    this.#timeoutMs = timeoutMs
  }

  /** Counts one request; rejects when Redis cannot answer (the policy decides what that means). */
  async hit(key: string, now: number, spec: LimitSpec): Promise<HitResult> {
    const connecting = startConnecting(this.#redis)
    if (connecting) await waitAtMost(connecting, this.#timeoutMs)
    const base = this.#prefix + key
    const { limit, windowMs } = spec
    if (spec.algorithm === 'token-bucket') {
      const reply = await this.#run(scripts.bucket, [`${base}:tb`], [now, limit, windowMs, spec.capacity])
      return { allowed: reply[0] === 1, remaining: reply[1], resetMs: reply[2] }
    }
    const start = now - (now % windowMs)
    if (spec.algorithm === 'fixed-window') {
      const reply = await this.#run(scripts.fixed, [`${base}:fw:${start}`], [now, limit, windowMs, start])
      return { allowed: reply[0] === 1, remaining: reply[1], resetMs: reply[2] }
    }
    const reply = await this.#run(scripts.sliding, [`${base}:sw:${start}`, `${base}:sw:${start - windowMs}`], [now, limit, windowMs, start])
    if (reply[0] === 1) return { allowed: true, remaining: reply[1], resetMs: reply[2] }
    return { allowed: false, remaining: 0, resetMs: slidingRetryMs(reply[3], reply[4], limit, windowMs, now - start) }
  }

  /** EVALSHA, falling back to EVAL (which also caches the script) when Redis does not know it yet. */
  async #run(s: Script, keys: string[], args: number[]): Promise<number[]> {
    const client = this.#redis.client
    try {
      return (await client.evalsha(s.sha, keys.length, ...keys, ...args)) as number[]
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
      return (await client.eval(s.source, keys.length, ...keys, ...args)) as number[]
    }
  }
}
