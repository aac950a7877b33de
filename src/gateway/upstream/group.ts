import type { UpstreamConfigValue } from '../../config/schema.js'
import { createBalancer, type Balancer } from './balance.js'
import { createTarget, isAvailable, type Target } from './target.js'

/** Health of one target, for metrics, `why` and tests. */
export interface TargetHealth {
  origin: string
  healthy: boolean
  down: boolean
  ejected: boolean
  active: number
}

/**
 * An upstream: its targets, how one is picked, and their health. Active checks probe every
 * target on a timer; passive checks eject a target after consecutive failures of real
 * traffic, for `ejectMs`, so a dead target is not sent request after request.
 */
export class UpstreamGroup {
  readonly name: string
  readonly config: UpstreamConfigValue
  readonly targets: Target[]
  private readonly balancer: Balancer
  private timer: NodeJS.Timeout | undefined
  private probing: Promise<void> | undefined

  constructor(name: string, config: UpstreamConfigValue) {
    this.name = name
    this.config = config
    this.targets = config.targets.map((t) => {
      const { url, weight } = typeof t === 'string' ? { url: t, weight: 1 } : t
      return createTarget(url, weight, config)
    })
    this.balancer = createBalancer(config.balance)
  }

  /** A target for the next attempt, or undefined when none is available. */
  pick(now: number, exclude?: Target): Target | undefined {
    return this.balancer(this.targets, now, exclude)
  }

  reportSuccess(target: Target): void {
    target.consecutiveFailures = 0
  }

  reportFailure(target: Target, now: number): void {
    target.consecutiveFailures++
    if (target.consecutiveFailures >= this.config.passive.failures) {
      target.ejectedUntil = now + this.config.passive.ejectMs
      target.consecutiveFailures = 0
    }
  }

  health(now = Date.now()): TargetHealth[] {
    return this.targets.map((t) => ({
      origin: t.origin,
      healthy: isAvailable(t, now),
      down: t.down,
      ejected: t.ejectedUntil > now,
      active: t.active,
    }))
  }

  startHealthChecks(): void {
    const check = this.config.healthCheck
    if (!check || this.timer) return
    this.timer = setInterval(() => void this.probeAll(), check.intervalMs)
    this.timer.unref()
    void this.probeAll()
  }

  /** One round of active probes; exposed so tests can drive it without waiting. */
  async probeAll(): Promise<void> {
    const check = this.config.healthCheck
    if (!check) return
    // A round already running is awaited rather than doubled.
    if (!this.probing) {
      this.probing = Promise.all(this.targets.map((target) => this.probe(target, check))).then(() => {
        this.probing = undefined
      })
    }
    await this.probing
  }

  private async probe(target: Target, check: NonNullable<UpstreamConfigValue['healthCheck']>): Promise<void> {
    let ok = false
    try {
      const response = await target.pool.request({
        method: 'GET',
        path: target.basePath + check.path,
        headersTimeout: check.timeoutMs,
        bodyTimeout: check.timeoutMs,
        headers: { 'user-agent': 'gatehouse-health-check' },
        signal: AbortSignal.timeout(check.timeoutMs),
      })
      await response.body.dump()
      ok = check.expectStatus ? check.expectStatus.includes(response.statusCode) : response.statusCode >= 200 && response.statusCode < 400
    } catch {
      ok = false
    }
    if (ok) {
      target.probeFailures = 0
      target.probeSuccesses++
      if (target.down && target.probeSuccesses >= check.healthyThreshold) {
        target.down = false
        target.ejectedUntil = 0
        target.consecutiveFailures = 0
      }
    } else {
      target.probeSuccesses = 0
      target.probeFailures++
      if (!target.down && target.probeFailures >= check.unhealthyThreshold) target.down = true
    }
  }

  /** Stops probes and closes the pools once in-flight requests finish. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await Promise.all(this.targets.map((t) => t.pool.close().catch(() => undefined)))
  }
}
