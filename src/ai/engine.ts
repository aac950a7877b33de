import type { ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import { Agent, request, type Dispatcher } from 'undici'
import type { JsonObject, JsonValue } from '../core/json.js'
import {
  asArray,
  asObject,
  asString,
  explain,
  isObject,
  openAiUsage,
  ProviderStreamError,
  type CallContext,
  type ProviderAdapter,
  type ProviderRequest,
  type ProviderTokens,
} from './providers/adapter.js'
import { adapterFor } from './providers/index.js'
import { createSseReader, formatSseData, sseDone } from './sse.js'
import { countInputTokens, countPromptTokens, countTextTokens, textOfContent } from './tokens.js'
import type {
  AiAttempt,
  AiCallOptions,
  AiCallResult,
  ModelListEntry,
  ModelTarget,
  ProviderErrorExplanation,
  ResolvedProvider,
  Usage,
} from './types.js'

// One keep-alive agent for every provider: it pools connections per origin, so a call does not
// pay a TCP/TLS handshake each time.
let agent: Agent = createAgent()

function createAgent(): Agent {
  return new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 256, connect: { timeout: 10_000 } })
}

/** Closes pooled provider connections (gateway shutdown, tests). Later calls open new ones. */
export async function closeAiConnections(): Promise<void> {
  const old = agent
  agent = createAgent()
  await old.close()
}

/** Error bodies are read up to this size: enough for any provider's JSON error, bounded against a hostile upstream. */
const maxErrorBodyBytes = 64 * 1024
/** Non-streaming answers (large embedding batches included). */
const maxAnswerBytes = 128 * 1024 * 1024

type Outcome =
  | { kind: 'answered'; result: AiCallResult }
  | { kind: 'failed'; error: ProviderErrorExplanation }
  | { kind: 'client-closed' }

/** Bytes and timing of what this call wrote to the client. */
interface ClientWriter {
  started: number
  bytes: number
  firstByteMs?: number
}

/**
 * Runs one client AI call: tries `targets` in order, translating to each provider's protocol, and
 * writes the success (JSON, or SSE as chunks arrive) to `res`. Falls back to the next target on a
 * retryable error (429, 5xx, unreachable, timeout) only while nothing has been written: a stream's
 * headers are flushed as soon as a provider answers 200, each chunk is written as parsed. On total
 * failure nothing is written and the last error comes back explained, for the gateway to render.
 *
 * A stream that breaks after the provider's 200 cannot fall back: the client gets an OpenAI-style
 * `data: {"error":…}` event and the result is `ok: true` with `error` set (cause `stream-broken`,
 * or the provider's own error event).
 *
 * The client leaving sets `clientClosed`: `ok: true` if part of a stream was written, otherwise
 * `ok: false, status: 499`. `usage` is set whenever the provider did work (counted if unreported).
 * On failure `status` is a suggestion: 429 for rate-limited/quota, 504 timeout, 400 unsupported
 * (no embeddings API), 502 otherwise.
 */
export async function runAiCall(options: AiCallOptions): Promise<AiCallResult> {
  const writer: ClientWriter = { started: performance.now(), bytes: 0 }
  const ctx: CallContext = { requestId: options.requestId, created: Math.floor(Date.now() / 1000) }
  const attempts: AiAttempt[] = []
  let lastError: ProviderErrorExplanation | undefined
  let clientClosed = false
  for (const target of options.targets) {
    if (options.signal.aborted || options.res.destroyed) {
      clientClosed = true
      break
    }
    const adapter = adapterFor(target.provider.type)
    const attemptStart = performance.now()
    const outcome = await attemptTarget(options, target, adapter, ctx, writer)
    const ms = Math.round(performance.now() - attemptStart)
    if (outcome.kind === 'answered') {
      // The provider answered 200 (also when the client then left or the stream broke).
      attempts.push({ provider: target.provider.name, model: target.model, status: 200, ms, ...(outcome.result.error ? { error: outcome.result.error } : {}) })
      return { ...outcome.result, attempts }
    }
    if (outcome.kind === 'client-closed') {
      attempts.push({ provider: target.provider.name, model: target.model, status: 0, ms })
      clientClosed = true
      break
    }
    attempts.push({ provider: target.provider.name, model: target.model, status: outcome.error.status, ms, error: outcome.error })
    lastError = outcome.error
    if (!outcome.error.retryable) break
  }
  if (clientClosed) {
    return { ok: false, status: 499, attempts, clientClosed: true, responseBytes: writer.bytes }
  }
  const error = lastError ?? noTargetError()
  return { ok: false, status: gatewayStatusFor(error), attempts, error, responseBytes: writer.bytes }
}

function noTargetError(): ProviderErrorExplanation {
  return {
    status: 0,
    cause: 'model-not-found',
    message: 'No provider target is configured for the requested model',
    remedy: "Add the model to the route's models, as an alias or as provider/model.",
    retryable: false,
  }
}

/**
 * Status for the gateway's own answer when every target failed: 429 stays 429 (clients back off),
 * provider timeouts are 504, everything else upstream is 502 Bad Gateway.
 */
function gatewayStatusFor(error: ProviderErrorExplanation): number {
  if (error.cause === 'rate-limited' || error.cause === 'quota') return 429
  if (error.cause === 'timeout') return 504
  if (error.cause === 'unsupported') return 400
  return 502
}

async function attemptTarget(
  options: AiCallOptions,
  target: ModelTarget,
  adapter: ProviderAdapter,
  ctx: CallContext,
  writer: ClientWriter,
): Promise<Outcome> {
  const stream = options.operation === 'chat' && options.body.stream === true
  let providerRequest: ProviderRequest
  if (options.operation === 'embeddings') {
    if (!adapter.embeddingsRequest) {
      return { kind: 'failed', error: explain({ cause: 'unsupported', status: 0, label: adapter.label, target }) }
    }
    providerRequest = adapter.embeddingsRequest(target, options.body, ctx)
  } else {
    providerRequest = adapter.chatRequest(target, options.body, stream, ctx)
  }

  const watch = watchAttempt(options.signal, target.provider.timeoutMs)
  try {
    let response: Dispatcher.ResponseData
    try {
      response = await send(providerRequest, watch.signal)
    } catch (error) {
      return transportFailure(error, options.signal, watch, adapter, target)
    }

    if (response.statusCode < 200 || response.statusCode >= 300) {
      const body = await readBounded(response.body, maxErrorBodyBytes, true, watch.touch).catch(() => '')
      return { kind: 'failed', error: adapter.explainError({ status: response.statusCode, body, headers: response.headers }, target) }
    }

    try {
      if (stream) return await relayStream(options, target, adapter, ctx, writer, response, watch)
      return await relayJson(options, target, adapter, ctx, writer, response, watch)
    } catch (error) {
      if (error instanceof ProviderStreamError) return { kind: 'failed', error: error.explanation }
      return transportFailure(error, options.signal, watch, adapter, target)
    }
  } finally {
    watch.dispose()
  }
}

/** The provider call's own abort signal: the client's, plus `timeoutMs` of silence from the provider. */
interface AttemptWatch {
  signal: AbortSignal
  timedOut(): boolean
  /** The provider sent something: restart the silence timer. */
  touch(): void
  dispose(): void
}

// undici's own headersTimeout/bodyTimeout tick about once a second; a plain timer keeps
// sub-second timeoutMs exact.
function watchAttempt(client: AbortSignal, timeoutMs: number): AttemptWatch {
  const controller = new AbortController()
  let timedOut = false
  const onClientAbort = (): void => controller.abort(client.reason)
  client.addEventListener('abort', onClientAbort, { once: true })
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(new Error(`no answer within ${timeoutMs} ms`))
  }, timeoutMs)
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    touch: () => {
      timer.refresh()
    },
    dispose: () => {
      clearTimeout(timer)
      client.removeEventListener('abort', onClientAbort)
    },
  }
}

// timeoutMs bounds the wait for the answer to start and any silence inside a stream (see
// watchAttempt), not the whole answer: a long stream that keeps flowing is fine.
function send(req: ProviderRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  return request(req.url, { method: req.method, headers: req.headers, body: req.body, signal, dispatcher: agent })
}

function transportFailure(error: unknown, client: AbortSignal, watch: AttemptWatch, adapter: ProviderAdapter, target: ModelTarget): Outcome {
  if (client.aborted) return { kind: 'client-closed' }
  const code = errorCode(error)
  const timeout = watch.timedOut() || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
  return {
    kind: 'failed',
    error: explain({ cause: timeout ? 'timeout' : 'unreachable', status: 0, label: adapter.label, target, transportCode: code }),
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return code
  const cause = (error as { cause?: unknown }).cause
  return cause !== error ? errorCode(cause) : undefined
}

async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number, truncate: boolean, onChunk?: () => void): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    onChunk?.()
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > maxBytes) {
      body.destroy()
      if (truncate) break
      throw Object.assign(new Error(`provider answer larger than ${maxBytes} bytes`), { code: 'GATEHOUSE_ANSWER_TOO_LARGE' })
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, truncate ? maxBytes : undefined)
}

async function relayJson(
  options: AiCallOptions,
  target: ModelTarget,
  adapter: ProviderAdapter,
  ctx: CallContext,
  writer: ClientWriter,
  response: Dispatcher.ResponseData,
  watch: AttemptWatch,
): Promise<Outcome> {
  const text = await readBounded(response.body, maxAnswerBytes, false, watch.touch)
  let json: JsonValue
  try {
    json = JSON.parse(text) as JsonValue
  } catch {
    return { kind: 'failed', error: explain({ cause: 'server-error', status: response.statusCode, label: adapter.label, target, providerMessage: 'the answer was not JSON' }) }
  }
  const translated = options.operation === 'embeddings' && adapter.embeddingsResponse
    ? adapter.embeddingsResponse(json, target, ctx)
    : adapter.chatResponse(json, target, ctx)
  const answer = translated.response
  let usage: Usage
  if (options.operation === 'embeddings') {
    usage = translated.usage ? toUsage(translated.usage, false) : toUsage({ promptTokens: await countInputTokens(options.body.input), completionTokens: 0 }, true)
    answer.usage ??= { prompt_tokens: usage.promptTokens, total_tokens: usage.totalTokens }
    if (options.body.encoding_format === 'base64') encodeEmbeddingsBase64(answer)
  } else {
    usage = translated.usage ? toUsage(translated.usage, false) : await estimateChatUsage(options.body, completionTextOf(answer))
    answer.usage ??= openAiUsage(usage)
  }
  if (options.signal.aborted || options.res.destroyed) {
    // The provider did the work (and bills it) even though nobody is left to read it.
    return {
      kind: 'answered',
      result: { ok: false, status: 499, provider: target.provider.name, model: target.model, usage, attempts: [], clientClosed: true, responseBytes: 0 },
    }
  }
  const payload = Buffer.from(JSON.stringify(answer))
  options.res.writeHead(200, { ...options.responseHeaders, 'content-type': 'application/json', 'content-length': String(payload.length) })
  markFirstByte(writer)
  options.res.end(payload)
  writer.bytes += payload.length
  return {
    kind: 'answered',
    result: { ok: true, status: 200, provider: target.provider.name, model: target.model, usage, attempts: [], firstByteMs: writer.firstByteMs, responseBytes: writer.bytes },
  }
}

async function relayStream(
  options: AiCallOptions,
  target: ModelTarget,
  adapter: ProviderAdapter,
  ctx: CallContext,
  writer: ClientWriter,
  response: Dispatcher.ResponseData,
  watch: AttemptWatch,
): Promise<Outcome> {
  const res = options.res
  const translator = adapter.chatStream(target, ctx)
  const reader = createSseReader()
  let completion = ''
  let last: JsonObject | undefined
  let broken: ProviderErrorExplanation | undefined

  // The gateway aborts `signal` when the client leaves; a destroyed `res` means the same.
  const gone = (): boolean => options.signal.aborted || res.destroyed
  if (gone()) {
    response.body.destroy()
    return { kind: 'client-closed' }
  }
  // The provider accepted the call (200): commit and flush the headers now, so the client knows
  // the answer is coming while the model still reads the prompt. Fallback stays possible for
  // everything that fails before this point (429, 5xx, unreachable, timeout).
  res.writeHead(200, {
    ...options.responseHeaders,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
  res.flushHeaders()

  const write = async (text: string): Promise<void> => {
    if (gone()) return
    markFirstByte(writer)
    writer.bytes += Buffer.byteLength(text)
    if (!res.write(text) && !gone()) {
      await drained(res, options.signal)
      // Waiting on a slow client is not provider silence.
      watch.touch()
    }
  }

  const emit = async (chunks: JsonObject[]): Promise<void> => {
    for (const chunk of chunks) {
      for (const choice of asArray(chunk.choices)) completion += textOfContent(asObject(asObject(choice).delta).content)
      last = chunk
      await write(formatSseData(chunk))
    }
  }

  try {
    for await (const data of response.body) {
      watch.touch()
      for (const event of reader.feed(data as Buffer)) await emit(translator.push(event))
      if (gone()) break
    }
    if (!gone()) for (const event of reader.end()) await emit(translator.push(event))
  } catch (error) {
    if (error instanceof ProviderStreamError) broken = error.explanation
    else if (!gone()) {
      const why = watch.timedOut() ? `silent for ${target.provider.timeoutMs} ms` : (errorCode(error) ?? 'connection lost')
      broken = explain({ cause: 'stream-broken', status: 200, label: adapter.label, target, transportCode: why })
    }
  }

  if (gone()) response.body.destroy()
  else if (!broken && !translator.done) {
    broken = explain({ cause: 'stream-broken', status: 200, label: adapter.label, target, transportCode: 'ended before the answer was complete' })
  }

  const reported = translator.usage()
  const usage = reported ? toUsage(reported, false) : await estimateChatUsage(options.body, completion)
  const clientClosed = gone()
  if (!clientClosed) {
    if (broken) {
      await write(formatSseData({ error: { message: broken.message, type: broken.cause, code: broken.providerCode ?? null } }))
    } else {
      if (asObject(options.body.stream_options).include_usage === true) {
        await write(formatSseData({
          id: asString(last?.id) ?? `chatcmpl-${ctx.requestId}`,
          object: 'chat.completion.chunk',
          created: ctx.created,
          model: asString(last?.model) ?? target.model,
          choices: [],
          usage: openAiUsage(usage),
        }))
      }
      await write(sseDone)
    }
    res.end()
  }
  return {
    kind: 'answered',
    result: {
      ok: true,
      status: 200,
      provider: target.provider.name,
      model: target.model,
      usage,
      attempts: [],
      firstByteMs: writer.firstByteMs,
      responseBytes: writer.bytes,
      ...(clientClosed ? { clientClosed: true } : {}),
      ...(broken ? { error: broken } : {}),
    },
  }
}

/** Resolves when `res` can take more, or the client is gone. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
    signal.addEventListener('abort', done)
  })
}

function markFirstByte(writer: ClientWriter): void {
  writer.firstByteMs ??= Math.round((performance.now() - writer.started) * 100) / 100
}

function toUsage(tokens: ProviderTokens, estimated: boolean): Usage {
  return { promptTokens: tokens.promptTokens, completionTokens: tokens.completionTokens, totalTokens: tokens.promptTokens + tokens.completionTokens, estimated }
}

/** Counts prompt and completion tokens when the provider reported none. */
export async function estimateChatUsage(body: JsonObject, completion: string): Promise<Usage> {
  return toUsage({ promptTokens: await countPromptTokens(body), completionTokens: await countTextTokens(completion) }, true)
}

function completionTextOf(answer: JsonObject): string {
  return asArray(answer.choices)
    .map((choice) => textOfContent(asObject(asObject(choice).message).content))
    .join('')
}

/** OpenAI's base64 embedding encoding: little-endian float32 bytes (what the SDKs request by default). */
function encodeEmbeddingsBase64(answer: JsonObject): void {
  for (const entry of asArray(answer.data)) {
    if (!isObject(entry) || !Array.isArray(entry.embedding)) continue
    const values = entry.embedding.map((v) => (typeof v === 'number' ? v : 0))
    const floats = new Float32Array(values)
    entry.embedding = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64')
  }
}

/** Model names a provider offers (its own models endpoint), e.g. for `gatehouse doctor` or to check a route's models. */
export async function listProviderModels(provider: ResolvedProvider, signal: AbortSignal = AbortSignal.timeout(provider.timeoutMs)): Promise<string[]> {
  const adapter = adapterFor(provider.type)
  const req = adapter.modelsRequest(provider)
  const target: ModelTarget = { provider, model: '', requested: '' }
  const response = await send(req, signal)
  const text = await readBounded(response.body, maxAnswerBytes, false)
  if (response.statusCode < 200 || response.statusCode >= 300) {
    const error = adapter.explainError({ status: response.statusCode, body: text, headers: response.headers }, target)
    throw Object.assign(new Error(error.message), { explanation: error })
  }
  return adapter.modelsResponse(JSON.parse(text) as JsonValue)
}

/** The `GET /v1/models` body for the ids a consumer may use (aliases and provider/model names). */
export function modelList(ids: readonly string[], ownedBy = 'gatehouse', created = 0): { object: 'list'; data: ModelListEntry[] } {
  return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: ownedBy })) }
}

