import { describe, expect, it } from 'vitest'
import { FileAggregator } from './aggregate.js'
import { causeKeyOf } from './clusters.js'
import { createRecord, type LogFormat, type LogRecord } from './types.js'

function rec(fields: Partial<LogRecord>): LogRecord {
  return { ...createRecord(), status: 403, method: 'GET', ...fields }
}

function clustersOf(format: LogFormat, records: LogRecord[]) {
  const agg = new FileAggregator('f', format)
  for (const r of records) agg.add(r)
  return agg.report(false).clusters
}

describe('causeKeyOf', () => {
  it('groups ModSecurity denials by the detecting rule, not the 949110 threshold', () => {
    expect(causeKeyOf(rec({ cause: 'modsec', rules: ['949110', '942100'] }))).toBe('modsec:942100')
    expect(causeKeyOf(rec({ cause: 'modsec', rules: ['949110'] }))).toBe('modsec:949110')
  })

  it('uses status, method and path prefix for plain access-log lines', () => {
    expect(causeKeyOf(rec({ method: 'POST', path: '/api/orders/9' }))).toBe('http:403:POST /api/orders/*')
    expect(causeKeyOf(rec({ path: '/.git/config' }))).toBe('probe:403')
  })
})

describe('cluster explanations', () => {
  it('names the CRS family and the rule message for SQL injection', () => {
    const [cluster] = clustersOf('modsec-json', [
      rec({ cause: 'modsec', rules: ['942100', '949110'], message: 'SQL Injection Attack Detected via libinjection' }),
      rec({ cause: 'modsec', rules: ['942100', '949110'] }),
    ])
    expect(cluster).toMatchObject({ count: 2, summary: 'ModSecurity rule 942100 (SQL injection): SQL Injection Attack Detected via libinjection' })
    expect(cluster.explanation).toMatch(/exclude it for the rule id/)
  })

  it.each([
    ['941100', /cross-site scripting/],
    ['930120', /local file inclusion/],
    ['920420', /HTTP protocol violation/],
    ['949110', /anomaly score exceeded/],
    ['1000001', /custom rule/],
  ])('explains rule %s', (id, title) => {
    expect(clustersOf('modsec-native', [rec({ cause: 'modsec', rules: [id] })])[0].summary).toMatch(title)
  })

  it('explains IIS substatus 403.14 and 403.6', () => {
    const clusters = clustersOf('iis', [rec({ substatus: '403.14', cause: 'iis:403.14' }), rec({ substatus: '403.6', cause: 'iis:403.6' })])
    expect(clusters.map((c) => c.summary).sort()).toEqual(['IIS 403.14: directory listing denied', 'IIS 403.6: IP address rejected'])
    expect(clusters.find((c) => c.summary.includes('403.14'))?.explanation).toMatch(/default document/)
  })

  it('explains AH01630 as a Require denial', () => {
    const [cluster] = clustersOf('apache-error', [rec({ cause: 'apache:AH01630', rules: ['AH01630'] })])
    expect(cluster.summary).toMatch(/AH01630 Require denied/)
    expect(cluster.explanation).toMatch(/Require all denied/)
  })

  it('tells a method-specific refusal from a location-wide one', () => {
    const clusters = clustersOf('nginx', [
      rec({ status: 200, method: 'GET', path: '/api/orders' }),
      rec({ method: 'POST', path: '/api/orders' }),
      rec({ method: 'GET', path: '/internal/metrics' }),
    ])
    expect(clusters.find((c) => c.summary === '403 on POST /api/orders')?.explanation).toMatch(/^GET succeeds on the same paths while POST is refused/)
    expect(clusters.find((c) => c.summary === '403 on GET /internal/metrics')?.explanation).toMatch(/allow\/deny/)
  })

  it('calls a client with many distinct 403 paths a scanner and folds its paths into it', () => {
    const records = Array.from({ length: 30 }, (_, i) => rec({ client: '192.0.2.99', path: `/probe-${i}.php` }))
    const clusters = clustersOf('nginx', records)
    expect(clusters).toHaveLength(1)
    expect(clusters[0]).toMatchObject({ count: 30, summary: 'scanner-like client 192.0.2.99: 403 on 20+ different paths' })
  })

  it('points at an address rule when one client takes most 403s', () => {
    const records = [...Array.from({ length: 12 }, () => rec({ client: '10.0.0.2', path: '/pay' })), rec({ client: '10.0.0.3', path: '/x' })]
    expect(clustersOf('nginx', records).find((c) => c.summary.startsWith('one client'))).toMatchObject({ count: 12, summary: 'one client, 10.0.0.2, got 92% of the 403s' })
  })

  it('explains Gatehouse layers with the rule id', () => {
    const [cluster] = clustersOf('gatehouse', [rec({ cause: 'gatehouse:authz', rules: ['authz.missing-scope'] })])
    expect(cluster.summary).toBe('Gatehouse authz: authorization denied (authz.missing-scope)')
  })
})
