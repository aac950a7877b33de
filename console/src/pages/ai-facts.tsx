/**
 * What the call log keeps of an AI call (`ai` of GET /api/calls and /api/calls/:id, see
 * src/store/types.ts AiCallFacts) and how the console writes it. Kept apart from the AI usage
 * page so the call pages do not pull in the chart library.
 */
import { formatMs, formatNumber } from '../components/ui.js'

export interface AiCallFacts {
  provider: string
  model: string
  requested: string
  promptTokens: number
  completionTokens: number
  totalTokens: number
  /** The provider reported no usage: the gateway counted the tokens. */
  estimated: boolean
  /** null when the model has no price in `providers.<name>.prices`. */
  costUsd: number | null
  firstByteMs: number | null
  stream: boolean
  operation?: string
  fallbacks?: number
}

/** A call as listed by the admin API, with its AI facts when it was an AI call. */
export interface WithAi {
  ai?: AiCallFacts
}

/**
 * US dollars: cents from $1 up; below that up to 4 decimals, and up to 6 for sub-cent amounts
 * (one chat call often costs a fraction of a cent, which would show as $0.00).
 */
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '—'
  const digits = usd === 0 || Math.abs(usd) >= 1 ? 2 : Math.abs(usd) >= 0.01 ? 4 : 6
  return usd.toLocaleString('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: digits })
}

/** `~` marks tokens the gateway counted, as `gatehouse calls` does. */
export function formatTokens(ai: Pick<AiCallFacts, 'promptTokens' | 'completionTokens' | 'estimated'>): string {
  return `${ai.estimated ? '~' : ''}${formatNumber(ai.promptTokens)} in / ${formatNumber(ai.completionTokens)} out`
}

/** One line for a call list: model, tokens and cost. */
export function AiFactsInline({ ai }: { ai: AiCallFacts }) {
  return (
    <span className="ai-inline" data-testid="ai-inline">
      <span className="chip">{`${ai.provider}/${ai.model}`}</span> {formatTokens(ai)} tok · {ai.costUsd === null ? 'no price' : formatUsd(ai.costUsd)}
      {ai.firstByteMs !== null ? ` · first byte ${formatMs(ai.firstByteMs)}` : ''}
    </span>
  )
}
