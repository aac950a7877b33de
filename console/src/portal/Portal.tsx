import { createContext, useCallback, useContext, useEffect, useMemo, useState, type FormEvent } from 'react'
import { Logo } from '../components/Logo.js'
import { ErrorBoundary } from '../components/ErrorBoundary.js'
import { Link, NavLink, Route, Routes, useParams } from 'react-router'
import { ApiError, request, type PortalApi, type PortalCall, type PortalMe, type RequestOptions } from '../api.js'
import { Empty, Loading, PageHeader, ProblemBox, StateBadge, StatusBadge, TableWrap, asApiError, downloadText, formatTime, useAction, useLoad } from '../components/ui.js'

const keyStorage = 'gatehouse.portalKey'

interface PortalSession {
  me: PortalMe
  call<T>(path: string, options?: RequestOptions): Promise<T>
}

const PortalContext = createContext<PortalSession | null>(null)
function usePortal(): PortalSession {
  const value = useContext(PortalContext)
  if (!value) throw new Error('usePortal outside of the portal')
  return value
}

function PortalSignIn({ onKey, error }: { onKey: (key: string) => Promise<void>; error?: ApiError }) {
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!key.trim()) return
    setBusy(true)
    await onKey(key.trim())
    setBusy(false)
  }
  return (
    <div className="signin portal-signin">
      <form className="card signin-card" onSubmit={(e) => void submit(e)}>
        <div className="brand big">
          <Logo />
          <span>Developer portal</span>
        </div>
        <p className="muted">Browse the APIs you can use, ask for access, and see why your calls were refused. Sign in with your API key.</p>
        <label htmlFor="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} autoFocus required />
        <p className="hint">Kept in this tab only; closing it signs you out.</p>
        <ProblemBox error={error} />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  )
}

export function Portal() {
  const [state, setState] = useState<{ kind: 'checking' } | { kind: 'out'; error?: ApiError } | { kind: 'in'; key: string; me: PortalMe }>(() =>
    sessionStorage.getItem(keyStorage) ? { kind: 'checking' } : { kind: 'out' },
  )
  const accept = useCallback(async (key: string) => {
    try {
      const me = await request<PortalMe>('/portal/api/me', { 'x-api-key': key })
      sessionStorage.setItem(keyStorage, key)
      setState({ kind: 'in', key, me })
    } catch (error) {
      sessionStorage.removeItem(keyStorage)
      setState({ kind: 'out', error: asApiError(error) })
    }
  }, [])
  useEffect(() => {
    const stored = sessionStorage.getItem(keyStorage)
    if (stored && state.kind === 'checking') void accept(stored)
  }, [accept, state.kind])
  const signOut = () => {
    sessionStorage.removeItem(keyStorage)
    setState({ kind: 'out' })
  }
  const session = useMemo<PortalSession | null>(
    () => (state.kind === 'in' ? { me: state.me, call: <T,>(path: string, options?: RequestOptions) => request<T>(path, { 'x-api-key': state.key }, options) } : null),
    [state],
  )

  if (state.kind === 'checking') return <div className="splash">Checking your key…</div>
  if (!session) return <PortalSignIn onKey={accept} error={state.kind === 'out' ? state.error : undefined} />
  return (
    <PortalContext.Provider value={session}>
      <div className="shell portal">
        <header className="topbar">
          <div className="brand">
            <Logo />
            <span>Developer portal</span>
          </div>
          <nav className="nav always" aria-label="Portal">
            <NavLink to="/portal" end className={({ isActive }) => (isActive ? 'active' : undefined)}>
              APIs
            </NavLink>
            <NavLink to="/portal/calls" className={({ isActive }) => (isActive ? 'active' : undefined)}>
              My calls
            </NavLink>
          </nav>
          <div className="who always">
            <span className="role" data-testid="consumer">
              {session.me.consumer}
              {session.me.tenant ? ` · ${session.me.tenant}` : ''}
            </span>
            <button type="button" className="button ghost small" onClick={signOut}>
              Sign out
            </button>
          </div>
        </header>
        <main id="main" className="content">
          <ErrorBoundary>
          <Routes>
            <Route index element={<ApiList />} />
            <Route path="apis/:name" element={<ApiDoc />} />
            <Route path="calls" element={<MyCalls />} />
            <Route path="*" element={<Empty>No such page. <Link to="/portal">Back to the APIs</Link>.</Empty>} />
          </Routes>
          </ErrorBoundary>
        </main>
      </div>
    </PortalContext.Provider>
  )
}

function stateText(api: PortalApi): string {
  if (api.subscription === 'open') return 'Open to every consumer of the tenant: no subscription needed.'
  switch (api.state) {
    case 'approved':
      return 'You are subscribed: your calls are let through.'
    case 'pending':
      return 'Requested: a tenant admin has to approve it before your calls pass.'
    case 'rejected':
      return 'Your request was rejected. You may ask again.'
    case 'revoked':
      return 'Your access was revoked. You may ask again.'
    default:
      return 'Needs a subscription: request one, then wait for approval.'
  }
}

function ApiList() {
  const { call, me } = usePortal()
  const apis = useLoad((signal) => call<{ apis: PortalApi[] }>('/portal/api/apis', { signal }), [])
  const [notice, setNotice] = useState<string>()
  const subscribe = useAction(async (api: string) => {
    const result = await call<{ subscription: { id: string; api: string; state: string } }>('/portal/api/subscriptions', { method: 'POST', body: { api } })
    setNotice(`Subscription #${result.subscription.id} to ${result.subscription.api} is ${result.subscription.state}.`)
    apis.reload()
  })
  return (
    <>
      <PageHeader title="APIs" subtitle={`Signed in as ${me.consumer}${me.tenant ? ` of ${me.tenant}` : ''}. Your keys: ${me.keys.map((k) => k.fingerprint).join(', ') || '—'}`} />
      <ProblemBox error={subscribe.error} onDismiss={subscribe.clear} />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ProblemBox error={apis.error} />
      {!apis.data ? (
        <Loading what="Loading APIs" />
      ) : apis.data.apis.length === 0 ? (
        <Empty>No API is published to you yet.</Empty>
      ) : (
        <div className="api-grid">
          {apis.data.apis.map((api) => {
            const canRequest = api.subscription === 'required' && (api.state === 'none' || api.state === 'rejected' || api.state === 'revoked')
            return (
              <section className="card api-card" key={api.name} aria-labelledby={`api-${api.name}`} data-api={api.name}>
                <div className="section-head">
                  <h2 id={`api-${api.name}`}>{api.name}</h2>
                  {api.subscription === 'open' ? <span className="badge state-approved">open</span> : <StateBadge state={api.state === 'none' ? 'not subscribed' : api.state} />}
                </div>
                <p className="muted">
                  {api.description ?? 'No description.'} <span className="hint">Tenant {api.tenant}.</span>
                </p>
                <p className="hint">{stateText(api)}</p>
                <ul className="endpoints">
                  {api.routes.map((r) => (
                    <li key={r.name}>
                      <span className="method">{r.methods.length ? r.methods.join(' ') : 'ANY'}</span> <code>{r.path}</code>
                    </li>
                  ))}
                </ul>
                <div className="buttons">
                  <Link className="button" to={`/portal/apis/${encodeURIComponent(api.name)}`}>
                    OpenAPI document
                  </Link>
                  {canRequest ? (
                    <button type="button" className="button primary" disabled={subscribe.busy} onClick={() => void subscribe.run(api.name)}>
                      Request subscription
                    </button>
                  ) : null}
                </div>
              </section>
            )
          })}
        </div>
      )}
    </>
  )
}

interface OpenApiOperation {
  summary?: string
  description?: string
  operationId?: string
  parameters?: { name: string; in: string; required?: boolean; description?: string }[]
  security?: Record<string, string[]>[]
  responses?: Record<string, { description?: string }>
}
interface OpenApiDoc {
  openapi?: string
  info?: { title?: string; version?: string; description?: string }
  servers?: { url: string }[]
  paths?: Record<string, Record<string, OpenApiOperation | unknown>>
  components?: { securitySchemes?: Record<string, { type?: string; in?: string; name?: string; scheme?: string }> }
}

const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

function ApiDoc() {
  const { name = '' } = useParams()
  const { call } = usePortal()
  const path = `/portal/api/apis/${encodeURIComponent(name)}/openapi.json`
  const doc = useLoad((signal) => call<string>(path, { signal, text: true }), [name])
  let parsed: OpenApiDoc | undefined
  try {
    parsed = doc.data ? (JSON.parse(doc.data) as OpenApiDoc) : undefined
  } catch {
    parsed = undefined
  }
  const schemes = Object.entries(parsed?.components?.securitySchemes ?? {})
  return (
    <>
      <p className="crumbs">
        <Link to="/portal">APIs</Link> / {name}
      </p>
      <PageHeader
        title={parsed?.info?.title ?? name}
        subtitle={parsed ? `OpenAPI ${parsed.openapi ?? ''} · version ${parsed.info?.version ?? '—'}` : undefined}
        actions={
          doc.data ? (
            <button type="button" className="button primary" onClick={() => downloadText(`${name}.openapi.json`, doc.data!, 'application/json')}>
              Download openapi.json
            </button>
          ) : null
        }
      />
      <ProblemBox error={doc.error} />
      {!doc.data && !doc.error ? <Loading what="Loading the OpenAPI document" /> : null}
      {parsed ? (
        <>
          <section className="card">
            {parsed.info?.description ? <p>{parsed.info.description}</p> : null}
            <p className="hint">
              Import it into Postman or Insomnia from the downloaded file, or fetch it with your key: <code>curl -H &quot;X-API-Key: $KEY&quot; {window.location.origin + path}</code>
            </p>
            {schemes.length > 0 ? (
              <p className="hint">
                Authentication:{' '}
                {schemes.map(([n, s]) => (
                  <span key={n}>
                    <code>{s.type === 'apiKey' ? `${s.name ?? 'X-API-Key'} (${s.in ?? 'header'})` : s.scheme ?? s.type ?? n}</code>{' '}
                  </span>
                ))}
              </p>
            ) : null}
            {parsed.servers?.length ? (
              <p className="hint">
                Server: <code>{parsed.servers.map((s) => s.url).join(', ')}</code>
              </p>
            ) : null}
          </section>
          <section className="card" aria-label="Operations">
            <h2>Operations</h2>
            {Object.keys(parsed.paths ?? {}).length === 0 ? <Empty>No paths in this document.</Empty> : null}
            <ul className="operations">
              {Object.entries(parsed.paths ?? {}).flatMap(([p, item]) =>
                Object.entries(item)
                  .filter(([m]) => httpMethods.includes(m))
                  .map(([m, raw]) => {
                    const op = raw as OpenApiOperation
                    const scopes = (op.security ?? []).flatMap((s) => Object.values(s).flat())
                    return (
                      <li key={`${m} ${p}`} className="operation">
                        <div className="op-head">
                          <span className={`method-badge m-${m}`}>{m.toUpperCase()}</span> <code className="op-path">{p}</code>
                        </div>
                        {op.summary ? <p>{op.summary}</p> : null}
                        {op.parameters?.length ? (
                          <p className="hint">
                            Parameters:{' '}
                            {op.parameters.map((x) => (
                              <code key={`${x.in}-${x.name}`}>
                                {x.name} ({x.in}
                                {x.required ? ', required' : ''}){' '}
                              </code>
                            ))}
                          </p>
                        ) : null}
                        {scopes.length ? <p className="hint">Scopes: {scopes.join(', ')}</p> : null}
                        {op.responses ? (
                          <p className="hint">
                            Responses:{' '}
                            {Object.entries(op.responses)
                              .map(([code, r]) => `${code}${r.description ? ` ${r.description}` : ''}`)
                              .join(' · ')}
                          </p>
                        ) : null}
                      </li>
                    )
                  }),
              )}
            </ul>
          </section>
        </>
      ) : null}
    </>
  )
}

function MyCalls() {
  const { call } = usePortal()
  const [deniedOnly, setDeniedOnly] = useState(true)
  const calls = useLoad((signal) => call<{ calls: PortalCall[] }>(`/portal/api/calls?limit=50${deniedOnly ? '&denied=true' : ''}`, { signal }), [deniedOnly])
  return (
    <>
      <PageHeader
        title="My recent calls"
        subtitle="Why the gateway refused them, and what to do about it."
        actions={
          <>
            <input id="denied-only" type="checkbox" checked={deniedOnly} onChange={(e) => setDeniedOnly(e.target.checked)} />
            <label htmlFor="denied-only" className="inline-label">
              Refused only
            </label>
            <button type="button" className="button small" onClick={calls.reload}>
              Refresh
            </button>
          </>
        }
      />
      <ProblemBox error={calls.error} />
      {!calls.data ? (
        <Loading what="Loading your calls" />
      ) : calls.data.calls.length === 0 ? (
        <Empty>{deniedOnly ? 'None of your recent calls was refused.' : 'No calls yet.'}</Empty>
      ) : (
        <TableWrap label="My calls">
          <table className="portal-calls">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Request</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {calls.data.calls.map((c) => (
                <tr key={c.requestId}>
                  <td className="nowrap">{formatTime(c.time)}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td className="path">
                    <span className="method">{c.method}</span> {c.path}
                    <div className="hint">
                      <code>{c.requestId}</code>
                    </div>
                  </td>
                  <td className="why">
                    {c.status >= 400 ? (
                      <>
                        <strong>{c.title ?? `Refused by ${c.layer ?? 'the gateway'}`}</strong>
                        {c.rule ? <span className="muted"> ({c.layer}.{c.rule})</span> : null}
                        {c.detail ? <p>{c.detail}</p> : null}
                        {c.remedy ? (
                          <p className="remedy-inline">
                            <b>What to do:</b> {c.remedy}
                          </p>
                        ) : null}
                      </>
                    ) : (
                      <span className="muted">allowed</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </>
  )
}
