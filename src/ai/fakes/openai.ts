import { timingSafeEqual } from 'node:crypto'
import type { JsonObject, JsonValue } from '../../core/json.js'
import { formatSseData, sseDone } from '../sse.js'
import {
  failureFor,
  fakeEmbedding,
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

type Flavour = 'openai' | 'openai-compatible' | 'azure' | 'mistral'

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** OpenAI's way of echoing a wrong key: a few characters each end, stars between. */
function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 6)}${'*'.repeat(Math.min(20, key.length - 10))}${key.slice(-4)}`
}

function openAiError(message: string, type: string, code: string | null, param: string | null = null): JsonObject {
  return { error: { message, type, param, code } }
}

function authFailure(ex: Exchange, flavour: Flavour): boolean {
  const expected = ex.state.options.key
  if (expected === undefined) return false
  if (flavour === 'azure') {
    const given = String(ex.req.headers['api-key'] ?? '')
    if (safeEqual(given, expected)) return false
    sendJson(ex, 401, { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' } })
    return true
  }
  const header = String(ex.req.headers.authorization ?? '')
  const given = header.startsWith('Bearer ') ? header.slice(7) : ''
  if (safeEqual(given, expected)) return false
  if (flavour === 'mistral') sendJson(ex, 401, { message: 'Unauthorized', request_id: randomHex(32) })
  else if (flavour === 'openai-compatible') sendJson(ex, 401, { error: 'Unauthorized' })
  else if (!given) sendJson(ex, 401, openAiError("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error', null))
  else sendJson(ex, 401, openAiError(`Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key'))
  return true
}

function sendFailure(ex: Exchange, flavour: Flavour, failure: FakeFailure, model: string): void {
  const retry = retryAfter(ex)
  if (flavour === 'mistral') {
    const shapes: Record<FakeFailure, [number, JsonValue, Record<string, string>]> = {
      'rate-limited': [429, { message: 'Requests rate limit exceeded' }, retry],
      quota: [429, { object: 'error', message: 'You have exceeded your monthly quota; check your billing.', type: 'quota_exceeded', param: null, code: '3505' }, {}],
      overloaded: [429, { object: 'error', message: 'Service tier capacity exceeded for this model.', type: 'service_tier_capacity_exceeded', param: null, code: '3505' }, retry],
      'server-error': [500, { object: 'error', message: 'Internal server error', type: 'internal_server_error', param: null, code: '1000' }, {}],
      region: [403, { message: 'Forbidden: region not supported' }, {}],
      'model-access': [403, { object: 'error', message: `Your organization does not have access to model ${model}`, type: 'forbidden', param: null, code: '1301' }, {}],
    }
    const [status, body, headers] = shapes[failure]
    return sendJson(ex, status, body, headers)
  }
  if (flavour === 'azure') {
    const shapes: Record<FakeFailure, [number, JsonValue, Record<string, string>]> = {
      'rate-limited': [429, { error: { code: '429', message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${retry['retry-after']} seconds.` } }, { ...retry, 'retry-after-ms': String(Number(retry['retry-after']) * 1000) }],
      quota: [429, { error: { code: 'InsufficientQuota', message: 'The subscription has exceeded its quota for this resource; request more quota.' } }, {}],
      overloaded: [503, { error: { code: 'ServiceUnavailable', message: 'The service is temporarily overloaded. Please try again later.' } }, retry],
      'server-error': [500, { error: { code: 'InternalServerError', message: 'The server had an error processing your request.' } }, {}],
      region: [403, { error: { code: '403', message: 'Access denied due to Virtual Network/Firewall rules.' } }, {}],
      'model-access': [403, { error: { code: 'PermissionDenied', message: `The principal lacks the required data action to use deployment ${model}.` } }, {}],
    }
    const [status, body, headers] = shapes[failure]
    return sendJson(ex, status, body, headers)
  }
  const shapes: Record<FakeFailure, [number, JsonValue, Record<string, string>]> = {
    'rate-limited': [429, openAiError(`Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${retry['retry-after']}s.`, 'requests', 'rate_limit_exceeded'), retry],
    quota: [429, openAiError('You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', 'insufficient_quota', 'insufficient_quota'), {}],
    overloaded: [503, openAiError('The engine is currently overloaded, please try again later', 'server_error', null), retry],
    'server-error': [500, openAiError('The server had an error while processing your request. Sorry about that!', 'server_error', null), {}],
    region: [403, { error: { code: 'unsupported_country_region_territory', message: 'Country, region, or territory not supported', param: null, type: 'request_forbidden' } }, {}],
    'model-access': [403, openAiError(`Project \`proj_fake\` does not have access to model \`${model}\``, 'invalid_request_error', 'model_not_found'), {}],
  }
  const [status, body, headers] = shapes[failure]
  sendJson(ex, status, body, headers)
}

function modelNotFound(ex: Exchange, flavour: Flavour, model: string): void {
  if (flavour === 'azure') return sendJson(ex, 404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.' } })
  if (flavour === 'mistral') return sendJson(ex, 400, { object: 'error', message: `Invalid model: ${model}`, type: 'invalid_model', param: null, code: '1500' })
  sendJson(ex, 404, openAiError(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'))
}

function asObject(value: JsonValue | undefined): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}
}

/** Handles the OpenAI wire protocol and its Azure, Mistral and OpenAI-compatible variants. */
export async function handleOpenAiFamily(ex: Exchange, flavour: Flavour): Promise<void> {
  const path = ex.url.pathname
  let operation: 'chat' | 'embeddings' | 'models' | undefined
  let model = ''
  if (flavour === 'azure') {
    const match = /^\/openai\/deployments\/([^/]{1,200})\/(chat\/completions|embeddings)$/.exec(path)
    if (!ex.url.searchParams.get('api-version')) return sendJson(ex, 404, { error: { code: '404', message: 'Resource not found' } })
    if (authFailure(ex, flavour)) return
    if (path === '/openai/models') operation = 'models'
    else if (match) {
      operation = match[2] === 'embeddings' ? 'embeddings' : 'chat'
      model = decodeURIComponent(match[1])
    }
  } else {
    if (authFailure(ex, flavour)) return
    if (path === '/v1/chat/completions') operation = 'chat'
    else if (path === '/v1/embeddings') operation = 'embeddings'
    else if (path === '/v1/models') operation = 'models'
  }
  if (!operation) return sendJson(ex, 404, flavour === 'azure' ? { error: { code: '404', message: 'Resource not found' } } : openAiError(`Invalid URL (${ex.req.method} ${path})`, 'invalid_request_error', null))
  if (operation === 'models') {
    const ids = ex.state.options.models ?? ['fake-model']
    return sendJson(ex, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'fake' })) })
  }
  const body = asObject(ex.body)
  if (flavour !== 'azure') model = typeof body.model === 'string' ? body.model : ''
  if (flavour === 'mistral') {
    // Mistral refuses fields it does not know (422 "Extra inputs are not permitted").
    for (const field of ['stream_options', 'user', 'store', 'seed', 'max_completion_tokens', 'encoding_format']) {
      if (body[field] !== undefined) {
        return sendJson(ex, 422, { object: 'error', message: { detail: [{ type: 'extra_forbidden', loc: ['body', field], msg: 'Extra inputs are not permitted' }] }, type: 'invalid_request_error', param: null, code: null })
      }
    }
  }
  if (!isKnownModel(ex, model)) return modelNotFound(ex, flavour, model)
  const failure = failureFor(ex)
  if (failure) return sendFailure(ex, flavour, failure, model)
  if (operation === 'embeddings') return embeddings(ex, flavour, body, model)
  return chat(ex, flavour, body, model)
}

function embeddings(ex: Exchange, flavour: Flavour, body: JsonObject, model: string): void {
  const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input.map(String) : []
  const dims = typeof body.dimensions === 'number' ? body.dimensions : typeof body.output_dimension === 'number' ? body.output_dimension : 8
  const data = inputs.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text, dims) }))
  const tokens = fakeTokens(inputs)
  const answer: JsonObject = { object: 'list', data, model }
  if (flavour === 'mistral') answer.id = `embd-${randomHex(16)}`
  if (!ex.state.behaviour.omitUsage) answer.usage = flavour === 'mistral' ? { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 } : { prompt_tokens: tokens, total_tokens: tokens }
  sendJson(ex, 200, answer)
}

async function chat(ex: Exchange, flavour: Flavour, body: JsonObject, model: string): Promise<void> {
  const words = replyWords(ex, body)
  const promptTokens = fakeTokens(promptTexts(body))
  const completionTokens = fakeTokens(words)
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }
  const id = `chatcmpl-${randomHex(24)}`
  const created = Math.floor(Date.now() / 1000)
  if (body.stream !== true) {
    const answer: JsonObject = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: words.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
    }
    if (!ex.state.behaviour.omitUsage) answer.usage = usage
    if (flavour === 'openai') answer.system_fingerprint = 'fp_fake'
    return sendJson(ex, 200, answer)
  }
  const withUsage = !ex.state.behaviour.omitUsage && (flavour === 'mistral' || asObject(body.stream_options).include_usage === true)
  const chunk = (delta: JsonObject, finish: string | null, extra: JsonObject = {}): string => {
    const c: JsonObject = { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra }
    // With include_usage OpenAI sends `usage: null` on every chunk but the last.
    if (withUsage && flavour !== 'mistral' && !('usage' in extra)) c.usage = null
    return formatSseData(c)
  }
  const events: string[] = []
  if (flavour === 'azure') events.push(formatSseData({ id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] }))
  events.push(chunk({ role: 'assistant', content: '' }, null))
  const limit = ex.state.behaviour.breakStreamAfterChunks
  const content = limit === undefined ? words : words.slice(0, limit)
  for (const word of content) events.push(chunk({ content: word }, null))
  startSse(ex)
  if (!(await writeEvents(ex, events))) return
  if (limit !== undefined) {
    ex.res.write(formatSseData({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } }))
    ex.res.end()
    ex.record.completed = true
    return
  }
  const tail: string[] = []
  if (flavour === 'mistral') tail.push(chunk({ content: '' }, 'stop', withUsage ? { usage } : {}))
  else {
    tail.push(chunk({}, 'stop'))
    if (withUsage) tail.push(formatSseData({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }))
  }
  tail.push(sseDone)
  await sleep(ex.state.behaviour.chunkDelayMs ?? 2)
  if (ex.closed()) return
  ex.res.end(tail.join(''))
  ex.record.completed = true
}
