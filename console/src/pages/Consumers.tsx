import { useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'
import type { Consumer, Tenant } from '../api.js'
import { useSession } from '../session.js'
import { CopyButton, Empty, Loading, PageHeader, ProblemBox, TableWrap, useAction, useLoad } from '../components/ui.js'

interface IssuedKey {
  consumer: string
  key: string
  fingerprint: string
}

const list = (text: string) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean)

/** The one moment a key is visible: copy it now, it is stored only as its hash. */
function NewKeyPanel({ issued, onClose }: { issued: IssuedKey; onClose: () => void }) {
  return (
    <section className="card new-key" aria-labelledby="new-key-title" role="dialog" aria-modal="false" data-testid="new-key">
      <h2 id="new-key-title">New key for {issued.consumer}</h2>
      <p className="warning" role="alert">
        Copy this key now. It is shown only once: the gateway keeps only its SHA-256, and nobody can show it again.
      </p>
      <div className="key-box">
        <label htmlFor="issued-key" className="sr-only">
          API key
        </label>
        <input id="issued-key" readOnly value={issued.key} onFocus={(e) => e.target.select()} data-testid="issued-key" />
        <CopyButton text={issued.key} label="Copy key" />
      </div>
      <p className="hint">
        Fingerprint <code>{issued.fingerprint}</code> — how this key appears in logs and here. Callers send it as <code>X-API-Key</code> or <code>Authorization: Bearer</code>.
      </p>
      <button type="button" className="button" onClick={onClose}>
        I have stored it
      </button>
    </section>
  )
}

export function Consumers() {
  const { call, canWrite, me } = useSession()
  const [issued, setIssued] = useState<IssuedKey>()
  const [filter, setFilter] = useState('')
  const [notice, setNotice] = useState<string>()
  const consumers = useLoad((signal) => call<{ consumers: Consumer[] }>('/api/consumers', { signal }), [])
  const tenants = useLoad((signal) => call<{ tenants: Tenant[] }>('/api/tenants', { signal }), [])

  const issue = useAction(async (name: string) => {
    const result = await call<IssuedKey>(`/api/consumers/${encodeURIComponent(name)}/keys`, { method: 'POST' })
    setIssued({ consumer: result.consumer, key: result.key, fingerprint: result.fingerprint })
    setNotice(undefined)
    consumers.reload()
  })
  const revoke = useAction(async (name: string, fingerprint: string) => {
    await call(`/api/consumers/${encodeURIComponent(name)}/keys/${encodeURIComponent(fingerprint)}`, { method: 'DELETE' })
    setNotice(`Key ${fingerprint} of ${name} is revoked; calls with it are refused from now on.`)
    consumers.reload()
  })

  const shown = (consumers.data?.consumers ?? []).filter((c) => !filter || c.name.includes(filter) || (c.tenant ?? '').includes(filter))

  return (
    <>
      <PageHeader
        title="Tenants, consumers and keys"
        subtitle={me.role === 'tenant-admin' ? `Consumers of tenant ${me.tenant}.` : 'Who may call the gateway, and with which keys.'}
        actions={
          canWrite ? (
            <Link className="button primary" to="/consumers/new">
              New consumer
            </Link>
          ) : null
        }
      />
      {issued ? <NewKeyPanel issued={issued} onClose={() => setIssued(undefined)} /> : null}
      <ProblemBox error={issue.error ?? revoke.error} onDismiss={() => (issue.clear(), revoke.clear())} />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <section className="card" aria-labelledby="tenants-title">
        <h2 id="tenants-title">Tenants</h2>
        <ProblemBox error={tenants.error} />
        {!tenants.data ? (
          <Loading />
        ) : tenants.data.tenants.length === 0 ? (
          <Empty>No tenants are configured (single-tenant gateway).</Empty>
        ) : (
          <ul className="tenant-list">
            {tenants.data.tenants.map((t) => (
              <li key={t.name} className="tenant">
                <strong>{t.name}</strong>
                <span className="muted"> · {t.apis.length} API{t.apis.length === 1 ? '' : 's'}</span>
                <div className="chips">
                  {t.apis.map((a) => (
                    <span className="chip" key={a}>
                      {a}
                    </span>
                  ))}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="consumers-title">
        <div className="section-head">
          <h2 id="consumers-title">Consumers</h2>
          <div>
            <label className="sr-only" htmlFor="consumer-filter">
              Filter consumers
            </label>
            <input id="consumer-filter" placeholder="filter by name or tenant" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </div>
        </div>
        <ProblemBox error={consumers.error} />
        {!consumers.data ? (
          <Loading />
        ) : shown.length === 0 ? (
          <Empty>No consumers.</Empty>
        ) : (
          <TableWrap label="Consumers">
            <table className="consumers">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">Scopes / roles</th>
                  <th scope="col">Keys</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {shown.map((c) => (
                  <tr key={c.name} data-consumer={c.name}>
                    <td>
                      <strong>{c.name}</strong>
                      <div>
                        <Link className="hint" to={`/calls?consumer=${encodeURIComponent(c.name)}`}>
                          calls
                        </Link>
                      </div>
                    </td>
                    <td>{c.tenant ?? <span className="muted">—</span>}</td>
                    <td>
                      <div className="chips">
                        {c.scopes.map((s) => (
                          <span className="chip" key={`s-${s}`}>
                            {s}
                          </span>
                        ))}
                        {c.roles.map((r) => (
                          <span className="chip role-chip" key={`r-${r}`}>
                            {r}
                          </span>
                        ))}
                        {c.scopes.length + c.roles.length === 0 ? <span className="muted">—</span> : null}
                      </div>
                    </td>
                    <td>
                      {c.keys.length === 0 ? <span className="muted">no key</span> : null}
                      <ul className="keys">
                        {c.keys.map((k) => (
                          <li key={k.fingerprint}>
                            <code>{k.fingerprint}</code>
                            {canWrite ? (
                              <button
                                type="button"
                                className="link-button danger-text"
                                disabled={revoke.busy}
                                aria-label={`Revoke key ${k.fingerprint} of ${c.name}`}
                                onClick={() => {
                                  if (window.confirm(`Revoke key ${k.fingerprint} of ${c.name}? Calls with it are refused at once.`)) void revoke.run(c.name, k.fingerprint)
                                }}
                              >
                                Revoke
                              </button>
                            ) : null}
                          </li>
                        ))}
                      </ul>
                    </td>
                    {canWrite ? (
                      <td>
                        <button type="button" className="button small" disabled={issue.busy} onClick={() => void issue.run(c.name)}>
                          New key
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

/** Reachable from "New consumer"; a viewer who opens it by URL gets the gateway's 403 in the form. */
export function NewConsumerPage() {
  const { call, me, canWrite } = useSession()
  const navigate = useNavigate()
  const tenants = useLoad((signal) => call<{ tenants: Tenant[] }>('/api/tenants', { signal }), [])
  const [name, setName] = useState('')
  const [tenant, setTenant] = useState(me.tenant ?? '')
  const [scopes, setScopes] = useState('')
  const [roles, setRoles] = useState('')
  const create = useAction(async () => {
    await call('/api/consumers', { method: 'POST', body: { name, ...(tenant ? { tenant } : {}), scopes: list(scopes), roles: list(roles) } })
    navigate('/consumers')
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    void create.run()
  }
  return (
    <>
      <p className="crumbs">
        <Link to="/consumers">Consumers</Link> / new
      </p>
      <PageHeader title="New consumer" subtitle="Then issue it a key from the consumer list." />
      {!canWrite ? (
        <p className="notice" role="note">
          You are signed in as a viewer: the gateway will refuse changes.
        </p>
      ) : null}
      <form className="card form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="c-name">Name</label>
          <input id="c-name" required maxLength={100} pattern="[A-Za-z0-9._\-]+" value={name} onChange={(e) => setName(e.target.value)} placeholder="billing-service" />
          <span className="hint">Letters, digits, dot, dash and underscore.</span>
        </div>
        <div className="field">
          <label htmlFor="c-tenant">Tenant</label>
          {me.role === 'tenant-admin' ? (
            <input id="c-tenant" value={me.tenant ?? ''} readOnly />
          ) : (
            <select id="c-tenant" value={tenant} onChange={(e) => setTenant(e.target.value)}>
              <option value="">(none)</option>
              {(tenants.data?.tenants ?? []).map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name}
                </option>
              ))}
            </select>
          )}
        </div>
        <div className="field">
          <label htmlFor="c-scopes">Scopes</label>
          <input id="c-scopes" value={scopes} onChange={(e) => setScopes(e.target.value)} placeholder="orders:read, orders:write" />
        </div>
        <div className="field">
          <label htmlFor="c-roles">Roles</label>
          <input id="c-roles" value={roles} onChange={(e) => setRoles(e.target.value)} placeholder="orders-writer" />
        </div>
        <ProblemBox error={create.error} />
        <div className="buttons">
          <button type="submit" className="button primary" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create consumer'}
          </button>
          <Link to="/consumers" className="button ghost">
            Cancel
          </Link>
        </div>
      </form>
    </>
  )
}
