import { createParser, type EventSourceMessage } from 'eventsource-parser'

export type { EventSourceMessage }

/**
 * Incremental reader of a provider's Server-Sent Events stream. `feed` takes raw bytes as they
 * arrive and returns the events they completed, so the caller can translate and write each one
 * before the next network read (no buffering beyond an incomplete line).
 */
export interface SseReader {
  feed(chunk: Uint8Array | string): EventSourceMessage[]
  /** Flush a final event the provider did not terminate with a blank line. */
  end(): EventSourceMessage[]
}

export function createSseReader(): SseReader {
  const decoder = new TextDecoder()
  let pending: EventSourceMessage[] = []
  // 1 MiB per event is far above any real chunk; the cap keeps a broken upstream from growing memory.
  let overflow = false
  const parser = createParser({
    onEvent: (event) => pending.push(event),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = true
    },
    maxBufferSize: 1024 * 1024,
  })
  const take = (): EventSourceMessage[] => {
    if (overflow) throw new Error('the provider sent an SSE event larger than 1 MiB')
    const out = pending
    pending = []
    return out
  }
  return {
    feed(chunk) {
      parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
      return take()
    },
    end() {
      const rest = decoder.decode()
      if (rest) parser.feed(rest)
      parser.reset({ consume: true })
      return take()
    },
  }
}

/** One SSE `data:` event as OpenAI streams it. */
export function formatSseData(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`
}

/** An SSE event with a name, as Anthropic streams it (used by the fakes). */
export function formatSseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export const sseDone = 'data: [DONE]\n\n'
