/** How a webhook POST is retried. */
export interface WebhookOptions {
  /** Attempts in all, the first included. Default 4. */
  maxAttempts?: number
  /** Pause before the first retry in ms; doubled for each later one. Default 1000. */
  backoffMs?: number
  /** Longest pause between attempts in ms. Default 30,000. */
  maxBackoffMs?: number
  /** Milliseconds one attempt may take, response included. Default 5000. */
  timeoutMs?: number
  /** Waits between attempts; tests pass one that does not wait on the wall clock. */
  sleep?: (ms: number) => Promise<void>
  /** Aborts the attempt in progress and stops retrying (the gateway is shutting down). */
  signal?: AbortSignal
}

/** What happened to one webhook delivery. */
export interface WebhookDelivery {
  url: string
  ok: boolean
  attempts: number
  /** Status of the last answer, if there was one. */
  status: number | null
  /** Why the last attempt failed, when it did. */
  error: string | null
}

/** Waits `ms`, or less if `signal` aborts first: a shutdown must not wait out a backoff. */
function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    timer.unref()
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** Statuses worth another try: the receiver is overloaded or broken for now, not refusing us. */
function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429
}

/**
 * POSTs `payload` as JSON to `url`. A 2xx is delivered. A network error, timeout, 408, 429 or
 * 5xx is retried with exponential backoff (`backoffMs`, doubled, capped at `maxBackoffMs`) up
 * to `maxAttempts` in all; any other answer is final, since repeating a refused request will
 * not change the answer. Never throws.
 */
export async function deliverWebhook(url: string, payload: unknown, options: WebhookOptions = {}): Promise<WebhookDelivery> {
  const maxAttempts = Math.max(1, Math.min(10, options.maxAttempts ?? 4))
  const backoffMs = Math.max(0, options.backoffMs ?? 1000)
  const maxBackoffMs = Math.max(backoffMs, options.maxBackoffMs ?? 30_000)
  const timeoutMs = Math.max(1, options.timeoutMs ?? 5000)
  const sleep = options.sleep ?? ((ms: number) => sleepUnlessAborted(ms, options.signal))
  const body = JSON.stringify(payload)
  let status: number | null = null
  let error: string | null = null
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 2)))
    if (options.signal?.aborted) return { url, ok: false, attempts: attempt - 1, status, error: error ?? 'cancelled' }
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'gatehouse-alerts' },
        body,
        redirect: 'manual',
        signal: options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
      })
      status = response.status
      // Drain the body so the connection can be reused or closed; its content does not matter.
      await response.arrayBuffer().catch(() => undefined)
      if (status >= 200 && status < 300) return { url, ok: true, attempts: attempt, status, error: null }
      error = `answered ${status}`
      if (!isRetryable(status)) return { url, ok: false, attempts: attempt, status, error }
    } catch (failure) {
      status = null
      error = failure instanceof Error && failure.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `could not connect: ${failure instanceof Error ? (failure.cause instanceof Error ? failure.cause.message : failure.message) : String(failure)}`
    }
  }
  return { url, ok: false, attempts: maxAttempts, status, error }
}
