import { describe, expect, it } from 'vitest'
import { charSetOf, plainAlphabet, plainVerdictOf, regexCanMatchOver, regexGateOver } from './alphabet.js'
import { attackPayloads, protocolPayloads } from './corpus/attacks.js'
import { developerValues, everydayValues, ordinaryValues, trickyValues } from './corpus/benign.js'
import { freshAttacks, fuzzListAttacks, holdoutAttacks, holdoutBenign } from './corpus/holdout.js'
import { handleFor, quietHandleFor, routerFor } from './engine.js'
import { addressOf, quietAddressOf, quietLocations } from './inputs.js'
import { signatures } from './ruleset/index.js'

const prose = charSetOf("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,'!?-")

describe('regexCanMatchOver', () => {
  it('rules a regex out only when every way to match needs a character outside the alphabet', () => {
    expect(regexCanMatchOver(String.raw`<\s*script\b`, prose)).toBe(false)
    expect(regexCanMatchOver(String.raw`\bunion\s+select\b`, prose)).toBe(true)
    expect(regexCanMatchOver(String.raw`[;|]\s*id|\bsleep\s*\(`, prose)).toBe(false)
    expect(regexCanMatchOver(String.raw`[;|]\s*id|\bwaitfor\s+delay\b`, prose)).toBe(true)
    // Optional parts and negated classes.
    expect(regexCanMatchOver(String.raw`a(?:<b)?c`, prose)).toBe(true)
    expect(regexCanMatchOver(String.raw`[^a-z0-9 .,'!?\-A-Z]`, prose)).toBe(false)
    expect(regexCanMatchOver(String.raw`x{2,}[\x27]`, prose)).toBe(true)
  })

  it('answers true for syntax it does not know', () => {
    expect(regexCanMatchOver(String.raw`\p{Lu}<`, prose)).toBe(true)
    expect(regexCanMatchOver(String.raw`[[:alpha:]]<`, prose)).toBe(true)
  })
})

describe('regexGateOver', () => {
  it('finds the literals every match holds, spaces removed', () => {
    const gate = regexGateOver(String.raw`\bunion\s+(?:all\s+)?select\b`, plainAlphabet)
    expect(gate).toContainEqual(expect.arrayContaining(['unionselect', 'unionallselect']))
  })

  it('keeps one required set per alternative pairing, and nothing for an optional part alone', () => {
    expect(regexGateOver('(?:;|&&)(?:cat|id)', plainAlphabet)).toContainEqual(expect.arrayContaining([';cat', ';id', '&&cat', '&&id']))
    expect(regexGateOver('a?', plainAlphabet)).toEqual([])
    expect(regexGateOver('x*|y', plainAlphabet)).toEqual([])
  })
})

describe('plainVerdictOf', () => {
  it('never puts libinjection SQL behind a gate, and XSS only behind < or =', () => {
    for (const s of signatures) {
      if (s.match.op === 'is_sqli') expect(plainVerdictOf(s).kind).toBe('always')
      if (s.match.op === 'is_xss') expect(plainVerdictOf(s)).toEqual({ kind: 'gated', gate: [['<', '=']] })
    }
  })
})

describe('PlainRouter', () => {
  const router = routerFor(1)
  it('sends everyday prose to the quiet address', () => {
    for (const v of ['12 Select Court', 'Handle with care & pack well', "I'll update my order and select a new size if needed. Thanks!", 'Delivery between 9 and 5 on weekdays.']) {
      expect(router.route(v), v).toBe('quiet')
    }
  })

  it('keeps anything a transform could rewrite out of the plain alphabet', () => {
    for (const v of ['50%', 'a\\b', 'café', 'tab\there', 'two\nlines', 'Tom &amp; Jerry', 'a &#60; b', 'x /* y', 'a <!-- b']) expect(router.route(v), v).toBe('other')
  })

  it('opens a gate when the literals are there, whatever the spacing or case', () => {
    expect(router.route('1 UNION   SELECT password')).toBe('plain')
    expect(router.route('1+union+select+password')).toBe('plain')
    expect(router.route('x; cat passwd')).toBe('plain')
    expect(router.route('a=b')).toBe('plain')
  })
})

/** Rule ids libddwaf reports for one value at one address. */
function matchedIds(handle: ReturnType<typeof handleFor>, address: string, value: string): string[] {
  const context = handle.createContext()
  try {
    const result = context.run({ persistent: { [address]: [{ f: value }] } }, 10_000_000) as { events?: { rule?: { id?: string } }[] }
    return (result.events ?? []).map((e) => e.rule?.id ?? '').sort()
  } finally {
    context.dispose()
  }
}

/** Deterministic variants that turn encoded and marked-up attacks into plain text, to stress the gates. */
function plainVariants(value: string): string[] {
  const out = new Set([value])
  try {
    out.add(decodeURIComponent(value.replace(/\+/g, ' ')))
  } catch {
    // not decodable: the value as written is enough
  }
  for (const v of [...out]) {
    out.add(v.replace(/[^\x20-\x7e]|[%\\]/g, ''))
    out.add(v.replace(/[^\x20-\x7e]|[%\\<=]/g, ' '))
    out.add(v.replace(/\s+/g, '  ').toUpperCase())
    out.add(v.replace(/[^\x20-\x7e]|[%\\]/g, '').replace(/ /g, '+'))
  }
  return [...out]
}

/** Deterministic recombinations of attack fragments: near misses that open some gates and not others. */
function fragments(payloads: readonly string[], count: number): string[] {
  const tokens = [...new Set(payloads.flatMap((p) => p.replace(/[^\x20-\x7e]|[%\\]/g, ' ').split(' ')).filter((t) => t.length > 0))]
  const glue = [' ', '', '+', '  ', ' ; ', ' & ', "'", ' -- ']
  let seed = 42
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    let v = tokens[next(tokens.length)]
    for (let k = next(5); k > 0; k--) v += glue[next(glue.length)] + tokens[next(tokens.length)]
    out.push(v)
  }
  return out
}

describe('the quiet handle', () => {
  const attacks = [...attackPayloads, ...holdoutAttacks, ...freshAttacks, ...fuzzListAttacks, ...protocolPayloads].map((a) => a.payload)
  const values = [
    ...attacks,
    ...[...trickyValues, ...holdoutBenign, ...everydayValues, ...developerValues, ...ordinaryValues].map((v) => v.value),
  ].flatMap(plainVariants).concat(fragments(attacks, 4000))

  it.each([1, 2])('finds exactly what the full handle finds in every value routed to it (paranoia %i)', (paranoia) => {
    const full = handleFor(paranoia)
    const quiet = quietHandleFor(paranoia)
    const router = routerFor(paranoia)
    let compared = 0
    let matched = 0
    for (const location of quietLocations) {
      for (const value of values) {
        if (router.route(value) !== 'quiet') continue
        compared++
        const expected = matchedIds(full, addressOf[location], value)
        if (expected.length > 0) matched++
        expect(matchedIds(quiet, quietAddressOf[location], value), `${location}: ${value}`).toEqual(expected)
      }
    }
    expect(compared).toBeGreaterThan(4000)
    // Plain attacks that only the ungated signatures catch: matches are compared too, not just silence.
    expect(matched).toBeGreaterThan(200)
  })
})
