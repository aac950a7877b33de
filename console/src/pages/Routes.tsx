import { useState } from 'react'
import { Link } from 'react-router'
import type { RouteView, UpstreamView } from '../api.js'
import { useSession } from '../session.js'
import { JsonEditor } from '../components/JsonEditor.js'
import { Empty, Loading, PageHeader, ProblemBox, TableWrap, useAction, useLoad } from '../components/ui.js'

type Editing = { kind: 'route'; name?: string; value: unknown } | { kind: 'upstream'; name?: string; value: unknown }

const newRoute = { name: 'new-route', match: { methods: ['GET'], path: '/new/*' }, upstream: 'UPSTREAM', policies: { auth: { methods: ['key'] } } }
const newUpstream = { name: 'new-upstream', targets: ['http://127.0.0.1:3000'] }

function routeConfig(route: RouteView): Record<string, unknown> {
  return { name: route.name, match: route.match, upstream: route.upstream, policies: route.policies ?? {} }
}

function PolicyList({ route }: { route: RouteView }) {
  const entries = Object.entries(route.policies ?? {})
  return (
    <div className="pipeline" aria-label={`Pipeline of ${route.name}`}>
      {route.layers.map((layer, i) => {
        const config = (route.policies as Record<string, unknown> | undefined)?.[layer]
        return (
          <span className="stage" key={layer}>
            {i > 0 ? (
              <span className="arrow" aria-hidden="true">
                →
              </span>
            ) : null}
            <span className="chip layer-chip" title={config !== undefined ? JSON.stringify(config) : undefined}>
              {layer}
            </span>
          </span>
        )
      })}
      <span className="stage">
        <span className="arrow" aria-hidden="true">
          →
        </span>
        <span className="chip upstream-chip">{route.upstream}</span>
      </span>
      {entries.length > 0 ? (
        <details className="policies">
          <summary>Policies ({entries.length})</summary>
          <dl>
            {entries.map(([name, value]) => (
              <div key={name} className="policy">
                <dt>{name}</dt>
                <dd>
                  <pre>{JSON.stringify(value, null, 2)}</pre>
                </dd>
              </div>
            ))}
          </dl>
        </details>
      ) : null}
    </div>
  )
}

export function RoutesPage() {
  const { call, me } = useSession()
  const isAdmin = me.role === 'admin'
  const [editing, setEditing] = useState<Editing>()
  const [notice, setNotice] = useState<string>()
  const routes = useLoad((signal) => call<{ routes: RouteView[] }>('/api/routes', { signal }), [])
  const upstreams = useLoad((signal) => call<{ upstreams: UpstreamView[] }>('/api/upstreams', { signal }), [])

  const save = async (value: unknown) => {
    if (!editing) return
    const base = editing.kind === 'route' ? '/api/routes' : '/api/upstreams'
    const name = (value as { name?: unknown }).name
    if (editing.name) await call(`${base}/${encodeURIComponent(editing.name)}`, { method: 'PUT', body: value })
    else await call(base, { method: 'POST', body: value })
    setNotice(`${editing.kind === 'route' ? 'Route' : 'Upstream'} ${String(name ?? editing.name)} saved; it applies now, without a restart.`)
    setEditing(undefined)
    routes.reload()
    upstreams.reload()
  }
  const remove = useAction(async (kind: 'route' | 'upstream', name: string) => {
    await call(`/api/${kind}s/${encodeURIComponent(name)}`, { method: 'DELETE' })
    setNotice(`${kind === 'route' ? 'Route' : 'Upstream'} ${name} deleted.`)
    routes.reload()
    upstreams.reload()
  })

  return (
    <>
      <PageHeader
        title="Routes and upstreams"
        subtitle="What each route matches, the policy layers a call goes through in order, and where it is sent."
        actions={
          isAdmin ? (
            <>
              <button type="button" className="button primary" onClick={() => setEditing({ kind: 'route', value: newRoute })}>
                New route
              </button>
              <button type="button" className="button" onClick={() => setEditing({ kind: 'upstream', value: newUpstream })}>
                New upstream
              </button>
            </>
          ) : null
        }
      />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ProblemBox error={remove.error} onDismiss={remove.clear} />
      {editing ? (
        <JsonEditor
          key={`${editing.kind}-${editing.name ?? 'new'}`}
          title={editing.name ? `Edit ${editing.kind} ${editing.name}` : `New ${editing.kind}`}
          hint={editing.kind === 'route' ? 'A route as in the config file: name, match, upstream and policies.' : 'An upstream as in the config file, with its name: targets, balance, health checks.'}
          initial={editing.value}
          onSave={save}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}
      <section className="card" aria-labelledby="routes-title">
        <h2 id="routes-title">Routes</h2>
        <ProblemBox error={routes.error} />
        {!routes.data ? (
          <Loading />
        ) : routes.data.routes.length === 0 ? (
          <Empty>No routes.</Empty>
        ) : (
          <ul className="route-list">
            {routes.data.routes.map((r) => (
              <li key={r.name} className="route" data-route={r.name}>
                <div className="route-head">
                  <div>
                    <strong>{r.name}</strong>{' '}
                    <span className="match">
                      <span className="method">{r.match.methods?.join(' ') ?? 'ANY'}</span> <code>{r.match.path ?? '/*'}</code>
                      {r.match.host ? <span className="muted"> on {r.match.host}</span> : null}
                    </span>
                  </div>
                  <div className="row-actions">
                    <Link className="button small ghost" to={`/calls?route=${encodeURIComponent(r.name)}&denied=true`}>
                      Denials
                    </Link>
                    {isAdmin ? (
                      <>
                        <button type="button" className="button small" onClick={() => setEditing({ kind: 'route', name: r.name, value: routeConfig(r) })}>
                          Edit
                        </button>
                        <button
                          type="button"
                          className="button small danger"
                          disabled={remove.busy}
                          onClick={() => {
                            if (window.confirm(`Delete route ${r.name}? Calls to it will get 404.`)) void remove.run('route', r.name)
                          }}
                        >
                          Delete
                        </button>
                      </>
                    ) : null}
                  </div>
                </div>
                <PolicyList route={r} />
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="upstreams-title">
        <h2 id="upstreams-title">Upstreams</h2>
        <ProblemBox error={upstreams.error} />
        {!upstreams.data ? (
          <Loading />
        ) : upstreams.data.upstreams.length === 0 ? (
          <Empty>No upstreams.</Empty>
        ) : (
          <TableWrap label="Upstreams">
            <table>
              <thead>
                <tr>
                  <th scope="col">Upstream</th>
                  <th scope="col">Balance</th>
                  <th scope="col">Targets and health</th>
                  {isAdmin ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {upstreams.data.upstreams.map((u) => (
                  <tr key={u.name}>
                    <td>
                      <strong>{u.name}</strong>
                    </td>
                    <td>{u.balance ?? 'round-robin'}</td>
                    <td>
                      <ul className="targets">
                        {u.targets.map((t) => {
                          const state = t.ejected ? 'ejected' : t.down ? 'down' : t.healthy ? 'healthy' : 'unhealthy'
                          return (
                            <li key={t.origin}>
                              <span className={`health ${state}`} aria-hidden="true" /> <code>{t.origin}</code> <span className={`badge health-${state}`}>{state}</span>
                              {t.active > 0 ? <span className="muted"> · {t.active} in flight</span> : null}
                            </li>
                          )
                        })}
                      </ul>
                    </td>
                    {isAdmin ? (
                      <td className="nowrap">
                        <button type="button" className="button small" onClick={() => setEditing({ kind: 'upstream', name: u.name, value: { name: u.name, ...(u.balance ? { balance: u.balance } : {}), targets: u.targets.map((t) => t.origin) } })}>
                          Edit
                        </button>{' '}
                        <button
                          type="button"
                          className="button small danger"
                          disabled={remove.busy}
                          onClick={() => {
                            if (window.confirm(`Delete upstream ${u.name}?`)) void remove.run('upstream', u.name)
                          }}
                        >
                          Delete
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </>
  )
}
