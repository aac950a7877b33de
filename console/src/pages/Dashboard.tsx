import { useState } from 'react'
import { Link } from 'react-router'
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { qs, type DenialAlert, type DenialReport } from '../api.js'
import { useSession } from '../session.js'
import { Empty, Loading, PageHeader, ProblemBox, TableWrap, formatNumber, formatPercent, formatTime, useLoad, PeriodActions } from '../components/ui.js'

const periods = [
  { since: '1h', bucket: '5m', label: 'Last hour' },
  { since: '24h', bucket: '1h', label: 'Last 24 hours' },
  { since: '7d', bucket: '6h', label: 'Last 7 days' },
] as const

/** Colours for stacked series other than layers. */
const palette = ['#d9480f', '#1c7ed6', '#7048e8', '#2b8a3e', '#e67700', '#c2255c', '#0c8599', '#5c940d', '#862e9c', '#495057']
const maxSeries = 6
/** Layers keep their colour from chart to chart and refresh to refresh. */
const layerColours: Record<string, string> = {
  ip: '#495057', cors: '#0c8599', body: '#5c940d', waf: '#e67700', authn: '#d9480f', subscription: '#7048e8',
  authz: '#1c7ed6', csrf: '#862e9c', 'rate-limit': '#2b8a3e', transform: '#868e96', upstream: '#c2255c', gateway: '#343a40',
}

/**
 * Colours of a chart's series: fixed for layers, grey for 'other', and for anything else one
 * picked from the name (the next free one when two names land on the same), so a rule keeps
 * its colour across refreshes and no two series of a chart share one.
 */
function coloursOf(keys: string[]): Map<string, string> {
  const colours = new Map<string, string>()
  const used = new Set<string>()
  for (const key of keys) {
    const fixed = key === 'other' ? '#ced4da' : layerColours[key]
    if (fixed) {
      colours.set(key, fixed)
      used.add(fixed)
    }
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
  rows: Record<string, number | string>[]
}

function label(key: string | null): string {
  return key ?? '(none)'
}

/** Denials per bucket per group: the report's own per-group series, the smallest groups as `other`. */
function buildSeries(report: DenialReport): Series {
  const withDenials = report.groups.filter((g) => g.denied > 0)
  const keys = withDenials.slice(0, maxSeries).map((g) => label(g.key))
  if (withDenials.length > maxSeries) keys.push('other')
  const rows: Record<string, number | string>[] = report.buckets.map((b) => {
    const row: Record<string, number | string> = { t: Date.parse(b.start) }
    for (const k of keys) row[k] = 0
    return row
  })
  for (const g of withDenials) {
    const k = keys.includes(label(g.key)) ? label(g.key) : 'other'
    g.buckets.forEach((n, i) => {
      if (rows[i]) rows[i][k] = (rows[i][k] as number) + n
    })
  }
  return { keys, rows }
}

function tickFormatter(bucketMs: number) {
  return (t: number) => {
    const d = new Date(t)
    if (bucketMs >= 6 * 3600_000) return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ` ${String(d.getHours()).padStart(2, '0')}h`
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })
  }
}

function Delta({ now, before, invert = true }: { now: number; before: number | null; invert?: boolean }) {
  if (before === null) return <span className="delta muted">no previous data</span>
  const diff = now - before
  if (Math.abs(diff) < 0.0005) return <span className="delta muted">same as previous period</span>
  const worse = invert ? diff > 0 : diff < 0
  return (
    <span className={`delta ${worse ? 'worse' : 'better'}`}>
      {diff > 0 ? '▲' : '▼'} {formatPercent(Math.abs(diff))} pts vs previous period
    </span>
  )
}

function StackedChart({ title, series, bucketMs, id }: { title: string; series: Series; bucketMs: number; id: string }) {
  const colours = coloursOf(series.keys)
  return (
    <section className="card chart-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {series.keys.length === 0 ? (
        <Empty>No denials in this period.</Empty>
      ) : (
        <div className="chart" role="img" aria-label={`${title}: ${series.keys.join(', ')}`}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={series.rows} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
              <XAxis dataKey="t" tickFormatter={tickFormatter(bucketMs)} fontSize={11} minTickGap={24} />
              <YAxis allowDecimals={false} fontSize={11} />
              <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleString()} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              {series.keys.map((k) => (
                <Bar key={k} dataKey={k} stackId="d" fill={colours.get(k)} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </section>
  )
}

export function Dashboard() {
  const { call } = useSession()
  const [period, setPeriod] = useState<(typeof periods)[number]>(periods[1])
  const { data, error, loading, reload } = useLoad(
    async (signal) => {
      const base = { since: period.since, bucket: period.bucket }
      const [byLayer, byRule, byRoute, alerts] = await Promise.all([
        call<DenialReport>(`/api/analytics/denials${qs({ ...base, by: 'layer' })}`, { signal }),
        call<DenialReport>(`/api/analytics/denials${qs({ ...base, by: 'rule' })}`, { signal }),
        call<DenialReport>(`/api/analytics/denials${qs({ ...base, by: 'route' })}`, { signal }),
        call<{ enabled: boolean; alerts: DenialAlert[] }>('/api/analytics/alerts', { signal }).catch(() => ({ enabled: false, alerts: [] })),
      ])
      return { byLayer, byRule, byRoute, alerts }
    },
    [period.since],
  )

  const header = (
    <PageHeader
      title="Dashboard"
      subtitle="Who is being denied, by what, since when."
      actions={<PeriodActions id="period" periods={periods} value={period} onChange={setPeriod} onRefresh={reload} />}
    />
  )
  if (error) return (<>{header}<ProblemBox error={error} /></>)
  if (!data) return (<>{header}<Loading what="Loading analytics" /></>)

  const { byLayer, byRule, byRoute, alerts } = data
  const total = byLayer.buckets.reduce((s, b) => s + b.total, 0)
  const denied = byLayer.buckets.reduce((s, b) => s + b.denied, 0)
  const s401 = byLayer.buckets.reduce((s, b) => s + b.status[401], 0)
  const s403 = byLayer.buckets.reduce((s, b) => s + b.status[403], 0)
  const s429 = byLayer.buckets.reduce((s, b) => s + b.status[429], 0)
  const prevTotal = byLayer.groups.reduce((s, g) => s + g.previous.total, 0)
  const prevDenied = byLayer.groups.reduce((s, g) => s + g.previous.denied, 0)
  const rate = total ? denied / total : 0
  const prevRate = prevTotal ? prevDenied / prevTotal : null
  const layerSeries = buildSeries(byLayer)
  const ruleSeries = buildSeries(byRule)
  const trend = byLayer.buckets.map((b) => ({ t: Date.parse(b.start), total: b.total, denied: b.denied }))

  return (
    <>
      {header}
      {loading ? <p className="hint" role="status">Refreshing…</p> : null}
      {alerts.alerts.length > 0 ? (
        <section className="alerts" aria-labelledby="alerts-title">
          <h2 id="alerts-title">Spike alerts</h2>
          {alerts.alerts.slice(0, 5).map((a) => (
            <div className="alert" key={a.id} role="alert">
              <strong>
                {a.route ?? '(no route)'} · {a.layer}
                {a.rule ? `.${a.rule}` : ''}
              </strong>{' '}
              denial rate {formatPercent(a.rate)} (baseline {formatPercent(a.baseline)}, {a.count} of {a.total} calls in {a.window}s) since {formatTime(a.since)}.{' '}
              {a.requestIds[0] ? <Link to={`/calls/${encodeURIComponent(a.requestIds[0])}`}>See a denied call</Link> : null}
            </div>
          ))}
        </section>
      ) : null}
      <div className="kpis">
        <div className="card kpi">
          <span className="kpi-label">Calls</span>
          <span className="kpi-value">{formatNumber(total)}</span>
          <span className="delta muted">previous period: {formatNumber(prevTotal)}</span>
        </div>
        <div className="card kpi">
          <span className="kpi-label">Denied (401/403/429)</span>
          <span className="kpi-value">{formatNumber(denied)}</span>
          <span className="delta muted">previous period: {formatNumber(prevDenied)}</span>
        </div>
        <div className="card kpi">
          <span className="kpi-label">Denial rate</span>
          <span className="kpi-value">{formatPercent(rate)}</span>
          <Delta now={rate} before={prevRate} />
        </div>
        <div className="card kpi">
          <span className="kpi-label">By status</span>
          <span className="kpi-split">
            <span>
              <b>{formatNumber(s401)}</b> 401
            </span>
            <span>
              <b>{formatNumber(s403)}</b> 403
            </span>
            <span>
              <b>{formatNumber(s429)}</b> 429
            </span>
          </span>
        </div>
      </div>
      <div className="grid-2">
        <StackedChart id="by-layer" title="Denials over time by layer" series={layerSeries} bucketMs={byLayer.bucketMs} />
        <StackedChart id="by-rule" title="Denials over time by rule" series={ruleSeries} bucketMs={byRule.bucketMs} />
      </div>
      <section className="card chart-card" aria-labelledby="trend-title">
        <h2 id="trend-title">Traffic and denials</h2>
        <div className="chart small-chart">
          <ResponsiveContainer width="100%" height="100%">
            <AreaChart data={trend} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e7eb" />
              <XAxis dataKey="t" tickFormatter={tickFormatter(byLayer.bucketMs)} fontSize={11} minTickGap={24} />
              <YAxis allowDecimals={false} fontSize={11} />
              <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleString()} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Area type="monotone" dataKey="total" name="all calls" stroke="#1c7ed6" fill="#d0ebff" isAnimationActive={false} />
              <Area type="monotone" dataKey="denied" name="denied" stroke="#d9480f" fill="#ffd8a8" isAnimationActive={false} />
            </AreaChart>
          </ResponsiveContainer>
        </div>
      </section>
      <div className="grid-2">
        <section className="card" aria-labelledby="top-title">
          <h2 id="top-title">Top denial reasons</h2>
          {byLayer.top.length === 0 ? (
            <Empty>Nothing was denied in this period.</Empty>
          ) : (
            <TableWrap label="Top denial reasons">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Layer</th>
                    <th scope="col">Rule</th>
                    <th scope="col" className="num">
                      Denials
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {byLayer.top.map((t) => (
                    <tr key={`${t.layer}.${t.rule}`}>
                      <td>{t.layer}</td>
                      <td>
                        <Link to={`/calls${qs({ denied: 'true', layer: t.layer, since: period.since })}`}>{t.rule ?? '(no rule)'}</Link>
                      </td>
                      <td className="num">{formatNumber(t.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </section>
        <section className="card" aria-labelledby="routes-title">
          <h2 id="routes-title">Routes compared with the previous period</h2>
          {byRoute.groups.length === 0 ? (
            <Empty>No calls in this period.</Empty>
          ) : (
            <TableWrap label="Denials by route">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Route</th>
                    <th scope="col" className="num">
                      Calls
                    </th>
                    <th scope="col" className="num">
                      Denied
                    </th>
                    <th scope="col" className="num">
                      Rate
                    </th>
                    <th scope="col" className="num">
                      Before
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {byRoute.groups.slice(0, 10).map((g) => (
                    <tr key={label(g.key)}>
                      <td>{g.key ? <Link to={`/calls${qs({ route: g.key, denied: 'true', since: period.since })}`}>{g.key}</Link> : '(no route)'}</td>
                      <td className="num">{formatNumber(g.total)}</td>
                      <td className="num">{formatNumber(g.denied)}</td>
                      <td className="num">{formatPercent(g.rate)}</td>
                      <td className="num">
                        {g.previous.total ? formatPercent(g.previous.rate) : '—'}
                        {g.change !== null && Math.abs(g.change) >= 0.0005 ? <span className={g.change > 0 ? 'worse' : 'better'}> {g.change > 0 ? '▲' : '▼'}</span> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </section>
      </div>
    </>
  )
}
