import { useState } from 'react'
import { Link } from 'react-router'
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { qs } from '../api.js'
import { useSession } from '../session.js'
import { Empty, Loading, PageHeader, ProblemBox, TableWrap, formatNumber, formatPercent, useLoad, PeriodActions } from '../components/ui.js'
import { formatUsd } from './ai-facts.js'

/** Sums of AI calls, as GET /api/analytics/ai gives them (src/admin/routes/ai-usage.ts). */
interface AiSums {
  calls: number
  failed: number
  promptTokens: number
  completionTokens: number
  totalTokens: number
  costUsd: number
  /** Calls whose tokens the gateway counted because the provider reported none. */
  estimated: number
}

type Dimension = 'consumer' | 'tenant' | 'model'

interface AiReport {
  since: number
  until: number
  bucketMs: number
  by: Dimension
  tenant: string | null
  routes: string[]
  totals: AiSums
  groups: (AiSums & { key: string | null })[]
  /** Only the (bucket, key) pairs that had calls, oldest first. */
  buckets: (AiSums & { bucket: number; key: string | null })[]
  truncated: boolean
}

const periods = [
  { since: '24h', bucket: '1h', label: 'Last 24 hours' },
  { since: '7d', bucket: '6h', label: 'Last 7 days' },
  { since: '30d', bucket: '1d', label: 'Last 30 days' },
] as const
type Period = (typeof periods)[number]

/** Colours far enough apart to tell stacked series apart. */
const palette = ['#1c7ed6', '#e8590c', '#7048e8', '#2b8a3e', '#d6336c', '#0c8599', '#fab005', '#495057']
const maxSeries = 6

/** How a group's key reads: calls without a consumer are anonymous, and so on. */
function nameOf(by: Dimension, key: string | null): string {
  if (key !== null) return key
  return by === 'consumer' ? 'anonymous' : by === 'tenant' ? '(no tenant)' : '(none)'
}

/** A colour per series picked from its name (the next free one on a clash), so it stays put across refreshes. */
function coloursOf(keys: string[]): Map<string, string> {
  const colours = new Map<string, string>()
  const used = new Set<string>()
  if (keys.includes('other')) {
    colours.set('other', '#ced4da')
    used.add('#ced4da')
  }
  for (const key of [...keys].sort()) {
    if (colours.has(key)) continue
    let hash = 0
    for (const ch of key) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0
    let i = hash % palette.length
    for (let tries = 0; tries < palette.length && used.has(palette[i]); tries++) i = (i + 1) % palette.length
    colours.set(key, palette[i])
    used.add(palette[i])
  }
  return colours
}

interface Series {
  keys: string[]
  /** One row per bucket: `t` and, per key, tokens (`<key>`) and cost (`<key>\u0000usd`). */
  rows: Record<string, number>[]
}

const usdKey = (key: string) => `${key}\u0000usd`

/**
 * Tokens and cost per bucket for the biggest groups (by cost, then tokens, as the report sorts
 * them); the rest go to 'other'. Buckets without calls are drawn as zero, so gaps show.
 */
function buildSeries(report: AiReport): Series {
  const top = report.groups.slice(0, maxSeries).map((g) => nameOf(report.by, g.key))
  const keys = report.groups.length > maxSeries ? [...top, 'other'] : top
  const count = Math.max(1, Math.ceil((report.until - report.since) / report.bucketMs))
  const rows: Record<string, number>[] = []
  for (let i = 0; i < count; i++) {
    const row: Record<string, number> = { t: report.since + i * report.bucketMs }
    for (const k of keys) {
      row[k] = 0
      row[usdKey(k)] = 0
    }
    rows.push(row)
  }
  for (const b of report.buckets) {
    const i = Math.min(count - 1, Math.max(0, Math.floor((b.bucket - report.since) / report.bucketMs)))
    const name = nameOf(report.by, b.key)
    const k = top.includes(name) ? name : 'other'
    rows[i][k] += b.totalTokens
    rows[i][usdKey(k)] += b.costUsd
  }
  return { keys, rows }
}

function tickFormatter(bucketMs: number) {
  return (t: number) => {
    const d = new Date(t)
    if (bucketMs >= 86_400_000) return d.toLocaleDateString([], { month: 'short', day: 'numeric' })
    if (bucketMs >= 6 * 3600_000) return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ` ${String(d.getHours()).padStart(2, '0')}h`
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })
  }
}

/** Compact axis labels: 12k, 3.4M. */
function compact(n: number): string {
  return n.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 })
}

/** Axis labels in dollars with two significant digits: $0.026, $1.5, $120. */
function axisUsd(n: number): string {
  return n === 0 ? '$0' : n.toLocaleString('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 2 })
}

function UsageChart({ id, title, series, metric, bucketMs }: { id: string; title: string; series: Series; metric: 'tokens' | 'usd'; bucketMs: number }) {
  const colours = coloursOf(series.keys)
  const empty = series.rows.every((r) => series.keys.every((k) => (metric === 'usd' ? r[usdKey(k)] : r[k]) === 0))
  return (
    <section className="card chart-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {empty ? (
        <Empty>{metric === 'usd' ? 'No priced AI calls in this period.' : 'No AI calls in this period.'}</Empty>
      ) : (
        <div className="chart" role="img" aria-label={`${title}: ${series.keys.join(', ')}`}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={series.rows} margin={{ top: 8, right: 8, bottom: 0, left: metric === 'usd' ? 0 : -8 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
              <XAxis dataKey="t" tickFormatter={tickFormatter(bucketMs)} fontSize={11} minTickGap={24} />
              <YAxis fontSize={11} allowDecimals={metric === 'usd'} tickFormatter={(v: number) => (metric === 'usd' ? axisUsd(v) : compact(v))} width={metric === 'usd' ? 56 : 48} />
              <Tooltip
                labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                formatter={(value) => (metric === 'usd' ? formatUsd(Number(value)) : `${formatNumber(Number(value))} tokens`)}
              />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {series.keys.map((k) => (
                <Bar key={k} name={k} dataKey={metric === 'usd' ? usdKey(k) : k} stackId={metric} fill={colours.get(k)} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </section>
  )
}

/** Calls (failed), tokens in/out, cost and estimated share of each group. */
function UsageTable({ id, title, report, link }: { id: string; title: string; report: AiReport; link?: (key: string) => string }) {
  const noun = report.by === 'model' ? 'Model' : report.by === 'tenant' ? 'Tenant' : 'Consumer'
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {report.groups.length === 0 ? (
        <Empty>No AI calls in this period.</Empty>
      ) : (
        <TableWrap label={title}>
          <table className="ai-table" data-testid={`ai-by-${report.by}`}>
            <thead>
              <tr>
                <th scope="col">{noun}</th>
                <th scope="col" className="num">Calls</th>
                <th scope="col" className="num">Tokens in</th>
                <th scope="col" className="num">Tokens out</th>
                <th scope="col" className="num">Total tokens</th>
                <th scope="col" className="num">Cost</th>
                <th scope="col" className="num">Estimated</th>
              </tr>
            </thead>
            <tbody>
              {report.groups.map((g) => {
                const name = nameOf(report.by, g.key)
                return (
                  <tr key={name} data-key={name}>
                    <th scope="row">{link && g.key !== null ? <Link to={link(g.key)}>{name}</Link> : name}</th>
                    <td className="num" data-col="calls">
                      {formatNumber(g.calls)}
                      {g.failed > 0 ? <span className="muted"> ({formatNumber(g.failed)} failed)</span> : null}
                    </td>
                    <td className="num" data-col="prompt">{formatNumber(g.promptTokens)}</td>
                    <td className="num" data-col="completion">{formatNumber(g.completionTokens)}</td>
                    <td className="num" data-col="total">{formatNumber(g.totalTokens)}</td>
                    <td className="num" data-col="cost">{formatUsd(g.costUsd)}</td>
                    <td className="num" data-col="estimated" title="Calls whose tokens the gateway counted because the provider reported none">
                      {g.calls ? formatPercent(g.estimated / g.calls, 0) : '—'}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  )
}

export function AiUsage() {
  const { call, me } = useSession()
  const [period, setPeriod] = useState<Period>(periods[1])
  const [stackBy, setStackBy] = useState<'model' | 'consumer'>('model')
  const { data, error, loading, reload } = useLoad(
    async (signal) => {
      const get = (by: Dimension) => call<AiReport>(`/api/analytics/ai${qs({ since: period.since, bucket: period.bucket, by })}`, { signal })
      const [byConsumer, byTenant, byModel] = await Promise.all([get('consumer'), get('tenant'), get('model')])
      return { byConsumer, byTenant, byModel }
    },
    [period.since],
  )

  const header = (
    <PageHeader
      title="AI usage"
      subtitle={me.role === 'tenant-admin' && me.tenant ? `Tokens and cost of AI calls in tenant ${me.tenant}.` : 'Tokens and cost of AI calls, by consumer, tenant and model.'}
      actions={<PeriodActions id="ai-period" periods={periods} value={period} onChange={setPeriod} onRefresh={reload} />}
    />
  )
  if (error) return (<>{header}<ProblemBox error={error} /></>)
  if (!data) return (<>{header}<Loading what="Loading AI usage" /></>)

  const { byConsumer, byTenant, byModel } = data
  const totals = byConsumer.totals
  const series = buildSeries(stackBy === 'model' ? byModel : byConsumer)
  const bucketMs = byConsumer.bucketMs
  // The call list's time filter offers 24h and 7d; a 30-day link lists all time.
  const callsSince = period.since === '30d' ? undefined : period.since

  return (
    <>
      {header}
      {loading ? <p className="hint" role="status">Refreshing…</p> : null}
      {byConsumer.routes.length === 0 ? <p className="notice">No route of <code>kind: ai</code> is configured, so there is no AI usage to show (see docs/ai.md).</p> : null}
      {byConsumer.truncated ? <p className="notice">This period has more AI calls than one report reads (200,000): the figures count the newest ones only.</p> : null}
      <div className="kpis ai-kpis" data-testid="ai-totals">
        <div className="card kpi">
          <span className="kpi-label">AI calls</span>
          <span className="kpi-value" data-kpi="calls">{formatNumber(totals.calls)}</span>
          <span className="delta muted">{totals.failed > 0 ? `${formatNumber(totals.failed)} failed` : 'none failed'}</span>
        </div>
        <div className="card kpi">
          <span className="kpi-label">Tokens in (prompt)</span>
          <span className="kpi-value" data-kpi="prompt">{formatNumber(totals.promptTokens)}</span>
        </div>
        <div className="card kpi">
          <span className="kpi-label">Tokens out (completion)</span>
          <span className="kpi-value" data-kpi="completion">{formatNumber(totals.completionTokens)}</span>
        </div>
        <div className="card kpi">
          <span className="kpi-label">Cost</span>
          <span className="kpi-value" data-kpi="cost">{formatUsd(totals.costUsd)}</span>
          <span className="delta muted">from the providers' price tables</span>
        </div>
        <div className="card kpi">
          <span className="kpi-label">Estimated usage</span>
          <span className="kpi-value" data-kpi="estimated">{totals.calls ? formatPercent(totals.estimated / totals.calls) : '—'}</span>
          <span className="delta muted">
            {formatNumber(totals.estimated)} of {formatNumber(totals.calls)} calls counted by the gateway
          </span>
        </div>
      </div>
      <div className="section-head ai-stack">
        <h2>Over time</h2>
        <div className="segmented" role="group" aria-label="Stack the charts by">
          {(['model', 'consumer'] as const).map((by) => (
            <button key={by} type="button" className={stackBy === by ? 'button small on' : 'button small'} aria-pressed={stackBy === by} onClick={() => setStackBy(by)}>
              By {by}
            </button>
          ))}
        </div>
      </div>
      <div className="grid-2">
        <UsageChart id="ai-tokens" title={`Tokens by ${stackBy}`} series={series} metric="tokens" bucketMs={bucketMs} />
        <UsageChart id="ai-cost" title={`Cost (USD) by ${stackBy}`} series={series} metric="usd" bucketMs={bucketMs} />
      </div>
      <UsageTable id="ai-consumers" title="By consumer" report={byConsumer} link={(key) => `/calls${qs({ consumer: key, since: callsSince })}`} />
      <UsageTable id="ai-models" title="By model" report={byModel} />
      <UsageTable id="ai-tenants" title="By tenant" report={byTenant} link={me.role === 'tenant-admin' ? undefined : (key) => `/calls${qs({ tenant: key, since: callsSince })}`} />
      <p className="hint">
        Cost is what the providers' <code>prices</code> give (USD per 1M tokens); a model without a price counts $0. Estimated: share of calls whose provider reported no usage, so the gateway
        counted the tokens. Failed calls that reached a provider are counted too.
      </p>
    </>
  )
}
