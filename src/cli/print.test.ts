import { describe, expect, it } from 'vitest'
import { createDenial, type Denial } from '../core/denial.js'
import { createPalette, describeTrail, errorsDocAnchor, formatMs, formatTime, renderTable, renderTrail, sanitizeText } from './print.js'

describe('sanitizeText', () => {
  it('escapes control characters and bidi overrides that could rewrite a terminal', () => {
    expect(sanitizeText('/a\u001b[31mred\r\n\u202egnp.exe')).toBe('/a\\x1b[31mred\\x0d\\x0a\\u{202e}gnp.exe')
  })

  it('cuts long text with an ellipsis', () => {
    expect(sanitizeText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`)
  })
})

describe('formatting', () => {
  it('prints UTC times to the second and durations with useful precision', () => {
    expect(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05Z')
    expect([0, 0.043, 3.21, 42.6, null].map(formatMs)).toEqual(['0ms', '0.04ms', '3.2ms', '43ms', '-'])
  })

  it('aligns table columns, colouring after padding', () => {
    const palette = createPalette(true)
    const out = renderTable([['a', '1', 'x'], ['bbb', '22', 'y']], { align: ['left', 'right', 'left'], paint: (c, _r, col) => (col === 0 ? palette.red(c) : c) })
    expect(out).toBe('\u001b[31ma  \u001b[39m   1  x\n\u001b[31mbbb\u001b[39m  22  y\n')
    expect(createPalette(false).red('plain')).toBe('plain')
  })

  it('turns a rule id into its docs/errors.md anchor', () => {
    expect(errorsDocAnchor('authn.jwt.expired')).toBe('docs/errors.md#authn-jwt-expired')
  })
})

describe('describeTrail', () => {
  it('marks the layers after an answered preflight as not reached, with no fix', () => {
    const report = describeTrail({ trail: [{ layer: 'request-id', result: 'allow', ms: 0 }, { layer: 'ip', result: 'allow', ms: 0.1 }, { layer: 'cors', result: 'respond', ms: 0.1 }] })
    expect(report.rows.map((r) => `${r.layer}:${r.verdict}`)).toEqual([
      'request-id:pass', 'ip:pass', 'cors:respond', 'body:not reached', 'waf:not reached', 'authn:not reached', 'subscription:not reached',
      'authz:not reached', 'csrf:not reached', 'rate-limit:not reached', 'transform:not reached', 'upstream:not reached',
    ])
    expect(report.fix).toBeUndefined()
  })

  it('renders a live Denial from a dry run, falling back to its remediation', () => {
    const denial: Denial = createDenial(
      { id: 'csrf.origin-mismatch', status: 403, title: 'Cross-site request refused', meaning: 'm', remedy: 'Send the request from an allowed origin.' },
      { message: "Origin 'https://evil.example' is not allowed." },
    )
    const report = describeTrail({ trail: [{ layer: 'csrf', result: 'deny', rule: denial.rule, ms: 0.1 }], denial })
    expect(report).toMatchObject({ rule: 'csrf.origin-mismatch', fix: 'Send the request from an allowed origin.', see: 'docs/errors.md#csrf-origin-mismatch' })
    expect(report.rows.map((r) => r.verdict)).toEqual(['DENY', 'not reached', 'not reached', 'not reached'])
  })

  it('takes a live Denial as well as a stored one, and keeps detect and skip rows', () => {
    const text = renderTrail({
      trail: [{ layer: 'waf', result: 'detect', rule: 'waf.sql-injection', ms: 0.2 }, { layer: 'authn', result: 'skip', ms: 0 }, { layer: 'rate-limit', result: 'deny', rule: 'rate-limit.exceeded', ms: 0.1 }],
      denial: { layer: 'rate-limit', rule: 'rate-limit.exceeded', message: 'Too many requests.', remediation: 'Raise rateLimit.limit on the route.', publicRemedy: 'Slow down.' },
    }, { color: false })
    expect(text).toMatch(/waf +detect +0\.20ms +waf\.sql-injection/)
    expect(text).toMatch(/authn +skip/)
    expect(text).toMatch(/rate-limit +DENY/)
    expect(text).toMatch(/transform +not reached\n +upstream +not reached\n\nwhy: Too many requests\.\nfix: Raise rateLimit\.limit on the route\.\nsee: docs\/errors\.md#rate-limit-exceeded\n$/)
  })
})
