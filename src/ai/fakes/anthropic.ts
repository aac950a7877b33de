import { timingSafeEqual } from 'node:crypto'
import type { JsonObject, JsonValue } from '../../core/json.js'
import { formatSseEvent } from '../sse.js'
import {
  failureFor,
  fakeTokens,
  isKnownModel,
  promptTexts,
  randomHex,
  replyWords,
  retryAfter,
  sendJson,
  sleep,
  startSse,
  writeEvents,
  type Exchange,
  type FakeFailure,
} from './common.js'

function anthropicError(type: string, message: string): JsonObject {
  return { type: 'error', error: { type, message }, request_id: `req_${randomHex(24)}` }
}

const failures: Record<FakeFailure, [number, string, string]> = {
  'rate-limited': [429, 'rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.'],
  quota: [400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'],
  overloaded: [529, 'overloaded_error', 'Overloaded'],
  'server-error': [500, 'api_error', 'Internal server error'],
  region: [403, 'forbidden', 'Request not allowed'],
  'model-access': [403, 'permission_error', 'Your API key does not have permission to use the specified resource.'],
}

function asObject(value: JsonValue | undefined): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}
}

/** The Anthropic Messages API: `POST /v1/messages` with `x-api-key` and `anthropic-version`. */
export async function handleAnthropic(ex: Exchange): Promise<void> {
  const path = ex.url.pathname
  const expected = ex.state.options.key
  if (expected !== undefined) {
    const given = Buffer.from(String(ex.req.headers['x-api-key'] ?? ''))
    const want = Buffer.from(expected)
    if (given.length === 0) return sendJson(ex, 401, anthropicError('authentication_error', 'x-api-key header is required'))
    if (given.length !== want.length || !timingSafeEqual(given, want)) return sendJson(ex, 401, anthropicError('authentication_error', 'invalid x-api-key'))
  }
  if (!ex.req.headers['anthropic-version']) return sendJson(ex, 400, anthropicError('invalid_request_error', 'anthropic-version: header is required'))
  if (path === '/v1/models' && ex.req.method === 'GET') {
    const ids = ex.state.options.models ?? ['claude-fake']
    return sendJson(ex, 200, { data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' })), has_more: false, first_id: ids[0] ?? null, last_id: ids[ids.length - 1] ?? null })
  }
  if (path !== '/v1/messages' || ex.req.method !== 'POST') return sendJson(ex, 404, anthropicError('not_found_error', 'Not Found'))
  const body = asObject(ex.body)
  const model = typeof body.model === 'string' ? body.model : ''
  if (typeof body.max_tokens !== 'number') return sendJson(ex, 400, anthropicError('invalid_request_error', 'max_tokens: Field required'))
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    const role = asObject(message).role
    if (role !== 'user' && role !== 'assistant') {
      return sendJson(ex, 400, anthropicError('invalid_request_error', `messages: Unexpected role "${String(role)}". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`))
    }
  }
  if (!isKnownModel(ex, model)) return sendJson(ex, 404, anthropicError('not_found_error', `model: ${model}`))
  const failure = failureFor(ex)
  if (failure) {
    const [status, type, message] = failures[failure]
    return sendJson(ex, status, anthropicError(type, message), status === 429 || status === 529 ? retryAfter(ex) : {})
  }

  const toolCall = ex.state.behaviour.toolCall
  if (toolCall && Array.isArray(body.tools) && body.tools.length > 0) return answerWithTool(ex, body, model, toolCall)
  let words = replyWords(ex, body)
  let stopReason = 'end_turn'
  if (words.length > body.max_tokens) {
    words = words.slice(0, body.max_tokens)
    stopReason = 'max_tokens'
  }
  const inputTokens = fakeTokens(promptTexts(body))
  const outputTokens = fakeTokens(words)
  const id = `msg_${randomHex(24)}`
  if (body.stream !== true) {
    return sendJson(ex, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: words.join('') }],
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens },
    })
  }
  const limit = ex.state.behaviour.breakStreamAfterChunks
  const events: string[] = [
    formatSseEvent('message_start', {
      type: 'message_start',
      message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } },
    }),
    formatSseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    formatSseEvent('ping', { type: 'ping' }),
  ]
  for (const word of limit === undefined ? words : words.slice(0, limit)) {
    events.push(formatSseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word } }))
  }
  startSse(ex)
  if (!(await writeEvents(ex, events))) return
  if (limit !== undefined) {
    // Anthropic reports trouble inside a started stream as an `error` event.
    ex.res.end(formatSseEvent('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))
    ex.record.completed = true
    return
  }
  await sleep(ex.state.behaviour.chunkDelayMs ?? 2)
  if (ex.closed()) return
  ex.res.end([
    formatSseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    formatSseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } }),
    formatSseEvent('message_stop', { type: 'message_stop' }),
  ].join(''))
  ex.record.completed = true
}

async function answerWithTool(ex: Exchange, body: JsonObject, model: string, call: { name: string; arguments: JsonObject }): Promise<void> {
  const id = `msg_${randomHex(24)}`
  const toolId = `toolu_${randomHex(24)}`
  const inputTokens = fakeTokens(promptTexts(body))
  if (body.stream !== true) {
    return sendJson(ex, 200, {
      id, type: 'message', role: 'assistant', model,
      content: [{ type: 'tool_use', id: toolId, name: call.name, input: call.arguments }],
      stop_reason: 'tool_use', stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 5 },
    })
  }
  const json = JSON.stringify(call.arguments)
  const half = Math.floor(json.length / 2)
  startSse(ex)
  const ok = await writeEvents(ex, [
    formatSseEvent('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } }),
    formatSseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: toolId, name: call.name, input: {} } }),
    formatSseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: json.slice(0, half) } }),
    formatSseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: json.slice(half) } }),
    formatSseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    formatSseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } }),
    formatSseEvent('message_stop', { type: 'message_stop' }),
  ])
  if (!ok) return
  ex.res.end()
  ex.record.completed = true
}
