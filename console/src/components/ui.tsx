import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { ApiError, type Problem } from '../api.js'

/** Loads data on mount and whenever `deps` change; `reload()` fetches again. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { data?: T; error?: ApiError; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T>()
  const [error, setError] = useState<ApiError>()
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    const abort = new AbortController()
    setLoading(true)
    loadRef.current(abort.signal).then(
      (value) => {
        if (abort.signal.aborted) return
        setData(value)
        setError(undefined)
        setLoading(false)
      },
      (err: unknown) => {
        if (abort.signal.aborted) return
        setError(asApiError(err))
        setLoading(false)
      },
    )
    return () => abort.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { data, error, loading, reload }
}

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError({ title: 'Unexpected error', status: 0, detail: error instanceof Error ? error.message : String(error) })
}

/** Runs a write; tracks busy state and the last error so buttons and forms can show them. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>): { run: (...args: A) => Promise<R | undefined>; busy: boolean; error?: ApiError; clear: () => void } {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError>()
  const run = useCallback(
    async (...args: A) => {
      setBusy(true)
      setError(undefined)
      try {
        return await action(...args)
      } catch (err) {
        setError(asApiError(err))
        return undefined
      } finally {
        setBusy(false)
      }
    },
    [action],
  )
  return { run, busy, error, clear: () => setError(undefined) }
}

/** An error from the gateway: its title, status, detail and the fields it names. */
export function ProblemBox({ error, problem, onDismiss }: { error?: ApiError; problem?: Problem; onDismiss?: () => void }) {
  const p = problem ?? error?.problem
  if (!p) return null
  return (
    <div className="problem" role="alert">
      <div className="problem-head">
        <strong>{p.title}</strong>
        {p.status ? <span className="problem-status">{p.status}</span> : null}
        {onDismiss ? (
          <button type="button" className="link-button" onClick={onDismiss} aria-label="Dismiss error">
            ×
          </button>
        ) : null}
      </div>
      {p.detail ? <p>{p.detail}</p> : null}
      {p.errors && p.errors.length > 0 ? (
        <ul className="problem-errors">
          {p.errors.map((e, i) => (
            <li key={i}>
              {e.line !== undefined ? <code>line {e.line}{e.col !== undefined ? `:${e.col}` : ''}</code> : null} {e.field ? <code>{e.field}</code> : null} {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="muted" role="status">
      {what}…
    </p>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>
}

export function statusClass(status: number): string {
  if (status >= 500) return 's5'
  if (status === 429) return 's429'
  if (status === 401 || status === 403) return 's403'
  if (status >= 400) return 's4'
  return 's2'
}

export function StatusBadge({ status }: { status: number }) {
  return <span className={`badge status ${statusClass(status)}`}>{status}</span>
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state}`}>{state}</span>
}

export function VerdictBadge({ verdict }: { verdict: string }) {
  const cls = verdict === 'DENY' ? 'deny' : verdict === 'pass' ? 'pass' : verdict === 'not reached' ? 'unreached' : verdict
  return <span className={`badge verdict-${cls.replace(/\s+/g, '-')}`}>{verdict}</span>
}

export function formatTime(ms: number | string): string {
  const date = new Date(ms)
  if (Number.isNaN(date.getTime())) return String(ms)
  const now = new Date()
  const sameDay = date.toDateString() === now.toDateString()
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
  return sameDay ? time : `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`
}

export function formatPercent(rate: number, digits = 1): string {
  return `${(rate * 100).toFixed(digits)}%`
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en-US')
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
    } catch {
      // Clipboard refused (no permission / insecure context): select the text for a manual copy.
      const area = document.createElement('textarea')
      area.value = text
      document.body.appendChild(area)
      area.select()
      document.execCommand('copy')
      area.remove()
    }
    setCopied(true)
    window.setTimeout(() => setCopied(false), 2000)
  }
  return (
    <button type="button" className="button small" onClick={() => void copy()}>
      {copied ? 'Copied' : label}
    </button>
  )
}

/** Horizontal scroll for wide tables, so the page itself never overflows on a phone. */
export function TableWrap({ children, label }: { children: ReactNode; label?: string }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  )
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  // The tab title follows the page, so history and screen readers name it.
  useEffect(() => {
    document.title = `${title} · Gatehouse`
  }, [title])
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="muted">{subtitle}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  )
}

/** Triggers a file download of `text` (export, OpenAPI documents). */
/** A page's period selector and Refresh button (the `actions` of a PageHeader). */
export function PeriodActions<P extends { since: string; label: string }>({ id, periods, value, onChange, onRefresh }: { id: string; periods: readonly P[]; value: P; onChange: (period: P) => void; onRefresh: () => void }) {
  return (
    <>
      <label className="inline-label" htmlFor={id}>
        Period
      </label>
      <select id={id} value={value.since} onChange={(e) => onChange(periods.find((p) => p.since === e.target.value) ?? value)}>
        {periods.map((p) => (
          <option key={p.since} value={p.since}>
            {p.label}
          </option>
        ))}
      </select>
      <button type="button" className="button small" onClick={onRefresh}>
        Refresh
      </button>
    </>
  )
}

export function downloadText(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
