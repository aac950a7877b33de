import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { JsonObject, JsonValue } from '../../core/json.js'
import type { ProviderType } from '../types.js'

/** Ways a fake provider can be told to fail, each with that provider's real status and body shape. */
export type FakeFailure =
  | 'rate-limited'
  | 'quota'
  | 'overloaded'
  | 'server-error'
  | 'region'
  | 'model-access'

export interface FakeBehaviour {
  /** Milliseconds before the first stream event (after the headers). Default 0. */
  firstChunkDelayMs?: number
  /** Milliseconds between stream events. Default 2. */
  chunkDelayMs?: number
  /** Milliseconds before answering at all (headers included): a slow provider. */
  headersDelayMs?: number
  /** Answer every request with this failure... */
  fail?: FakeFailure
  /** ...or only the first N requests. */
  failTimes?: number
  /** `retry-after` seconds sent with 429/529/503 failures. Default 7. */
  retryAfterSeconds?: number
  /** Reply text instead of the echo. */
  reply?: string
  /** Report no usage (OpenAI-compatible servers that do not): the gateway has to count. */
  omitUsage?: boolean
  /** When the request offers tools, call this one instead of replying with text. */
  toolCall?: { name: string; arguments: JsonObject }
  /** Stop the stream after this many content chunks: Anthropic/OpenAI send an error event, others drop the connection. */
  breakStreamAfterChunks?: number
}

export interface FakeProviderOptions {
  type: ProviderType
  /** The key the fake expects, in that provider's auth header. Absent: no auth (a local server). */
  key?: string
  /** Models (Azure: deployments) it knows; others get the provider's model-not-found answer. Absent: any. */
  models?: string[]
  behaviour?: FakeBehaviour
}

export interface FakeRequest {
  method: string
  /** Path and query. */
  url: string
  headers: IncomingMessage['headers']
  /** Parsed JSON body (undefined for GET or non-JSON). */
  body: JsonValue | undefined
  /** The answer was sent in full. */
  completed: boolean
  /** The client went away before the answer was complete. */
  aborted: boolean
  /** Stream events as written: `performance.now()` and the text (latency tests match a marker). */
  written: { at: number; text: string }[]
}

/** State handed to each protocol's handler. */
export interface FakeState {
  options: FakeProviderOptions
  behaviour: FakeBehaviour
  /** Count of requests that reached a handler (for failTimes). */
  served: number
}

/** One exchange: the handler answers through these helpers so `completed`/`aborted` stay right. */
export interface Exchange {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  body: JsonValue | undefined
  record: FakeRequest
  state: FakeState
  closed(): boolean
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}

export function sendJson(ex: Exchange, status: number, body: JsonValue, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body)
  ex.res.writeHead(status, { 'content-type': 'application/json', ...headers })
  ex.res.end(payload)
  ex.record.completed = true
}

export function startSse(ex: Exchange): void {
  ex.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
  ex.res.flushHeaders()
}

/** Whether this request should fail, per `fail` and `failTimes`. */
export function failureFor(ex: Exchange): FakeFailure | undefined {
  const b = ex.state.behaviour
  if (!b.fail) return undefined
  if (b.failTimes !== undefined && ex.state.served > b.failTimes) return undefined
  return b.fail
}

export function retryAfter(ex: Exchange): Record<string, string> {
  return { 'retry-after': String(ex.state.behaviour.retryAfterSeconds ?? 7) }
}

export function isKnownModel(ex: Exchange, model: string): boolean {
  const models = ex.state.options.models
  return !models || models.includes(model)
}

function asObjectValue(value: JsonValue | undefined): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}
}

function textOf(content: JsonValue | undefined): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((part) => {
    const p = asObjectValue(part)
    return typeof p.text === 'string' ? p.text : ''
  }).join(' ')
}

/** Texts of OpenAI messages, Anthropic messages (+system) or Gemini contents (+systemInstruction). */
export function promptTexts(body: JsonObject): string[] {
  const texts: string[] = []
  if (typeof body.system === 'string') texts.push(body.system)
  for (const part of Array.isArray(asObjectValue(body.systemInstruction).parts) ? (asObjectValue(body.systemInstruction).parts as JsonValue[]) : []) texts.push(textOf([part]))
  for (const message of Array.isArray(body.messages) ? body.messages : []) texts.push(textOf(asObjectValue(message).content))
  for (const content of Array.isArray(body.contents) ? body.contents : []) {
    const parts = asObjectValue(content).parts
    texts.push(textOf(Array.isArray(parts) ? parts : []))
  }
  return texts
}

/** The last user turn's text, in any of the three shapes. */
export function lastUserText(body: JsonObject): string {
  const turns = [...(Array.isArray(body.messages) ? body.messages : []), ...(Array.isArray(body.contents) ? body.contents : [])]
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = asObjectValue(turns[i])
    if (turn.role === 'user') return textOf(turn.content ?? turn.parts)
  }
  return ''
}

/** Deterministic "model output": `Echo: <last user text>`, as words. */
export function replyWords(ex: Exchange, body: JsonObject): string[] {
  const text = ex.state.behaviour.reply ?? `Echo: ${lastUserText(body) || '(nothing)'}`
  return text.split(/(?=\s)/).filter((w) => w.length > 0)
}

/** The fakes' token count: whitespace-separated words (deterministic, easy to assert). */
export function fakeTokens(texts: string[]): number {
  return texts.reduce((sum, text) => sum + text.split(/\s+/).filter((w) => w.length > 0).length, 0)
}

/** Deterministic embedding of a text (FNV-1a per dimension), rounded so float32 round trips are exact enough. */
export function fakeEmbedding(text: string, dimensions = 8): number[] {
  const out: number[] = []
  for (let d = 0; d < dimensions; d++) {
    let hash = 0x811c9dc5
    const input = `${d}:${text}`
    for (let i = 0; i < input.length; i++) {
      hash ^= input.charCodeAt(i)
      hash = Math.imul(hash, 0x01000193) >>> 0
    }
    out.push(Math.round((hash / 0xffffffff - 0.5) * 1024) / 1024)
  }
  return out
}

/** Writes stream events with the configured delays; stops when the client goes away. Returns false then. */
export async function writeEvents(ex: Exchange, events: string[]): Promise<boolean> {
  const b = ex.state.behaviour
  for (let i = 0; i < events.length; i++) {
    await sleep(i === 0 ? (b.firstChunkDelayMs ?? 0) : (b.chunkDelayMs ?? 2))
    if (ex.closed()) return false
    ex.res.write(events[i])
    ex.record.written.push({ at: performance.now(), text: events[i] })
  }
  return true
}

export function randomHex(length: number): string {
  let out = ''
  while (out.length < length) out += Math.floor(Math.random() * 16).toString(16)
  return out
}
