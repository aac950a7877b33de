import type { Rule } from '../../core/denial.js'

/** Rules of the `models` layer (ai routes); the only place their ids are spelled. */
export const rules = {
  badBody: {
    id: 'models.bad-body',
    status: 400,
    title: 'Request body is not an OpenAI-style JSON object',
    meaning: 'An ai route received a POST whose body is not a JSON object (or could not be read), so the model it asks for is unknown.',
    remedy: "Send a JSON object body such as { \"model\": \"fast\", \"messages\": [...] } with Content-Type: application/json.",
  },
  modelMissing: {
    id: 'models.model-missing',
    status: 400,
    title: 'No model named',
    meaning: "The body of a chat or embeddings call has no 'model' string, so the gateway cannot tell which model to call.",
    remedy: "Name a model in the body's 'model' field; GET /v1/models lists the ones you may use.",
  },
  modelNotAllowed: {
    id: 'models.model-not-allowed',
    status: 403,
    title: 'Model not allowed for this caller',
    meaning: "The caller is known, but the model it asked for is not in its allow-list (routes[].policies.models: consumers.<name>, else tenants.<tenant>, else allow). The answer lists the models the caller may use.",
    remedy: "Use one of the models listed in 'allowedModels', or ask the API operator to allow this one for you.",
  },
  unknownModel: {
    id: 'models.unknown-model',
    status: 404,
    title: 'Unknown model',
    meaning: "The model is neither an alias of the route (routes[].models) nor '<provider>/<model>' with a provider under providers:.",
    remedy: "Use one of the models listed in 'allowedModels' (GET /v1/models lists them).",
  },
  promptTooLarge: {
    id: 'models.prompt-too-large',
    status: 413,
    title: 'Prompt too large',
    meaning: 'The prompt (the text of messages, or the embeddings input) is larger than routes[].policies.models.maxPromptBytes.',
    remedy: 'Send a shorter prompt; the limit is in the answer.',
  },
  tooManyPromptTokens: {
    id: 'models.too-many-prompt-tokens',
    status: 400,
    title: 'Prompt has too many tokens',
    meaning: 'The prompt counts more tokens (o200k tokenizer, as the gateway estimates them) than routes[].policies.models.maxPromptTokens.',
    remedy: 'Send a shorter prompt; the limit is in the answer.',
  },
} as const satisfies Record<string, Rule>
