import { describe, expect, it } from 'vitest'
import { evaluateApache } from './apache/evaluate.js'
import { parseApacheText } from './apache/parse.js'
import { findRiskyApacheRules } from './apache/risky.js'
import { evaluateIis } from './iis/evaluate.js'
import { parseIisText } from './iis/parse.js'
import { findRiskyIisRules } from './iis/risky.js'
import { evaluateNginx } from './nginx/evaluate.js'
import { parseNginxText } from './nginx/parse.js'
import { findRiskyNginxRules } from './nginx/risky.js'
import { createLintRequest } from './request.js'

/** Deterministic pseudo-random generator, so a failure is reproducible. */
function createRandom(seed: number) {
  let state = seed >>> 0
  return (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state % n
  }
}

const pieces = {
  nginx: ['server', 'location', 'http', '{', '}', ';', ' ', '\n', '"', "'", '\\', '#', 'allow', 'deny', 'all', '10.0.0.0/8', '~', '~*', '=', '^~', '/a/', '\\.php$', 'if', '($request_method', '=', 'POST)', 'return', '403', 'limit_except', 'GET', 'auth_basic', 'satisfy', 'any', 'map', 'geo', '$x', '${y}', 'include', 'rewrite', '^/(.*)$', 'last', '(', ')', '+', '*'],
  apache: ['<Directory', '</Directory>', '<Files', '</Files>', '<RequireAll>', '</RequireAll>', '<Limit GET>', '</Limit>', '>', '"', '\\', '\n', ' ', 'Require', 'all', 'denied', 'granted', 'ip', 'not', '10.0.0.0/8', 'Order', 'Allow,Deny', 'Deny from', 'Allow from', 'all', 'RewriteEngine On', 'RewriteCond', '%{REQUEST_METHOD}', '^POST', '[NC,OR]', 'RewriteRule', '.*', '-', '[F]', 'Satisfy Any', '#'],
  iis: ['<configuration>', '</configuration>', '<system.webServer>', '</system.webServer>', '<security>', '</security>', '<requestFiltering>', '</requestFiltering>', '<verbs allowUnlisted="false">', '</verbs>', '<add verb="GET" allowed="true"/>', '<location path="a">', '</location>', '<ipSecurity allowUnlisted="false">', '</ipSecurity>', '<add ipAddress="10.0.0.0" subnetMask="255.0.0.0" allowed="true"/>', '<!--', '-->', '<', '>', '"', '=', '&amp;', '&#x41;', '<![CDATA[', ']]>', '\n', ' '],
}

function randomDoc(random: (n: number) => number, parts: string[]): string {
  let out = ''
  const n = 5 + random(80)
  for (let i = 0; i < n; i++) out += parts[random(parts.length)] + (random(3) === 0 ? ' ' : '')
  return out
}

describe('parsers and evaluators on random input', () => {
  const requests = [createLintRequest({}), createLintRequest({ method: 'POST', path: '/a/x.php?debug=1', ip: '10.1.2.3', headers: { 'content-length': '5' } })]
  it.each([['nginx'], ['apache'], ['iis']] as const)('%s: never throws and locates every finding', (format) => {
    const random = createRandom(format.length * 7919)
    for (let i = 0; i < 120; i++) {
      const text = randomDoc(random, pieces[format])
      const findings = []
      if (format === 'nginx') {
        const config = parseNginxText(text, 'f.conf')
        findings.push(...config.findings, ...findRiskyNginxRules(config))
        for (const r of requests) findings.push(...evaluateNginx(config, r).findings)
      } else if (format === 'apache') {
        const config = parseApacheText(text, '.htaccess', i % 2 === 0)
        findings.push(...config.findings, ...findRiskyApacheRules(config))
        for (const r of requests) findings.push(...evaluateApache(config, r).findings)
      } else {
        const config = parseIisText(text, 'web.config')
        findings.push(...config.findings, ...findRiskyIisRules(config))
        for (const r of requests) findings.push(...evaluateIis(config, r).findings)
      }
      for (const f of findings) {
        expect(f.line).toBeGreaterThanOrEqual(0)
        expect(f.col).toBeGreaterThanOrEqual(0)
        expect(f.rule).toMatch(/^(nginx|apache|iis)\.[a-z0-9-]+$/)
      }
    }
  })
})
