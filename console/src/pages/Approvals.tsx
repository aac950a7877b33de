import { useState } from 'react'
import type { Subscription } from '../api.js'
import { useSession } from '../session.js'
import { Empty, Loading, PageHeader, ProblemBox, StateBadge, TableWrap, formatTime, useAction, useLoad } from '../components/ui.js'

type Verb = 'approve' | 'reject' | 'revoke'

export function Approvals() {
  const { call, canWrite } = useSession()
  const [stateFilter, setStateFilter] = useState('')
  const [reasons, setReasons] = useState<Record<string, string>>({})
  const [notice, setNotice] = useState<string>()
  const pending = useLoad((signal) => call<{ subscriptions: Subscription[] }>('/api/subscriptions?state=pending', { signal }), [])
  const all = useLoad((signal) => call<{ subscriptions: Subscription[] }>(`/api/subscriptions${stateFilter ? `?state=${stateFilter}` : ''}`, { signal }), [stateFilter])
  const change = useAction(async (id: string, verb: Verb) => {
    const reason = reasons[id]?.trim()
    const result = await call<{ subscription: Subscription }>(`/api/subscriptions/${encodeURIComponent(id)}/${verb}`, { method: 'POST', body: reason && verb !== 'approve' ? { reason } : {} })
    setNotice(`Subscription ${result.subscription.id} (${result.subscription.consumer} → ${result.subscription.api}) is now ${result.subscription.state}.`)
    pending.reload()
    all.reload()
  })

  return (
    <>
      <PageHeader title="Approvals" subtitle="Consumers asking for access to an API, and every subscription." />
      <ProblemBox error={change.error} onDismiss={change.clear} />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <section className="card" aria-labelledby="queue-title">
        <h2 id="queue-title">Waiting for a decision</h2>
        <ProblemBox error={pending.error} />
        {!pending.data ? (
          <Loading />
        ) : pending.data.subscriptions.length === 0 ? (
          <Empty>No subscription is waiting. Consumers request them in the developer portal.</Empty>
        ) : (
          <ul className="queue" data-testid="pending-queue">
            {pending.data.subscriptions.map((s) => (
              <li key={s.id} className="queue-item" data-subscription={s.id}>
                <div>
                  <strong>{s.consumer}</strong> asks for <strong>{s.api}</strong>
                  <div className="hint">
                    #{s.id} · requested {formatTime(s.updatedAt)}
                  </div>
                </div>
                {canWrite ? (
                  <div className="queue-actions">
                    <label className="sr-only" htmlFor={`reason-${s.id}`}>
                      Reason for subscription {s.id} (optional, shown on rejection)
                    </label>
                    <input id={`reason-${s.id}`} placeholder="reason (optional)" value={reasons[s.id] ?? ''} onChange={(e) => setReasons((r) => ({ ...r, [s.id]: e.target.value }))} />
                    <button type="button" className="button primary small" disabled={change.busy} onClick={() => void change.run(s.id, 'approve')}>
                      Approve
                    </button>
                    <button type="button" className="button danger small" disabled={change.busy} onClick={() => void change.run(s.id, 'reject')}>
                      Reject
                    </button>
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="all-title">
        <div className="section-head">
          <h2 id="all-title">All subscriptions</h2>
          <div>
            <label className="inline-label" htmlFor="sub-state">
              State
            </label>
            <select id="sub-state" value={stateFilter} onChange={(e) => setStateFilter(e.target.value)}>
              <option value="">any</option>
              <option value="pending">pending</option>
              <option value="approved">approved</option>
              <option value="rejected">rejected</option>
              <option value="revoked">revoked</option>
            </select>
          </div>
        </div>
        <ProblemBox error={all.error} />
        {!all.data ? (
          <Loading />
        ) : all.data.subscriptions.length === 0 ? (
          <Empty>No subscriptions.</Empty>
        ) : (
          <TableWrap label="Subscriptions">
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Consumer</th>
                  <th scope="col">API</th>
                  <th scope="col">State</th>
                  <th scope="col">Changed</th>
                  <th scope="col">Reason</th>
                  {canWrite ? <th scope="col">Action</th> : null}
                </tr>
              </thead>
              <tbody>
                {all.data.subscriptions.map((s) => (
                  <tr key={s.id}>
                    <td>{s.id}</td>
                    <td>{s.consumer}</td>
                    <td>{s.api}</td>
                    <td>
                      <StateBadge state={s.state} />
                    </td>
                    <td className="nowrap">{formatTime(s.updatedAt)}</td>
                    <td>{s.reason ?? <span className="muted">—</span>}</td>
                    {canWrite ? (
                      <td>
                        {s.state === 'approved' ? (
                          <button
                            type="button"
                            className="button danger small"
                            disabled={change.busy}
                            onClick={() => {
                              if (window.confirm(`Revoke ${s.consumer}'s access to ${s.api}? Its calls will be refused at once.`)) void change.run(s.id, 'revoke')
                            }}
                          >
                            Revoke
                          </button>
                        ) : s.state === 'pending' ? (
                          <button type="button" className="button small" disabled={change.busy} onClick={() => void change.run(s.id, 'approve')}>
                            Approve
                          </button>
                        ) : null}
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
