import { useEffect, useRef, useState, type FormEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { qs, type CallSummary, type RouteView } from '../api.js'
import { useSession } from '../session.js'
import { Empty, Loading, PageHeader, ProblemBox, StatusBadge, TableWrap, formatMs, formatTime, useLoad } from '../components/ui.js'
import { AiFactsInline, type WithAi } from './ai-facts.js'

export const layers = ['request-id', 'ip', 'cors', 'body', 'waf', 'authn', 'subscription', 'authz', 'csrf', 'rate-limit', 'transform', 'upstream', 'gateway', 'allow']
const filterKeys = ['status', 'route', 'consumer', 'tenant', 'layer', 'denied', 'since', 'from'] as const
type Filters = Partial<Record<(typeof filterKeys)[number], string>>
const maxRows = 500

function readFilters(params: URLSearchParams): Filters {
  const filters: Filters = {}
  for (const key of filterKeys) {
    const value = params.get(key)
    if (value) filters[key] = value
  }
  return filters
}

/** `datetime-local` value → ISO time the API accepts. */
function toIso(local: string | undefined): string | undefined {
  if (!local) return undefined
  const time = new Date(local).getTime()
  return Number.isNaN(time) ? undefined : new Date(time).toISOString()
}

type TailState = 'off' | 'connecting' | 'live' | 'error'

export function Calls() {
  const { call, token, me } = useSession()
  const [params, setParams] = useSearchParams()
  const filters = readFilters(params)
  const filterKey = JSON.stringify(filters)
  const [draft, setDraft] = useState<Filters>(filters)
  const [rows, setRows] = useState<(CallSummary & WithAi)[]>([])
  const [fresh, setFresh] = useState<Set<string>>(new Set())
  const [tail, setTail] = useState<TailState>('off')
  const navigate = useNavigate()
  const routes = useLoad((signal) => call<{ routes: RouteView[] }>('/api/routes', { signal }), [])

  useEffect(() => setDraft(readFilters(params)), [filterKey]) // eslint-disable-line react-hooks/exhaustive-deps

  const apiQuery = (f: Filters) => ({
    status: f.status,
    route: f.route,
    consumer: f.consumer,
    tenant: f.tenant,
    layer: f.layer,
    denied: f.denied === 'true' ? 'true' : undefined,
    // A custom start is sent as an ISO time, which `since` accepts as well as '1h'.
    since: f.since === 'custom' ? toIso(f.from) : f.since,
  })

  const list = useLoad(
    async (signal) => (await call<{ calls: (CallSummary & WithAi)[]; note?: string }>(`/api/calls${qs({ ...apiQuery(filters), limit: 100 })}`, { signal })),
    [filterKey],
  )
  useEffect(() => {
    if (list.data) setRows(list.data.calls)
  }, [list.data])

  // Live tail: the server pushes each logged call that matches the filters; newest on top.
  const tailOn = tail !== 'off'
  useEffect(() => {
    if (!tailOn) return
    const { since: _since, ...streamFilters } = apiQuery(filters)
    const source = new EventSource(`/api/calls/stream${qs({ ...streamFilters, access_token: token })}`)
    setTail('connecting')
    source.onopen = () => setTail('live')
    source.onerror = () => setTail(source.readyState === EventSource.CLOSED ? 'error' : 'connecting')
    source.addEventListener('call', (event) => {
      let summary: CallSummary & WithAi
      try {
        summary = JSON.parse((event as MessageEvent<string>).data) as CallSummary & WithAi
      } catch {
        return
      }
      setRows((current) => [summary, ...current.filter((c) => c.requestId !== summary.requestId)].slice(0, maxRows))
      setFresh((current) => new Set(current).add(summary.requestId))
      window.setTimeout(() => setFresh((current) => {
        const next = new Set(current)
        next.delete(summary.requestId)
        return next
      }), 4000)
    })
    return () => source.close()
  }, [tailOn, filterKey, token]) // eslint-disable-line react-hooks/exhaustive-deps

  const apply = (event: FormEvent) => {
    event.preventDefault()
    const next = new URLSearchParams()
    for (const key of filterKeys) {
      const value = draft[key]
      if (value) next.set(key, value)
    }
    setParams(next)
  }
  const reset = () => setParams(new URLSearchParams())
  const set = (key: keyof Filters) => (value: string) => setDraft((d) => ({ ...d, [key]: value || undefined }))

  return (
    <>
      <PageHeader
        title="Calls"
        subtitle="Every call the gateway answered, newest first. Open one to see its decision trace."
        actions={
          <button
            type="button"
            className={tailOn ? 'button live on' : 'button live'}
            aria-pressed={tailOn}
            onClick={() => setTail((t) => (t === 'off' ? 'connecting' : 'off'))}
          >
            <span className={`dot ${tail}`} aria-hidden="true" /> Live tail {tailOn ? (tail === 'live' ? 'on' : tail === 'error' ? '(disconnected)' : '(connecting)') : 'off'}
          </button>
        }
      />
      <form className="card filters" onSubmit={apply} aria-label="Filter calls">
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <input id="f-status" inputMode="numeric" placeholder="e.g. 403" value={draft.status ?? ''} onChange={(e) => set('status')(e.target.value.replace(/\D/g, '').slice(0, 3))} />
        </div>
        <div className="field">
          <label htmlFor="f-route">Route</label>
          <select id="f-route" value={draft.route ?? ''} onChange={(e) => set('route')(e.target.value)}>
            <option value="">any</option>
            {(routes.data?.routes ?? []).map((r) => (
              <option key={r.name} value={r.name}>
                {r.name}
              </option>
            ))}
            {draft.route && !routes.data?.routes.some((r) => r.name === draft.route) ? <option value={draft.route}>{draft.route}</option> : null}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-consumer">Consumer</label>
          <input id="f-consumer" value={draft.consumer ?? ''} onChange={(e) => set('consumer')(e.target.value)} placeholder="name" />
        </div>
        {me.role !== 'tenant-admin' ? (
          <div className="field">
            <label htmlFor="f-tenant">Tenant</label>
            <input id="f-tenant" value={draft.tenant ?? ''} onChange={(e) => set('tenant')(e.target.value)} placeholder="name" />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="f-layer">Layer</label>
          <select id="f-layer" value={draft.layer ?? ''} onChange={(e) => set('layer')(e.target.value)}>
            <option value="">any</option>
            {layers.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-since">Time range</label>
          <select id="f-since" value={draft.since ?? ''} onChange={(e) => set('since')(e.target.value)}>
            <option value="">all time</option>
            <option value="15m">last 15 minutes</option>
            <option value="1h">last hour</option>
            <option value="24h">last 24 hours</option>
            <option value="7d">last 7 days</option>
            <option value="custom">since a time…</option>
          </select>
        </div>
        {draft.since === 'custom' ? (
          <div className="field">
            <label htmlFor="f-from">From</label>
            <input id="f-from" type="datetime-local" value={draft.from ?? ''} onChange={(e) => set('from')(e.target.value)} />
          </div>
        ) : null}
        <div className="field check">
          <input id="f-denied" type="checkbox" checked={draft.denied === 'true'} onChange={(e) => set('denied')(e.target.checked ? 'true' : '')} />
          <label htmlFor="f-denied">Denied only</label>
        </div>
        <div className="field buttons">
          <button type="submit" className="button primary">
            Apply
          </button>
          <button type="button" className="button ghost" onClick={reset}>
            Clear
          </button>
        </div>
      </form>
      <ProblemBox error={list.error} />
      {list.data?.note ? <p className="hint">{list.data.note}</p> : null}
      {!list.data && list.loading ? <Loading what="Loading calls" /> : null}
      {list.data && rows.length === 0 ? <Empty>No calls match these filters{tailOn ? ' yet; new ones will appear here.' : '.'}</Empty> : null}
      {rows.length > 0 ? (
        <TableWrap label="Calls">
          <table className="calls-table" data-testid="calls-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Request</th>
                <th scope="col">Route</th>
                <th scope="col">Consumer</th>
                <th scope="col">Decided by</th>
                <th scope="col" className="num">
                  Time taken
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.requestId} className={fresh.has(c.requestId) ? 'fresh clickable' : 'clickable'} onClick={() => navigate(`/calls/${encodeURIComponent(c.requestId)}`)} data-request-id={c.requestId}>
                  <td className="nowrap">{formatTime(c.time)}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td className="path">
                    <Link to={`/calls/${encodeURIComponent(c.requestId)}`} onClick={(e) => e.stopPropagation()}>
                      <span className="method">{c.method}</span> {c.path}
                    </Link>
                    {c.ai ? <AiFactsInline ai={c.ai} /> : null}
                  </td>
                  <td>{c.route ?? <span className="muted">—</span>}</td>
                  <td>{c.consumer ?? <span className="muted">anonymous</span>}</td>
                  <td>
                    {c.status >= 400 ? (
                      <span className="rule">
                        {c.layer}
                        {c.rule ? `.${c.rule}` : ''}
                      </span>
                    ) : (
                      <span className="muted">allowed</span>
                    )}
                  </td>
                  <td className="num nowrap">{formatMs(c.totalMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </>
  )
}
