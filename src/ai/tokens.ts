import type { JsonObject, JsonValue } from '../core/json.js'

type Tokenizer = typeof import('gpt-tokenizer')

let loading: Promise<Tokenizer> | undefined

/**
 * Loads the tokenizer tables (about half a second, once). Call at start-up so the first call
 * that needs an estimate does not pay for it; counting functions load it on demand otherwise.
 */
export function preloadTokenizer(): Promise<Tokenizer> {
  loading ??= import('gpt-tokenizer').then((module) => (loaded = module))
  return loading
}

let loaded: Tokenizer | undefined

/** The tokenizer once loaded, for callers that can stay synchronous when it is. */
export function loadedTokenizer(): Tokenizer | undefined {
  return loaded
}

/** Tokens in a piece of text (o200k_base, OpenAI's current encoding: an estimate for other providers). */
export async function countTextTokens(text: string): Promise<number> {
  if (text === '') return 0
  const tokenizer = await preloadTokenizer()
  return tokenizer.countTokens(text)
}

/** Concatenated text of a message `content` (a string or OpenAI content parts). */
export function textOfContent(content: JsonValue | undefined): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const texts: string[] = []
  for (const part of content) {
    if (part && typeof part === 'object' && !Array.isArray(part) && typeof part.text === 'string') texts.push(part.text)
  }
  return texts.join('\n')
}

// OpenAI's chat format spends a few tokens per message on role and separators.
const tokensPerMessage = 3
const tokensPerReply = 3

/** Estimated prompt tokens of an OpenAI-style chat body (`messages`). */
export async function countPromptTokens(body: JsonObject): Promise<number> {
  const messages = Array.isArray(body.messages) ? body.messages : []
  let total = tokensPerReply
  for (const message of messages) {
    if (!message || typeof message !== 'object' || Array.isArray(message)) continue
    total += tokensPerMessage + (await countTextTokens(textOfContent(message.content)))
    if (typeof message.name === 'string') total += 1
  }
  return total
}

/** Estimated tokens of an embeddings `input` (a string or a list of strings). */
export async function countInputTokens(input: JsonValue | undefined): Promise<number> {
  if (typeof input === 'string') return countTextTokens(input)
  if (!Array.isArray(input)) return 0
  let total = 0
  for (const item of input) if (typeof item === 'string') total += await countTextTokens(item)
  return total
}
