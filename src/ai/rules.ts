import type { Rule } from '../core/denial.js'

/**
 * A provider's refusal or failure on an ai route, as the engine explained it. Layer `upstream`:
 * the provider refused the gateway's account, not the caller, so even a provider's 401/403 is
 * answered 502 and never looks like the gateway denied the consumer.
 */
export const aiUpstreamRules = {
  'bad-key': {
    id: 'upstream.provider-bad-key',
    status: 502,
    title: "The model provider refused the gateway's key",
    meaning: "The provider answered 401/403 to the gateway's own API key (providers.<name>.key): it is wrong, revoked or expired. Your Gatehouse key was accepted.",
    remedy: "This is the gateway's provider account, not your key: retry later or report the request id to the API operator.",
  },
  'model-access': {
    id: 'upstream.provider-model-access',
    status: 502,
    title: 'The gateway has no access to this model at the provider',
    meaning: "The provider refused the model for the gateway's account (403: the account or project is not granted this model).",
    remedy: 'Use another model, or report the request id to the API operator.',
  },
  region: {
    id: 'upstream.provider-region',
    status: 502,
    title: 'The provider does not serve the gateway from its region',
    meaning: "The provider refused the call because of the country or region the gateway calls from (unsupported_country_region_territory, or Gemini's 'User location is not supported').",
    remedy: 'Use another model, or report the request id to the API operator.',
  },
  quota: {
    id: 'upstream.provider-quota',
    status: 429,
    title: "The gateway's provider quota is used up",
    meaning: "The provider answered 429 because the gateway's account has no quota or credit left (insufficient_quota, billing), on every target of the alias. Answered 429 so clients back off.",
    remedy: 'Retry later or use another model; the API operator must top up the provider account.',
  },
  'rate-limited': {
    id: 'upstream.provider-rate-limited',
    status: 429,
    title: 'The model provider is rate limiting the gateway',
    meaning: "The provider answered 429 (too many requests or tokens per minute for the gateway's account) on every target of the alias.",
    remedy: 'Retry after a short wait (see Retry-After when present).',
  },
  'model-not-found': {
    id: 'upstream.provider-model-not-found',
    status: 502,
    title: 'The provider does not know the model',
    meaning: "The provider answered 404 for the model (or Azure deployment) the alias points at: routes[].models or providers.<name>.deployments names a model the provider does not have.",
    remedy: 'Use another model, or report the request id to the API operator.',
  },
  overloaded: {
    id: 'upstream.provider-overloaded',
    status: 502,
    title: 'The model provider is overloaded',
    meaning: 'The provider answered 503/529 (overloaded) on every target of the alias.',
    remedy: 'Retry later.',
  },
  'bad-request': {
    id: 'upstream.provider-bad-request',
    status: 502,
    title: 'The model provider refused the request',
    meaning: 'The provider answered 400/422: a parameter of the request is not valid for that model (context too long, unsupported option). The provider\'s message is in the detail.',
    remedy: 'Fix the request as the detail says.',
  },
  forbidden: {
    id: 'upstream.provider-forbidden',
    status: 502,
    title: "The model provider refused the gateway's account",
    meaning: "The provider answered 403 for a reason it did not spell out (not a bad key, region or model grant it names).",
    remedy: "This is the gateway's provider account, not your key: report the request id to the API operator.",
  },
  'stream-broken': {
    id: 'upstream.provider-stream-broken',
    status: 502,
    title: 'The model provider broke off the stream',
    meaning: 'The provider stopped a streamed answer part-way (connection lost or an error event); the client got what arrived and an OpenAI-style error event.',
    remedy: 'Retry the call.',
  },
  unsupported: {
    id: 'upstream.provider-unsupported',
    status: 400,
    title: 'The provider does not offer this operation',
    meaning: 'The model named is served by a provider without this API (Anthropic has no embeddings API), so no call was made.',
    remedy: 'Use a model whose provider offers this operation (GET /v1/models lists yours).',
  },
  unreachable: {
    id: 'upstream.provider-unreachable',
    status: 502,
    title: 'The model provider cannot be reached',
    meaning: 'The gateway could not connect to any provider of the alias (connection refused, DNS, TLS).',
    remedy: 'Retry later.',
  },
  timeout: {
    id: 'upstream.provider-timeout',
    status: 504,
    title: 'The model provider timed out',
    meaning: 'The provider did not start answering (or stalled mid-stream) within providers.<name>.timeoutMs.',
    remedy: 'Retry later, or send a smaller request.',
  },
  'server-error': {
    id: 'upstream.provider-server-error',
    status: 502,
    title: 'The model provider failed',
    meaning: 'The provider answered 5xx, or an answer the gateway could not read, on every target of the alias.',
    remedy: 'Retry later.',
  },
} as const satisfies Record<string, Rule>

/** The rule for an explained provider error's cause (server-error for a cause not listed). */
export function ruleForCause(cause: string): Rule {
  return Object.hasOwn(aiUpstreamRules, cause) ? aiUpstreamRules[cause as keyof typeof aiUpstreamRules] : aiUpstreamRules['server-error']
}
