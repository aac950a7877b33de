import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { classify } from './classify.js'
import { genericChecklist } from './checklists.js'
import { fingerprints } from './fingerprints/index.js'
import { renderDiagnoses } from './render.js'
import type { Diagnosis, DoctorLayer, Exchange } from './types.js'

interface Case extends Exchange {
  description?: string
  source?: string
  expect: { producer: string; layer: DoctorLayer }
}

const casesDir = fileURLToPath(new URL('./cases/', import.meta.url))

function loadCases(): Array<{ id: string; data: Case }> {
  const cases: Array<{ id: string; data: Case }> = []
  for (const family of readdirSync(casesDir).sort()) {
    for (const file of readdirSync(join(casesDir, family)).sort()) {
      if (!file.endsWith('.json')) continue
      const data = JSON.parse(readFileSync(join(casesDir, family, file), 'utf8')) as Case
      cases.push({ id: `${family}/${file.replace(/\.json$/, '')}`, data })
    }
  }
  return cases
}

const cases = loadCases()

const layers: readonly DoctorLayer[] = [
  'waf', 'cdn', 'ip-filter', 'server-config', 'authn', 'authz', 'csrf', 'cors', 'rate-limit', 'gateway', 'geo', 'upstream', 'unknown',
]

function exchange(status: number, headers: Record<string, string>, body = '', method = 'POST', url = 'https://api.example.com/v1/orders', requestHeaders: Record<string, string> = {}): Exchange {
  return { request: { method, url, headers: requestHeaders }, response: { status, headers, body } }
}

const djangoCsrfPage = `<!DOCTYPE html>
<html lang="en"><head><title>403 Forbidden</title></head>
<body><div id="summary"><h1>Forbidden <span>(403)</span></h1>
<p>CSRF verification failed. Request aborted.</p></div>
<div id="info"><p>Reason given for failure:</p><pre>
    CSRF cookie not set.
    </pre></div></body></html>`

describe('recorded cases', () => {
  it('has at least 80 cases spread over the families', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80)
    expect(new Set(cases.map((c) => c.id.split('/')[0])).size).toBeGreaterThanOrEqual(10)
  })

  it.each(cases.map((c) => [c.id, c.data] as const))('names producer and layer of %s', (_id, data) => {
    const [top] = classify(data)
    expect({ producer: top.producer, layer: top.layer }).toEqual(data.expect)
  })

  it('gets at least 90% of all cases right at rank 1', () => {
    const misses: string[] = []
    for (const { id, data } of cases) {
      const [top] = classify(data)
      if (top.producer !== data.expect.producer || top.layer !== data.expect.layer) {
        misses.push(`${id}: expected ${data.expect.producer}/${data.expect.layer}, got ${top.producer}/${top.layer}`)
      }
    }
    const accuracy = (cases.length - misses.length) / cases.length
    expect(accuracy, `misses:\n${misses.join('\n')}`).toBeGreaterThanOrEqual(0.9)
  })
})

describe('classify', () => {
  it('reports the evidence that matched, with Cloudflare 1020 scored as a WAF block', () => {
    const [top] = classify(exchange(403, { server: 'cloudflare', 'cf-ray': '8c1f2e3a4b5c6d7e-FRA' }, 'error code: 1020'))
    expect(top.producer).toBe('cloudflare')
    expect(top.layer).toBe('waf')
    expect(top.confidence).toBeGreaterThan(0.9)
    expect(top.evidence).toEqual(expect.arrayContaining(['header cf-ray', 'body: error code: 1020']))
    expect(top.remedies.length).toBeGreaterThan(0)
  })

  it('ranks the framework whose page is in the body above the CDN that relayed it', () => {
    const diagnoses = classify(exchange(403, { Server: 'cloudflare', 'CF-RAY': '85f1e2d3c4b5a697-CDG', 'Content-Type': 'text/html' }, djangoCsrfPage))
    expect(diagnoses[0]).toMatchObject({ producer: 'django', layer: 'csrf' })
    expect(diagnoses[0].cause).toContain('cookie')
    const cdn = diagnoses.find((d) => d.producer === 'cloudflare')
    expect(cdn?.layer).toBe('cdn')
    expect(cdn?.cause).toContain('relayed')
    expect(cdn!.confidence).toBeLessThan(diagnoses[0].confidence)
  })

  it('ranks nginx own page above the CDN in front of it', () => {
    const page = '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n'
    const [top] = classify(exchange(403, { server: 'cloudflare', 'cf-ray': 'x-AMS' }, page))
    expect(top).toMatchObject({ producer: 'nginx', layer: 'server-config' })
  })

  it('reads header names case-insensitively', () => {
    const body = '{"message":"Missing Authentication Token"}'
    const lower = classify(exchange(403, { 'x-amzn-errortype': 'MissingAuthenticationTokenException', 'x-amz-apigw-id': 'abc=' }, body))
    const upper = classify(exchange(403, { 'X-AMZN-ERRORTYPE': 'MissingAuthenticationTokenException', 'X-Amz-Apigw-Id': 'abc=' }, body))
    expect(upper).toEqual(lower)
    expect(lower[0]).toMatchObject({ producer: 'aws-apigw', layer: 'gateway' })
    expect(lower[0].evidence).toContain('header x-amz-apigw-id')
  })

  it('tells IIS substatus 403.14 apart from 403.1', () => {
    const page = '<title>IIS 10.0 Detailed Error - 403.14 - Forbidden</title><h3>HTTP Error 403.14 - Forbidden</h3>'
    const [top] = classify(exchange(403, { Server: 'Microsoft-IIS/10.0' }, page, 'GET', 'https://x.example.com/app/'))
    expect(top.producer).toBe('iis')
    expect(top.evidence).toContain('IIS substatus 403.14')
    expect(top.evidence).not.toContain('IIS substatus 403.1')
  })

  it('uses the request method to tell Spring CSRF from Spring access denied', () => {
    const body = '{"timestamp":"2024-03-05T09:12:00.123+00:00","status":403,"error":"Forbidden","path":"/api/orders"}'
    expect(classify(exchange(403, { 'content-type': 'application/json' }, body, 'POST'))[0]).toMatchObject({ producer: 'spring', layer: 'csrf' })
    expect(classify(exchange(403, { 'content-type': 'application/json' }, body, 'GET'))[0]).toMatchObject({ producer: 'spring', layer: 'authz' })
  })

  it('recognises GitHub rate limiting from x-ratelimit-remaining: 0', () => {
    const [top] = classify(exchange(403, { 'x-github-request-id': 'C0DE:1', 'x-ratelimit-remaining': '0' }, '{"message":"API rate limit exceeded for 203.0.113.9."}', 'GET'))
    expect(top).toMatchObject({ producer: 'github', layer: 'rate-limit' })
    expect(top.evidence).toContain('header x-ratelimit-remaining: 0')
  })

  it('returns confidences ranked best first, each between 0 and 1', () => {
    for (const { data } of cases) {
      const diagnoses = classify(data)
      for (let i = 1; i < diagnoses.length; i++) expect(diagnoses[i].confidence).toBeLessThanOrEqual(diagnoses[i - 1].confidence)
      for (const d of diagnoses) {
        expect(d.confidence).toBeGreaterThanOrEqual(0)
        expect(d.confidence).toBeLessThanOrEqual(1)
        expect(layers).toContain(d.layer)
      }
    }
  })

  it('always ends with an unknown diagnosis carrying the generic checklist', () => {
    const diagnoses = classify(exchange(403, { server: 'cloudflare', 'cf-ray': 'x' }, 'error code: 1020'))
    const last = diagnoses[diagnoses.length - 1]
    expect(last.producer).toBe('unknown')
    expect(last.remedies).toEqual(genericChecklist(403).steps)
  })
})

describe('thin evidence', () => {
  it.each([
    [401, 'authn'],
    [403, 'unknown'],
    [405, 'server-config'],
    [407, 'authn'],
    [419, 'csrf'],
    [429, 'rate-limit'],
    [451, 'geo'],
    [503, 'upstream'],
  ] as const)('puts unknown first with the %i checklist when nothing identifies the producer', (status, layer) => {
    const diagnoses = classify(exchange(status, { 'content-length': '0' }))
    expect(diagnoses[0].producer).toBe('unknown')
    expect(diagnoses[0].layer).toBe(layer)
    expect(diagnoses[0].remedies).toEqual(genericChecklist(status).steps)
    expect(diagnoses[0].remedies.length).toBeGreaterThan(0)
    expect(diagnoses[0].evidence).toContain(`status ${status}`)
  })

  it('does not name a product from the status code alone', () => {
    const diagnoses = classify(exchange(403, {}, 'Access denied by policy'))
    expect(diagnoses).toHaveLength(1)
    expect(diagnoses[0].producer).toBe('unknown')
  })

  it.each([
    ['a generic JSON error', { 'content-type': 'application/json' }, '{"error":"forbidden"}'],
    ['an unbranded HTML page', { 'content-type': 'text/html' }, '<html><body><h1>Access Denied</h1><p>Contact your administrator.</p></body></html>'],
    ['a plain-text Forbidden', { 'content-type': 'text/plain' }, 'Forbidden'],
    ['only a server: nginx banner', { server: 'nginx/1.24.0' }, ''],
    ['only a server: Caddy banner', { server: 'Caddy' }, ''],
  ])('stays unknown first for %s', (_label, headers, body) => {
    const diagnoses = classify(exchange(403, headers, body))
    expect(diagnoses[0].producer).toBe('unknown')
  })

  it('gives a refused CORS preflight the CORS checklist', () => {
    const diagnoses = classify(exchange(403, {}, '', 'OPTIONS', 'https://api.example.com/x', { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST' }))
    expect(diagnoses[0]).toMatchObject({ producer: 'unknown', layer: 'cors' })
    expect(diagnoses[0].evidence).toContain('request is a CORS preflight')
  })
})

describe('odd input', () => {
  it('never throws and never returns an empty list', () => {
    const odd: unknown[] = [
      {},
      { request: null, response: null },
      { request: { method: 'GET', url: 'not a url', headers: {} }, response: { status: 403 } },
      { request: { method: 7, url: 9, headers: 'x' }, response: { status: 'x', headers: [], body: 42 } },
      exchange(403, { 'set-cookie': 'a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT, c=d' }, '\u0000\u0001\u00ff\ufffd binary \u0000'),
      exchange(403, { 'content-type': 'application/json' }, '[1, 2, {"error": null}]'),
      exchange(403, { 'content-type': 'application/json' }, '{"unterminated": '),
      exchange(200, { 'x-weird': 5 as unknown as string, server: ['a', 'b'] as unknown as string }, ''),
    ]
    for (const input of odd) {
      const diagnoses = classify(input as Exchange)
      expect(diagnoses.length).toBeGreaterThan(0)
      expect(diagnoses[diagnoses.length - 1].producer === 'unknown' || diagnoses[0].producer === 'unknown').toBe(true)
    }
  })

  it('inspects only the first 64 KB of the body', () => {
    const padding = 'x'.repeat(70 * 1024)
    expect(classify(exchange(403, {}, `${padding} error code: 1020`))[0].producer).toBe('unknown')
    expect(classify(exchange(403, {}, `error code: 1020 ${padding}`))[0].producer).toBe('cloudflare')
  })

  it('reads cookie names from a flattened Set-Cookie header', () => {
    const [top] = classify(exchange(419, { 'Set-Cookie': 'XSRF-TOKEN=a; expires=Tue, 05 Mar 2024 11:12:00 GMT; path=/, laravel_session=b; path=/; httponly' }, '<title>Page Expired</title>'))
    expect(top).toMatchObject({ producer: 'laravel', layer: 'csrf' })
    expect(top.evidence).toEqual(expect.arrayContaining(['cookie laravel_session', 'cookie XSRF-TOKEN']))
  })

  it('classifies a large body quickly', () => {
    const body = `<html>${'<p>lorem ipsum dolor sit amet</p>'.repeat(4000)}</html>`
    const started = performance.now()
    for (let i = 0; i < 20; i++) classify(exchange(403, { server: 'nginx' }, body))
    expect(performance.now() - started).toBeLessThan(2000)
  })
})

describe('gatehouse responses', () => {
  it('reports the layer and rule from Gatehouse problem+json', () => {
    const [top] = classify(exchange(403, { 'Content-Type': 'application/problem+json', 'Gatehouse-Decision': 'subscription;rule=subscription.unapproved', 'X-Request-Id': '01JD' },
      JSON.stringify({ type: '/problems/subscription/unapproved', title: 'Subscription not approved', status: 403, layer: 'subscription', rule: 'subscription.unapproved', requestId: '01JD', remedy: 'Ask an admin to approve the subscription.' })))
    expect(top).toMatchObject({ producer: 'gatehouse', layer: 'authz' })
    expect(top.cause).toContain('subscription.unapproved')
    expect(top.remedies[0]).toBe('Ask an admin to approve the subscription.')
    expect(top.remedies.join(' ')).toContain('gatehouse why 01JD')
  })

  it('reads the decision header alone when the body says nothing', () => {
    const [top] = classify(exchange(403, { 'gatehouse-decision': 'waf;rule=waf.sqli' }))
    expect(top).toMatchObject({ producer: 'gatehouse', layer: 'waf' })
    expect(top.cause).toContain('waf.sqli')
  })

  it('looks past Gatehouse when it only relayed the upstream answer', () => {
    const [top] = classify(exchange(403, { 'Gatehouse-Decision': 'upstream', 'x-powered-by': 'Express' }, 'ForbiddenError: invalid csrf token'))
    expect(top).toMatchObject({ producer: 'express', layer: 'csrf' })
    expect(top.evidence.join(' ')).toContain('relayed by Gatehouse')
  })
})

describe('fingerprint catalog', () => {
  it('covers at least 60 distinct producers with lowercase slugs', () => {
    const producers = new Set(fingerprints.map((f) => f.producer))
    expect(producers.size).toBeGreaterThanOrEqual(60)
    for (const producer of producers) expect(producer).toMatch(/^[a-z0-9][a-z0-9-]*$/)
  })

  it('has unique ids, valid layers, remedies and positive weights', () => {
    const ids = fingerprints.map((f) => f.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const f of fingerprints) {
      expect(f.id.startsWith(`${f.producer}.`), f.id).toBe(true)
      expect(layers).toContain(f.layer)
      expect(f.remedies.length, f.id).toBeGreaterThan(0)
      expect(f.cause.length, f.id).toBeGreaterThan(10)
      for (const m of f.match) expect(m.weight, f.id).toBeGreaterThan(0)
    }
  })
})

describe('renderDiagnoses', () => {
  const diagnoses: Diagnosis[] = [
    { producer: 'cloudflare', layer: 'waf', cause: 'A firewall rule blocked it.', confidence: 0.92, evidence: ['header cf-ray', 'body: error code: 1020'], remedies: ['Check Security > Events.', 'Add a skip rule.'] },
    { producer: 'unknown', layer: 'unknown', cause: 'If none of the above fits.', confidence: 0.08, evidence: ['status 403'], remedies: ['a', 'b', 'c', 'd', 'e'] },
  ]

  it('prints a short numbered block per diagnosis', () => {
    const text = renderDiagnoses(diagnoses, { color: false })
    expect(text).toContain('1. cloudflare · waf  (92%)\n   cause: A firewall rule blocked it.\n   evidence: header cf-ray, body: error code: 1020\n   fix: Check Security > Events.\n        Add a skip rule.')
    expect(text).toContain('2. unknown · unknown  (8%)')
    expect(text).toContain('(+2 more with --json)')
    expect(text).not.toContain('\u001b[')
  })

  it('adds colour only when asked', () => {
    expect(renderDiagnoses(diagnoses, { color: true })).toContain('\u001b[')
  })

  it('renders real classifier output', () => {
    const text = renderDiagnoses(classify(exchange(401, { server: 'kong/3.6.1', 'x-kong-response-latency': '1' }, '{"message":"No API key found in request"}')), { color: false })
    expect(text.startsWith('1. kong · authn  (')).toBe(true)
    expect(text).toContain('evidence: header x-kong-response-latency')
  })
})
