import type { JsonObject, JsonValue } from '../../core/json.js'
import { textOfContent } from '../tokens.js'
import type { ModelTarget } from '../types.js'
import {
  asArray,
  asNumber,
  asObject,
  asString,
  causeOfStatus,
  completionId,
  explain,
  isObject,
  joinUrl,
  makeChunk,
  openAiUsage,
  parseJson,
  ProviderStreamError,
  retryAfterSeconds,
  withHeaders,
  type ChatStreamTranslator,
  type ProviderAdapter,
  type ProviderCause,
  type ProviderTokens,
} from './adapter.js'

/** `anthropic-version` sent unless the provider's `headers` set another. */
export const anthropicVersion = '2023-06-01'
/** Anthropic requires `max_tokens`; used when the client sent neither max_tokens nor max_completion_tokens. */
export const defaultAnthropicMaxTokens = 4096

/** OpenAI content (string or parts) → Anthropic content blocks. */
function contentBlocks(content: JsonValue | undefined): JsonValue {
  if (typeof content === 'string') return content
  const blocks: JsonValue[] = []
  for (const part of asArray(content)) {
    const p = asObject(part)
    if (p.type === 'text' && typeof p.text === 'string') blocks.push({ type: 'text', text: p.text })
    if (p.type === 'image_url') {
      const url = asString(asObject(p.image_url).url) ?? ''
      // data:<media type>;base64,<data> goes inline; anything else by URL.
      const inline = /^data:([a-z]+\/[a-z0-9.+-]{1,50});base64,/i.exec(url)
      if (inline) blocks.push({ type: 'image', source: { type: 'base64', media_type: inline[1], data: url.slice(inline[0].length) } })
      else if (url) blocks.push({ type: 'image', source: { type: 'url', url } })
    }
  }
  return blocks
}

/** OpenAI function tools → Anthropic tools. */
function anthropicTools(tools: JsonValue | undefined): JsonValue[] {
  const out: JsonValue[] = []
  for (const tool of asArray(tools)) {
    const fn = asObject(asObject(tool).function)
    const name = asString(fn.name)
    if (!name) continue
    const entry: JsonObject = { name, input_schema: isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} } }
    if (typeof fn.description === 'string') entry.description = fn.description
    out.push(entry)
  }
  return out
}

function anthropicToolChoice(choice: JsonValue | undefined): JsonObject | undefined {
  if (choice === 'auto') return { type: 'auto' }
  if (choice === 'required') return { type: 'any' }
  if (choice === 'none') return { type: 'none' }
  const name = asString(asObject(asObject(choice).function).name)
  return name ? { type: 'tool', name } : undefined
}

/** An assistant turn: its text, then one tool_use block per OpenAI tool call. */
function assistantContent(message: JsonObject): JsonValue {
  const calls = asArray(message.tool_calls)
  if (calls.length === 0) return contentBlocks(message.content ?? '')
  const blocks: JsonValue[] = []
  const text = textOfContent(message.content)
  if (text) blocks.push({ type: 'text', text })
  for (const call of calls) {
    const c = asObject(call)
    const fn = asObject(c.function)
    const input = parseJson(asString(fn.arguments) ?? '{}')
    blocks.push({ type: 'tool_use', id: asString(c.id) ?? '', name: asString(fn.name) ?? '', input: isObject(input) ? input : {} })
  }
  return blocks
}

/** The Messages API body: system prompt out of `messages`, `max_tokens` always set, `stop` → `stop_sequences`. */
export function anthropicBody(target: ModelTarget, body: JsonObject, stream: boolean): JsonObject {
  const system: string[] = []
  const messages: JsonValue[] = []
  for (const entry of asArray(body.messages)) {
    const message = asObject(entry)
    const role = asString(message.role)
    if (role === 'system' || role === 'developer') system.push(textOfContent(message.content))
    else if (role === 'assistant') messages.push({ role: 'assistant', content: assistantContent(message) })
    else if (role === 'tool') messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: asString(message.tool_call_id) ?? '', content: textOfContent(message.content) }] })
    else messages.push({ role: 'user', content: contentBlocks(message.content ?? '') })
  }
  const out: JsonObject = {
    model: target.model,
    max_tokens: asNumber(body.max_completion_tokens) ?? asNumber(body.max_tokens) ?? defaultAnthropicMaxTokens,
    messages,
  }
  if (system.length > 0) out.system = system.join('\n\n')
  if (body.temperature !== undefined && body.temperature !== null) out.temperature = body.temperature
  if (body.top_p !== undefined && body.top_p !== null) out.top_p = body.top_p
  if (typeof body.stop === 'string') out.stop_sequences = [body.stop]
  else if (Array.isArray(body.stop)) out.stop_sequences = body.stop
  if (typeof body.user === 'string') out.metadata = { user_id: body.user }
  const tools = anthropicTools(body.tools)
  if (tools.length > 0) out.tools = tools
  const toolChoice = anthropicToolChoice(body.tool_choice)
  if (toolChoice && tools.length > 0) out.tool_choice = toolChoice
  if (stream) out.stream = true
  return out
}

/** Anthropic stop_reason → OpenAI finish_reason. */
export function finishReasonOf(stopReason: string | undefined): string {
  if (stopReason === 'max_tokens') return 'length'
  if (stopReason === 'tool_use') return 'tool_calls'
  if (stopReason === 'refusal') return 'content_filter'
  return 'stop'
}

function usageOf(usage: JsonObject): ProviderTokens | undefined {
  const input = asNumber(usage.input_tokens)
  if (input === undefined) return undefined
  // Cached prompt tokens are still prompt tokens for accounting.
  const prompt = input + (asNumber(usage.cache_creation_input_tokens) ?? 0) + (asNumber(usage.cache_read_input_tokens) ?? 0)
  return { promptTokens: prompt, completionTokens: asNumber(usage.output_tokens) ?? 0 }
}

/** Anthropic error types (https://docs.anthropic.com/en/api/errors) → causes. */
function classifyAnthropic(status: number, type: string | undefined, message: string | undefined): ProviderCause {
  const text = (message ?? '').toLowerCase()
  if (text.includes('credit balance') || text.includes('billing')) return 'quota'
  if (text.includes('country') || text.includes('region') || text.includes('territory') || text.includes('request not allowed')) return 'region'
  switch (type) {
    case 'authentication_error':
      return 'bad-key'
    case 'permission_error':
      return 'model-access'
    case 'not_found_error':
      return 'model-not-found'
    case 'rate_limit_error':
      return 'rate-limited'
    case 'overloaded_error':
      return 'overloaded'
    case 'api_error':
      return 'server-error'
    case 'invalid_request_error':
    case 'request_too_large':
      return 'bad-request'
    default:
      return status ? causeOfStatus(status) : 'server-error'
  }
}

function errorOf(json: JsonValue | undefined): { type?: string; message?: string } {
  const error = asObject(asObject(json).error)
  return { type: asString(error.type), message: asString(error.message) }
}

/** Anthropic Messages API (`POST /v1/messages`, `x-api-key`, `anthropic-version`). */
export const anthropicAdapter: ProviderAdapter = {
  label: 'Anthropic',
  chatRequest(target, body, stream) {
    const provider = target.provider
    const headers = withHeaders(provider, { 'content-type': 'application/json' })
    headers['anthropic-version'] ??= anthropicVersion
    if (provider.key) headers['x-api-key'] = provider.key
    return { method: 'POST', url: joinUrl(provider.url, '/v1', '/messages'), headers, body: JSON.stringify(anthropicBody(target, body, stream)) }
  },
  chatResponse(json, target, ctx) {
    const message = asObject(json)
    const blocks = asArray(message.content).map((block) => asObject(block))
    const text = blocks
      .filter((block) => block.type === 'text')
      .map((block) => asString(block.text) ?? '')
      .join('')
    const toolCalls: JsonValue[] = blocks
      .filter((block) => block.type === 'tool_use')
      .map((block) => ({ id: asString(block.id) ?? '', type: 'function', function: { name: asString(block.name) ?? '', arguments: JSON.stringify(block.input ?? {}) } }))
    const usage = usageOf(asObject(message.usage))
    const reply: JsonObject = { role: 'assistant', content: toolCalls.length > 0 && !text ? null : text, refusal: null }
    if (toolCalls.length > 0) reply.tool_calls = toolCalls
    const response: JsonObject = {
      id: completionId(ctx),
      object: 'chat.completion',
      created: ctx.created,
      model: asString(message.model) ?? target.model,
      choices: [{ index: 0, message: reply, logprobs: null, finish_reason: finishReasonOf(asString(message.stop_reason)) }],
    }
    if (usage) response.usage = openAiUsage(usage)
    return { response, usage }
  },
  chatStream(target, ctx): ChatStreamTranslator {
    const id = completionId(ctx)
    let model = target.model
    let done = false
    let usage: ProviderTokens | undefined
    // Anthropic numbers content blocks (text and tool_use together); OpenAI numbers tool calls.
    const toolIndexOfBlock = new Map<number, number>()
    return {
      get done() {
        return done
      },
      usage: () => usage,
      push(event) {
        const data = asObject(parseJson(event.data))
        const type = asString(data.type) ?? event.event
        switch (type) {
          case 'content_block_start': {
            const block = asObject(data.content_block)
            if (block.type !== 'tool_use') return []
            const toolIndex = toolIndexOfBlock.size
            toolIndexOfBlock.set(asNumber(data.index) ?? toolIndex, toolIndex)
            return [makeChunk(id, ctx.created, model, { tool_calls: [{ index: toolIndex, id: asString(block.id) ?? '', type: 'function', function: { name: asString(block.name) ?? '', arguments: '' } }] }, null)]
          }
          case 'message_start': {
            const message = asObject(data.message)
            model = asString(message.model) ?? model
            usage = usageOf(asObject(message.usage)) ?? usage
            return [makeChunk(id, ctx.created, model, { role: 'assistant', content: '' }, null)]
          }
          case 'content_block_delta': {
            const delta = asObject(data.delta)
            if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
              const toolIndex = toolIndexOfBlock.get(asNumber(data.index) ?? -1) ?? 0
              return [makeChunk(id, ctx.created, model, { tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] }, null)]
            }
            if (delta.type !== 'text_delta' || typeof delta.text !== 'string') return []
            return [makeChunk(id, ctx.created, model, { content: delta.text }, null)]
          }
          case 'message_delta': {
            const delta = asObject(data.delta)
            const deltaUsage = asObject(data.usage)
            const output = asNumber(deltaUsage.output_tokens)
            const input = usageOf(deltaUsage)
            usage = {
              promptTokens: input?.promptTokens ?? usage?.promptTokens ?? 0,
              completionTokens: output ?? usage?.completionTokens ?? 0,
            }
            const stop = asString(delta.stop_reason)
            return stop ? [makeChunk(id, ctx.created, model, {}, finishReasonOf(stop))] : []
          }
          case 'message_stop':
            done = true
            return []
          case 'error': {
            const error = errorOf(data)
            throw new ProviderStreamError(explain({ cause: classifyAnthropic(0, error.type, error.message), status: 200, label: 'Anthropic', target, providerCode: error.type, providerMessage: error.message }))
          }
          default:
            return []
        }
      },
    }
  },
  modelsRequest(provider) {
    const headers = withHeaders(provider, {})
    headers['anthropic-version'] ??= anthropicVersion
    if (provider.key) headers['x-api-key'] = provider.key
    return { method: 'GET', url: joinUrl(provider.url, '/v1', '/models'), headers }
  },
  modelsResponse(json) {
    return asArray(asObject(json).data)
      .map((entry) => asString(asObject(entry).id))
      .filter((id): id is string => id !== undefined)
  },
  explainError(failure, target) {
    const error = errorOf(parseJson(failure.body))
    return explain({
      cause: classifyAnthropic(failure.status, error.type, error.message),
      status: failure.status,
      label: 'Anthropic',
      target,
      providerCode: error.type,
      providerMessage: error.message ?? (failure.body.trim().slice(0, 300) || undefined),
      retryAfterSeconds: retryAfterSeconds(failure.headers),
    })
  },
}

