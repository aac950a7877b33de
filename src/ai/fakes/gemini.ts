import { timingSafeEqual } from 'node:crypto'
import type { JsonObject, JsonValue } from '../../core/json.js'
import { formatSseData } from '../sse.js'
import {
  failureFor,
  fakeEmbedding,
  fakeTokens,
  isKnownModel,
  promptTexts,
  randomHex,
  replyWords,
  sendJson,
  startSse,
  writeEvents,
  type Exchange,
  type FakeFailure,
} from './common.js'

function googleError(code: number, status: string, message: string, details: JsonValue[] = []): JsonObject {
  return { error: { code, message, status, ...(details.length > 0 ? { details } : {}) } }
}

function asObject(value: JsonValue | undefined): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}
}

function failure(kind: FakeFailure, ex: Exchange): [number, JsonObject] {
  const retry = `${ex.state.behaviour.retryAfterSeconds ?? 7}s`
  switch (kind) {
    case 'rate-limited':
      return [429, googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: retry }])]
    case 'quota':
      return [429, googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.', [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: retry },
      ])]
    case 'overloaded':
      return [503, googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.')]
    case 'server-error':
      return [500, googleError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting')]
    case 'region':
      return [400, googleError(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.')]
    case 'model-access':
      return [403, googleError(403, 'PERMISSION_DENIED', 'Permission denied: the caller does not have permission to access this model.')]
  }
}

/** Google's Gemini API (generativelanguage v1beta): key in `x-goog-api-key` (or `?key=`). */
export async function handleGemini(ex: Exchange): Promise<void> {
  const expected = ex.state.options.key
  if (expected !== undefined) {
    const given = String(ex.req.headers['x-goog-api-key'] ?? ex.url.searchParams.get('key') ?? '')
    if (!given) return sendJson(ex, 403, googleError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."))
    const a = Buffer.from(given)
    const b = Buffer.from(expected)
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      // Google answers a bad key with 400, not 401.
      return sendJson(ex, 400, googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
      ]))
    }
  }
  const path = ex.url.pathname
  if (path === '/v1beta/models' && ex.req.method === 'GET') {
    const names = ex.state.options.models ?? ['gemini-fake']
    return sendJson(ex, 200, { models: names.map((name) => ({ name: `models/${name}`, displayName: name, supportedGenerationMethods: ['generateContent', 'countTokens'] })) })
  }
  const match = /^\/v1beta\/models\/([^/:]{1,200}):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/.exec(path)
  if (!match || ex.req.method !== 'POST') return sendJson(ex, 404, googleError(404, 'NOT_FOUND', `Invalid path ${path}`))
  const model = decodeURIComponent(match[1])
  const method = match[2]
  if (!isKnownModel(ex, model)) {
    return sendJson(ex, 404, googleError(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`))
  }
  const fail = failureFor(ex)
  if (fail) {
    const [status, body] = failure(fail, ex)
    return sendJson(ex, status, body)
  }
  const body = asObject(ex.body)
  if (method === 'embedContent' || method === 'batchEmbedContents') return embeddings(ex, method, model, body)
  for (const content of Array.isArray(body.contents) ? body.contents : []) {
    const role = asObject(content).role
    if (role !== 'user' && role !== 'model') return sendJson(ex, 400, googleError(400, 'INVALID_ARGUMENT', 'Please use a valid role: user, model.'))
  }
  const toolCall = ex.state.behaviour.toolCall
  if (toolCall && Array.isArray(body.tools) && body.tools.length > 0) {
    const answer = {
      candidates: [{ content: { parts: [{ functionCall: { name: toolCall.name, args: toolCall.arguments } }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: fakeTokens(promptTexts(body)), candidatesTokenCount: 5, totalTokenCount: fakeTokens(promptTexts(body)) + 5 },
      modelVersion: model,
    }
    if (method === 'generateContent') return sendJson(ex, 200, answer)
    startSse(ex)
    if (await writeEvents(ex, [formatSseData(answer)])) {
      ex.res.end()
      ex.record.completed = true
    }
    return
  }
  const words = replyWords(ex, body)
  const promptTokenCount = fakeTokens(promptTexts(body))
  const candidatesTokenCount = fakeTokens(words)
  const usageMetadata: JsonObject = { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount, promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }] }
  const responseId = randomHex(20)
  if (method === 'generateContent') {
    const answer: JsonObject = { candidates: [{ content: { parts: [{ text: words.join('') }], role: 'model' }, finishReason: 'STOP', index: 0 }], modelVersion: model, responseId }
    if (!ex.state.behaviour.omitUsage) answer.usageMetadata = usageMetadata
    return sendJson(ex, 200, answer)
  }
  if (ex.url.searchParams.get('alt') !== 'sse') return sendJson(ex, 400, googleError(400, 'INVALID_ARGUMENT', 'this fake streams only with alt=sse'))
  const limit = ex.state.behaviour.breakStreamAfterChunks
  const sent = limit === undefined ? words : words.slice(0, limit)
  let soFar = 0
  const events = sent.map((word, i) => {
    soFar += fakeTokens([word])
    const last = limit === undefined && i === sent.length - 1
    const candidate: JsonObject = { content: { parts: [{ text: word }], role: 'model' }, index: 0 }
    if (last) candidate.finishReason = 'STOP'
    const chunk: JsonObject = { candidates: [candidate], modelVersion: model, responseId }
    // Every chunk carries running usage; the last one the totals.
    if (!ex.state.behaviour.omitUsage) chunk.usageMetadata = last ? usageMetadata : { promptTokenCount, candidatesTokenCount: soFar, totalTokenCount: promptTokenCount + soFar }
    return formatSseData(chunk)
  })
  startSse(ex)
  if (!(await writeEvents(ex, events))) return
  if (limit !== undefined) {
    // Google just drops the connection (after what was written has left).
    await new Promise<void>((resolve) => ex.res.write('', () => resolve()))
    await new Promise((resolve) => setTimeout(resolve, 20))
    ex.res.destroy()
    return
  }
  ex.res.end()
  ex.record.completed = true
}

function embeddings(ex: Exchange, method: string, model: string, body: JsonObject): void {
  const textOf = (content: JsonValue | undefined): string => {
    const parts = asObject(content).parts
    return (Array.isArray(parts) ? parts : []).map((p) => String(asObject(p).text ?? '')).join('')
  }
  if (method === 'embedContent') {
    const dims = typeof body.outputDimensionality === 'number' ? body.outputDimensionality : 8
    return sendJson(ex, 200, { embedding: { values: fakeEmbedding(textOf(body.content), dims) } })
  }
  const requests = Array.isArray(body.requests) ? body.requests : []
  const out: JsonValue[] = []
  for (const entry of requests) {
    const request = asObject(entry)
    if (request.model !== `models/${model}`) {
      return sendJson(ex, 400, googleError(400, 'INVALID_ARGUMENT', `Model "${String(request.model)}" in request does not match the model in the URL "models/${model}".`))
    }
    const dims = typeof request.outputDimensionality === 'number' ? request.outputDimensionality : 8
    out.push({ values: fakeEmbedding(textOf(request.content), dims) })
  }
  sendJson(ex, 200, { embeddings: out })
}
