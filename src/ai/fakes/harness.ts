import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JsonObject, JsonValue } from '../../core/json.js'
import { runAiCall } from '../engine.js'
import type { AiCallResult, AiOperation, ModelTarget, ProviderType, ResolvedProvider } from '../types.js'

export interface AiHarness {
  /** Base URL; the OpenAI SDK's `baseURL` is `${url}/v1`. */
  url: string
  /** Results of finished calls, in completion order. */
  results: AiCallResult[]
  /** Resolves with the n-th result (1-based) once that call finished. */
  result(n: number): Promise<AiCallResult>
  close(): Promise<void>
}

/** A provider entry for tests, pointing at a fake. */
export function testProvider(type: ProviderType, url: string, overrides: Partial<ResolvedProvider> = {}): ResolvedProvider {
  return { name: `${type}-fake`, type, url, key: 'sk-test-secret-key-0123456789', timeoutMs: 5_000, ...overrides }
}

export function targetOf(provider: ResolvedProvider, model: string): ModelTarget {
  return { provider, model, requested: `${provider.name}/${model}` }
}

/**
 * A minimal OpenAI-compatible front: `POST /v1/chat/completions` and `/v1/embeddings` go through
 * `runAiCall` with the targets `route` picks; a failure is answered as problem+json. It stands in for
 * the gateway in engine tests (no policies, no call log).
 */
export async function startAiHarness(route: (operation: AiOperation, body: JsonObject) => ModelTarget[]): Promise<AiHarness> {
  const results: AiCallResult[] = []
  const waiters: (() => void)[] = []
  let count = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]
      const operation: AiOperation | undefined = path === '/v1/chat/completions' ? 'chat' : path === '/v1/embeddings' ? 'embeddings' : undefined
      if (!operation || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end('{"error":{"message":"not found"}}')
        return
      }
      let body: JsonObject
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as JsonObject
      } catch {
        res.writeHead(400).end()
        return
      }
      const controller = new AbortController()
      res.on('close', () => {
        if (!res.writableFinished) controller.abort()
      })
      const requestId = `req${++count}`
      runAiCall({ operation, body, targets: route(operation, body), res, responseHeaders: { 'x-request-id': requestId }, requestId, signal: controller.signal })
        .then((result) => {
          if (!result.ok && !result.clientClosed && !res.headersSent) {
            const problem: JsonValue = {
              type: 'about:blank',
              title: 'Upstream provider error',
              status: result.status,
              layer: 'upstream',
              requestId,
              detail: result.error?.message ?? 'failed',
              remedy: result.error?.remedy ?? '',
              // OpenAI SDKs read `error.message` from error bodies.
              error: { message: result.error?.message ?? 'failed', type: result.error?.cause ?? 'error', code: result.error?.cause ?? null },
            }
            res.writeHead(result.status, { 'content-type': 'application/problem+json' })
            res.end(JSON.stringify(problem))
          }
          results.push(result)
          for (const wake of waiters.splice(0)) wake()
        })
        .catch((error: unknown) => {
          if (!res.headersSent) res.writeHead(500)
          res.end(String(error))
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    results,
    async result(n) {
      while (results.length < n) await new Promise<void>((resolve) => waiters.push(resolve))
      return results[n - 1]
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Reads an SSE response body into its `data:` payloads (JSON-parsed, `[DONE]` kept as the string). */
export async function readSseData(response: Response): Promise<(JsonObject | '[DONE]')[]> {
  const text = await response.text()
  const out: (JsonObject | '[DONE]')[] = []
  for (const block of text.split('\n\n')) {
    const line = block.split('\n').find((l) => l.startsWith('data: '))
    if (!line) continue
    const data = line.slice(6)
    out.push(data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as JsonObject))
  }
  return out
}
