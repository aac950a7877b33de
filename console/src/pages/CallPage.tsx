import { Fragment, useState, type ReactNode } from 'react'
import { Link, useParams } from 'react-router'
import type { CallDetail } from '../api.js'
import { useSession } from '../session.js'
import { CopyButton, Loading, useLoad, PageHeader, ProblemBox, StatusBadge, TableWrap, VerdictBadge, formatMs, formatNumber } from '../components/ui.js'
import { formatUsd, type WithAi } from './ai-facts.js'

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  )
}

export function CallPage() {
  const { id = '' } = useParams()
  const { call } = useSession()
  const [open, setOpen] = useState<Set<number>>(new Set())
  const { data, error } = useLoad(async (signal) => {
    const detail = await call<CallDetail & { call: WithAi }>(`/api/calls/${encodeURIComponent(id)}`, { signal })
    // The deciding layer's facts are what an operator opens first: show them open.
    const deny = detail.explanation.rows.findIndex((r) => r.verdict === 'DENY')
    setOpen(new Set(deny >= 0 ? [deny] : []))
    return detail
  }, [id])

  if (error) {
    return (
      <>
        <PageHeader title="Call" subtitle={<code>{id}</code>} />
        <ProblemBox error={error} />
        <p>
          <Link to="/calls">Back to calls</Link>
        </p>
      </>
    )
  }
  if (!data) return <Loading what="Loading the call" />
  const { call: c, explanation } = data
  const denied = c.status >= 400
  const detailOf = (layer: string, index: number) => c.trail.find((t, i) => t.layer === layer && i === index)?.detail ?? c.trail.find((t) => t.layer === layer)?.detail
  const toggle = (i: number) => setOpen((s) => {
    const next = new Set(s)
    if (next.has(i)) next.delete(i)
    else next.add(i)
    return next
  })

  return (
    <>
      <p className="crumbs">
        <Link to="/calls">Calls</Link> / <code>{c.requestId}</code>
      </p>
      <PageHeader
        title={`${c.method} ${c.path}`}
        subtitle={
          <>
            <StatusBadge status={c.status} /> {denied ? `refused by ${c.layer}${c.rule ? ` (${c.rule})` : ''}` : 'allowed and forwarded'} · {new Date(c.time).toLocaleString()}
          </>
        }
      />
      {denied && (explanation.reason || explanation.fix) ? (
        <section className="verdict-box" aria-labelledby="why-title" data-testid="denial">
          <h2 id="why-title">Why it was refused</h2>
          {explanation.rule ? (
            <p className="rule-id">
              <code>{explanation.rule}</code>
            </p>
          ) : null}
          {explanation.reason ? <p className="reason">{explanation.reason}</p> : null}
          {explanation.fix ? (
            <div className="remedy" data-testid="remedy">
              <h3>Remedy</h3>
              <p>{explanation.fix}</p>
            </div>
          ) : null}
          {explanation.see ? <p className="hint">Reference: {explanation.see}</p> : null}
        </section>
      ) : null}
      {c.ai ? (
        <section className="card" aria-labelledby="ai-title" data-testid="ai-facts">
          <h2 id="ai-title">AI usage</h2>
          <dl className="facts">
            <Fact label="Model">
              <code>{`${c.ai.provider}/${c.ai.model}`}</code>
              {c.ai.requested !== `${c.ai.provider}/${c.ai.model}` ? <span className="muted"> (asked for {c.ai.requested})</span> : null}
            </Fact>
            <Fact label="Tokens in / out">
              {formatNumber(c.ai.promptTokens)} / {formatNumber(c.ai.completionTokens)} ({formatNumber(c.ai.totalTokens)} in all)
            </Fact>
            <Fact label="Counted by">{c.ai.estimated ? 'the gateway (the provider reported no usage): an estimate' : 'the provider'}</Fact>
            <Fact label="Cost">{c.ai.costUsd === null ? 'no price for this model' : formatUsd(c.ai.costUsd)}</Fact>
            <Fact label="First byte to the client">{formatMs(c.ai.firstByteMs)}</Fact>
            <Fact label="Kind">
              {c.ai.operation ?? 'chat'}
              {c.ai.stream ? ', streamed' : ''}
              {c.ai.fallbacks ? `, after ${c.ai.fallbacks} fallback${c.ai.fallbacks > 1 ? 's' : ''}` : ''}
            </Fact>
          </dl>
        </section>
      ) : null}
      <section className="card" aria-labelledby="trace-title">
        <h2 id="trace-title">Decision trace</h2>
        <p className="hint">Each layer in pipeline order, with its verdict and the time it took.</p>
        <TableWrap label="Decision trace">
          <table className="trace">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Layer</th>
                <th scope="col">Verdict</th>
                <th scope="col">Rule</th>
                <th scope="col" className="num">
                  Time
                </th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {explanation.rows.map((row, i) => {
                const detail = detailOf(row.layer, i)
                return (
                  <Fragment key={`${row.layer}-${i}`}>
                    <tr className={row.verdict === 'DENY' ? 'deny-row' : row.verdict === 'not reached' ? 'unreached-row' : undefined}>
                      <td className="muted">{i + 1}</td>
                      <td>
                        <strong>{row.layer}</strong>
                      </td>
                      <td>
                        <VerdictBadge verdict={row.verdict} />
                      </td>
                      <td>{row.rule ? <code>{row.rule}</code> : <span className="muted">—</span>}</td>
                      <td className="num nowrap">{row.ms !== undefined ? formatMs(row.ms) : '—'}</td>
                      <td>
                        {row.note ? <span>{row.note} </span> : null}
                        {detail ? (
                          <button type="button" className="link-button" aria-expanded={open.has(i)} onClick={() => toggle(i)}>
                            {open.has(i) ? 'hide facts' : 'show facts'}
                          </button>
                        ) : null}
                      </td>
                    </tr>
                    {detail && open.has(i) ? (
                      <tr className="detail-row">
                        <td colSpan={6}>
                          <pre>{JSON.stringify(detail, null, 2)}</pre>
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                )
              })}
            </tbody>
          </table>
        </TableWrap>
      </section>
      <section className="card" aria-labelledby="facts-title">
        <h2 id="facts-title">Request</h2>
        <dl className="facts">
          <Fact label="Request id">
            <code>{c.requestId}</code> <CopyButton text={c.requestId} />
          </Fact>
          {c.traceId ? (
            <Fact label="Trace id">
              <code>{c.traceId}</code>
            </Fact>
          ) : null}
          <Fact label="Route">{c.route ?? '—'}</Fact>
          <Fact label="Consumer">{c.consumer ?? 'anonymous'}</Fact>
          <Fact label="Tenant">{c.tenant ?? '—'}</Fact>
          <Fact label="Client IP">{c.clientIp ?? '—'}</Fact>
          <Fact label="Total time">{formatMs(c.totalMs)}</Fact>
          <Fact label="Upstream">
            {c.upstreamTarget ?? '—'}
            {c.upstreamStatus ? ` answered ${c.upstreamStatus}` : ''}
            {c.upstreamMs !== null && c.upstreamMs !== undefined ? ` in ${formatMs(c.upstreamMs)}` : ''}
          </Fact>
          <Fact label="Bytes in / out">
            {c.requestBytes} / {c.responseBytes}
          </Fact>
          <Fact label="From the CLI">
            <code>gatehouse why {c.requestId}</code>
          </Fact>
        </dl>
        {c.denial ? (
          <details className="raw">
            <summary>Stored denial (operator view)</summary>
            <pre>{JSON.stringify(c.denial, null, 2)}</pre>
          </details>
        ) : null}
      </section>
    </>
  )
}
