import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { lintConfig } from '../lint.js'
import { createLintRequest } from '../request.js'
import type { LintRequest } from '../types.js'
import { evaluateIis } from './evaluate.js'
import { parseIisText } from './parse.js'
import { findRiskyIisRules } from './risky.js'
import { parseXml } from './xml.js'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
type RequestInput = Parameters<typeof createLintRequest>[0]

const wrap = (inner: string) => `<?xml version="1.0"?>\n<configuration>\n${inner}\n</configuration>\n`
const run = (xml: string, req: LintRequest) => evaluateIis(parseIisText(xml, 'web.config'), req)

describe('web.config XML scanner', () => {
  it('gives elements their line and column and decodes attribute entities', () => {
    const { root, findings } = parseXml('<?xml version="1.0"?>\n<!-- c -->\n<configuration>\n  <a x="1 &amp; 2"\n     y=\'q\'/>\n  <![CDATA[ <not> ]]>\n</configuration>', 'w.config')
    expect(findings).toEqual([])
    expect(root).toMatchObject({ name: 'configuration', line: 3, col: 1 })
    expect(root?.children[0]).toMatchObject({ name: 'a', attrs: { x: '1 & 2', y: 'q' }, line: 4, col: 3 })
  })

  it('reports mismatched and unclosed elements with positions', () => {
    const { findings } = parseXml('<configuration>\n  <a>\n  </b>\n', 'w.config')
    expect(findings.map((f) => `${f.line}:${f.col} ${f.message}`)).toEqual(['3:3 </b> closes <a> opened at line 2', '1:1 <configuration> is never closed', '2:3 <a> is never closed'])
  })

  it('never expands DTD entities', () => {
    const { root } = parseXml('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>\n<configuration><b v="&a;"/></configuration>', 'w.config')
    expect(root?.children[0].attrs.v).toBe('&a;')
  })
})

describe('IIS request filtering', () => {
  const rf = (inner: string) => wrap(`<system.webServer><security><requestFiltering>${inner}</requestFiltering></security></system.webServer>`)
  it('verbs: allowUnlisted="false" refuses unlisted verbs with 404.6', () => {
    const xml = rf('<verbs allowUnlisted="false"><add verb="GET" allowed="true"/><add verb="POST" allowed="true"/></verbs>')
    expect(run(xml, createLintRequest({ method: 'PUT' })).verdict).toMatchObject({ denied: true, status: 404, subStatus: 6, line: 3 })
    expect(run(xml, createLintRequest({ method: 'POST' })).verdict.denied).toBe(false)
  })
  it('verbs: a single verb with allowed="false"', () => {
    const xml = rf('<verbs><add verb="TRACE" allowed="false"/></verbs>')
    expect(run(xml, createLintRequest({ method: 'TRACE' })).verdict).toMatchObject({ status: 404, subStatus: 6 })
    expect(run(xml, createLintRequest({ method: 'DELETE' })).verdict.denied).toBe(false)
  })
  it('hiddenSegments match whole segments, case-insensitively (404.8)', () => {
    const xml = rf('<hiddenSegments><add segment="bin"/></hiddenSegments>')
    expect(run(xml, createLintRequest({ path: '/BIN/app.dll' })).verdict).toMatchObject({ status: 404, subStatus: 8 })
    expect(run(xml, createLintRequest({ path: '/binary/app.dll' })).verdict.denied).toBe(false)
  })
  it('fileExtensions and denyUrlSequences (404.7, 404.5)', () => {
    const xml = rf('<fileExtensions allowUnlisted="false"><add fileExtension=".html" allowed="true"/></fileExtensions><denyUrlSequences><add sequence="~"/></denyUrlSequences>')
    expect(run(xml, createLintRequest({ path: '/a.php' })).verdict).toMatchObject({ status: 404, subStatus: 7 })
    expect(run(xml, createLintRequest({ path: '/a.html' })).verdict.denied).toBe(false)
    expect(run(xml, createLintRequest({ path: '/~admin/a.html' })).verdict).toMatchObject({ status: 404, subStatus: 5 })
  })
  it('maxAllowedContentLength gives 404.13, not 413', () => {
    const xml = rf('<requestLimits maxAllowedContentLength="1000"/>')
    const v = run(xml, createLintRequest({ method: 'POST', headers: { 'content-length': '1001' } })).verdict
    expect(v).toMatchObject({ status: 404, subStatus: 13 })
    expect(v.why).toContain('404.13')
    expect(run(xml, createLintRequest({ method: 'POST', headers: { 'content-length': '1000' } })).verdict.denied).toBe(false)
  })
  it('<location path> scopes rules and <clear/> resets inherited collections', () => {
    const xml = wrap(`<system.webServer><security><requestFiltering><hiddenSegments><add segment="data"/></hiddenSegments></requestFiltering></security></system.webServer>
<location path="public"><system.webServer><security><requestFiltering><hiddenSegments><clear/></hiddenSegments></requestFiltering></security></system.webServer></location>`)
    expect(run(xml, createLintRequest({ path: '/data/x' })).verdict.subStatus).toBe(8)
    expect(run(xml, createLintRequest({ path: '/public/data/x' })).verdict.denied).toBe(false)
  })
})

describe('IIS ipSecurity, access and authorization', () => {
  it('ipSecurity: allowUnlisted="false" with an allowed subnet (403.503)', () => {
    const xml = wrap('<system.webServer><security><ipSecurity allowUnlisted="false"><add ipAddress="10.0.0.0" subnetMask="255.0.0.0" allowed="true"/></ipSecurity></security></system.webServer>')
    expect(run(xml, createLintRequest({ ip: '10.2.3.4' })).verdict.denied).toBe(false)
    const v = run(xml, createLintRequest({ ip: '192.0.2.4' })).verdict
    expect(v).toMatchObject({ denied: true, status: 403, subStatus: 503, line: 3 })
    expect(v.why).toContain('403.6')
  })
  it('ipSecurity: denyAction="NotFound" changes the status', () => {
    const xml = wrap('<system.webServer><security><ipSecurity denyAction="NotFound"><add ipAddress="192.0.2.4" allowed="false"/></ipSecurity></security></system.webServer>')
    expect(run(xml, createLintRequest({ ip: '192.0.2.4' })).verdict).toMatchObject({ status: 404, subStatus: 503 })
  })
  it('access sslFlags="Ssl" refuses plain HTTP with 403.4', () => {
    const xml = wrap('<system.webServer><security><access sslFlags="Ssl, SslNegotiateCert"/></security></system.webServer>')
    expect(run(xml, createLintRequest({})).verdict).toMatchObject({ status: 403, subStatus: 4 })
    expect(run(xml, createLintRequest({ scheme: 'https' })).verdict.denied).toBe(false)
  })
  it('ASP.NET <deny users="?"> gives anonymous callers 401.2 and lets signed-in users through', () => {
    const xml = wrap('<system.web><authorization><deny users="?"/><allow users="*"/></authorization></system.web>')
    expect(run(xml, createLintRequest({})).verdict).toMatchObject({ status: 401, subStatus: 2, line: 3 })
    expect(run(xml, createLintRequest({ headers: { authorization: 'Negotiate abc' } })).verdict.denied).toBe(false)
  })
  it('ASP.NET rules: first match wins; role rules are not guessed', () => {
    const xml = wrap('<system.web><authorization><allow roles="Admins"/><deny users="*"/></authorization></system.web>')
    const v = run(xml, createLintRequest({ headers: { authorization: 'Negotiate abc' } })).verdict
    expect(v).toMatchObject({ denied: true, status: 403 })
    expect(v.why).toContain('unless the user matches the earlier <allow roles="Admins"/>')
  })
  it('IIS URL Authorization: deny rules win over allow rules regardless of order', () => {
    const xml = wrap('<system.webServer><security><authorization><add accessType="Allow" users="*"/><add accessType="Deny" users="?"/></authorization></security></system.webServer>')
    expect(run(xml, createLintRequest({})).verdict).toMatchObject({ status: 401, subStatus: 2 })
    expect(run(xml, createLintRequest({ headers: { authorization: 'Basic dTpw' } })).verdict.denied).toBe(false)
  })
  it('anonymousAuthentication enabled="false" needs credentials', () => {
    const xml = wrap('<system.webServer><security><authentication><anonymousAuthentication enabled="false"/></authentication></security></system.webServer>')
    expect(run(xml, createLintRequest({})).verdict).toMatchObject({ status: 401, subStatus: 2 })
  })
})

describe('IIS fixture', () => {
  const lint = (r: RequestInput) => lintConfig('iis/web.config', { request: createLintRequest(r), cwd: fixtures }).verdict
  it.each([
    [{ method: 'PUT', path: '/api/items/1' }, 404, 6, 6],
    [{ path: '/App_Data/site.mdf' }, 404, 8, 12],
    [{ path: '/web.config' }, 404, 7, 16],
    [{ path: '/img/../web.config' }, 404, 5, 20],
    [{ method: 'POST', path: '/upload', headers: { 'content-length': '2000000' } }, 404, 13, 23],
    [{ path: '/', ip: '198.51.100.9' }, 403, 503, 26],
    [{ path: '/x', headers: { 'user-agent': 'sqlmap/1.7' } }, 403, undefined, 36],
    [{ path: '/admin/', ip: '192.0.2.1', scheme: 'https' as const }, 403, 503, 50],
    [{ path: '/admin/', ip: '10.0.0.8' }, 403, 4, 53],
    [{ path: '/reports/q1' }, 401, 2, 62],
    [{ path: '/intranet/' }, 401, 2, 74],
  ])('%j is denied %i.%s at line %i', (req, status, sub, line) => {
    expect(lint(req)).toMatchObject({ denied: true, status, subStatus: sub, line, file: 'iis/web.config' })
  })
  it('allows what nothing refuses', () => {
    expect(lint({ path: '/index.html' })?.denied).toBe(false)
    expect(lint({ path: '/admin/', ip: '10.0.0.8', scheme: 'https' })?.denied).toBe(false)
  })
  it('lists risky rules with exact lines', () => {
    const report = lintConfig('iis/web.config', { cwd: fixtures })
    expect(report.findings.map((f) => `${f.line}:${f.col} ${f.severity} ${f.rule}`)).toEqual([
      '6:9 warning iis.verbs-allow-unlisted-false',
      '50:9 warning iis.ip-allow-unlisted-false',
      '53:9 warning iis.ssl-required',
    ])
    expect(report.findings[0].message).toContain('PUT, PATCH, DELETE, OPTIONS get 404.6')
  })
  it('flags unreachable and deny-everyone ASP.NET rules', () => {
    const config = parseIisText(wrap('<system.web>\n<authorization>\n<deny users="*"/>\n<allow users="admin"/>\n</authorization>\n</system.web>'), 'web.config')
    expect(findRiskyIisRules(config).map((f) => `${f.line} ${f.severity} ${f.rule}`)).toEqual(['6 error iis.authorization-unreachable', '5 error iis.deny-everyone'])
  })
})

describe('IIS directory listing note', () => {
  it('warns about 403.14 for a directory URL unless directoryBrowse is enabled', () => {
    expect(run(wrap('<system.webServer/>'), createLintRequest({ path: '/files/' })).findings).toEqual([expect.objectContaining({ line: 2, rule: 'iis.directory-listing' })])
    expect(run(wrap('<system.webServer><directoryBrowse enabled="true"/></system.webServer>'), createLintRequest({ path: '/files/' })).findings).toEqual([])
  })
})

describe('IIS filtering rules and proxy mode', () => {
  it('filteringRules deny strings in the query string or a header (404.19)', () => {
    const xml = wrap(`<system.webServer><security><requestFiltering><filteringRules>
<filteringRule name="SQLi" scanUrl="false" scanQueryString="true">
<scanHeaders><add requestHeader="User-Agent"/></scanHeaders>
<denyStrings><add string="union select"/><add string="sqlmap"/></denyStrings>
</filteringRule></filteringRules></requestFiltering></security></system.webServer>`)
    expect(run(xml, createLintRequest({ path: '/q?x=1%20UNION%20SELECT%202' })).verdict).toMatchObject({ status: 404, subStatus: 19, line: 6 })
    expect(run(xml, createLintRequest({ path: '/q', headers: { 'user-agent': 'sqlmap/1.7' } })).verdict).toMatchObject({ subStatus: 19, line: 6 })
    expect(run(xml, createLintRequest({ path: '/union select/' })).verdict.denied).toBe(false)
  })
  it('enableProxyMode also checks X-Forwarded-For', () => {
    const xml = wrap('<system.webServer><security><ipSecurity enableProxyMode="true"><add ipAddress="198.51.100.7" allowed="false"/></ipSecurity></security></system.webServer>')
    const v = run(xml, createLintRequest({ ip: '10.0.0.1', headers: { 'x-forwarded-for': '198.51.100.7' } })).verdict
    expect(v).toMatchObject({ denied: true, status: 403, subStatus: 503 })
    expect(v.why).toContain('enableProxyMode')
  })
})
