import { loadedTokenizer, preloadTokenizer } from '../../ai/tokens.js'

/** Deepest nesting of content parts read; OpenAI bodies are two levels deep. */
const maxDepth = 4

/**
 * The prompt text of an OpenAI-style body: every message's content (strings, and the `text`
 * of content parts) for chat, or the `input` for embeddings. Images and audio are not text
 * and are not counted.
 */
export function promptText(body: Record<string, unknown>): string {
  const parts: string[] = []
  const collect = (value: unknown, depth: number) => {
    if (depth > maxDepth) return
    if (typeof value === 'string') parts.push(value)
    else if (Array.isArray(value)) for (const item of value) collect(item, depth + 1)
    else if (value !== null && typeof value === 'object') {
      const part = value as Record<string, unknown>
      if (typeof part.text === 'string') parts.push(part.text)
      else if (part.content !== undefined) collect(part.content, depth + 1)
    }
  }
  if (Array.isArray(body.messages)) for (const message of body.messages) collect((message as Record<string, unknown> | null)?.content, 0)
  if (typeof body.system === 'string') parts.push(body.system)
  if (body.input !== undefined) collect(body.input, 0)
  return parts.join('\n')
}

/**
 * True when `text` has more than `limit` tokens (o200k). Never tokenizes a text too short to
 * reach the limit (a token is at least one character), and stops counting once past it. The
 * token tables (tens of MB) load on first need, so gateways without prompt limits never pay
 * for them; until they are loaded the answer is a promise.
 */
export function isOverTokenLimit(text: string, limit: number): boolean | Promise<boolean> {
  if (text.length <= limit) return false
  const over = (tokenizer: NonNullable<ReturnType<typeof loadedTokenizer>>) => tokenizer.isWithinTokenLimit(text, limit, { disallowedSpecial: new Set() }) === false
  const tokenizer = loadedTokenizer()
  return tokenizer ? over(tokenizer) : preloadTokenizer().then(over)
}
