import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JsonValue } from '../../core/json.js'
import type { ProviderType } from '../types.js'
import { handleAnthropic } from './anthropic.js'
import { sleep, type Exchange, type FakeBehaviour, type FakeProviderOptions, type FakeRequest, type FakeState } from './common.js'
import { handleGemini } from './gemini.js'
import { handleOpenAiFamily } from './openai.js'

export { fakeEmbedding, fakeTokens, type FakeBehaviour, type FakeFailure, type FakeProviderOptions, type FakeRequest } from './common.js'

export interface FakeProvider {
  type: ProviderType
  /** Base URL to put in `providers.<name>.url`. */
  url: string
  /** Requests seen, in order. */
  requests: FakeRequest[]
  /** Replace the behaviour for the following requests (and reset the failTimes count). */
  setBehaviour(behaviour: FakeBehaviour): void
  close(): Promise<void>
}

/**
 * Starts a fake model provider on 127.0.0.1:0 that speaks `type`'s real wire protocol: its paths,
 * auth header, request checks, JSON and SSE shapes and error bodies. Replies echo the last user
 * message; usage counts words. For tests, the demo and benchmarks: no network beyond loopback.
 */
export async function startFakeProvider(options: FakeProviderOptions): Promise<FakeProvider> {
  const state: FakeState = { options, behaviour: { ...(options.behaviour ?? {}) }, served: 0 }
  const requests: FakeRequest[] = []
  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    let body: JsonValue | undefined
    try {
      body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as JsonValue) : undefined
    } catch {
      body = undefined
    }
    const record: FakeRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, completed: false, aborted: false, written: [] }
    requests.push(record)
    let closed = false
    res.on('close', () => {
      closed = true
      if (!record.completed) record.aborted = true
    })
    state.served++
    const ex: Exchange = { req, res, url: new URL(req.url ?? '/', 'http://fake'), body, record, state, closed: () => closed }
    const run = async (): Promise<void> => {
      await sleep(state.behaviour.headersDelayMs ?? 0)
      if (closed) return
      if (options.type === 'anthropic') return handleAnthropic(ex)
      if (options.type === 'gemini') return handleGemini(ex)
      return handleOpenAiFamily(ex, options.type)
    }
    run().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`fake provider bug: ${String(error)}`)
    })
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handle(req, res, Buffer.concat(chunks)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    type: options.type,
    url: `http://127.0.0.1:${port}`,
    requests,
    setBehaviour(behaviour) {
      state.behaviour = { ...behaviour }
      state.served = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
