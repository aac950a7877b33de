import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { detectFormat } from '../detect.js'
import { logFormats, type LogFormat, type LogRecord, type RecordParser } from '../types.js'
import { maxMessageChars, maxPathChars, maxTokenChars } from './fields.js'
import { createParser, LogFormatError } from './index.js'
import { maxRulesPerRecord } from './modsec-message.js'
import { compileNginxLogFormat, nginxCombinedFormat } from './nginx-log-format.js'

const fixtureDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures')
// Real lines of every format, as seeds for mutation: a fuzzer far from the grammar only
// ever exercises the "skip" branch.
const fixtureLines = readdirSync(fixtureDir).flatMap((name) =>
  readFileSync(join(fixtureDir, name), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => l.slice(0, 4000)),
)

const noise = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('"', '\\"', '[', ']', '{', '}', ' ', '\t', '-', '|', ',', ':', '?', '%', '\\x16', '\u0000', '\uFFFD', 'é',
    ' 403 ', ' 999999999999 ', ' -1 ', ' NaN ', '[id "942100"]', '[msg "', 'AH01630: ', '--abc-H--', '#Fields: ', '{"a":', 'null'),
)
const mutated = fc.tuple(fc.constantFrom(...fixtureLines), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 }), noise), { maxLength: 6 }))
  .map(([line, edits]) => {
    let out = line
    for (const [at, cut, text] of edits) {
      const i = at % (out.length + 1)
      out = out.slice(0, i) + text + out.slice(i + cut)
    }
    return out
  })
const anyLine = fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: fc.string({ maxLength: 200 }) })
const format = fc.constantFrom<LogFormat>(...logFormats)

/** Bounds every parser promises on each record, whatever the input (LogRecord's own doc). */
function expectBounded(record: LogRecord | 'skip' | undefined): void {
  if (record === undefined || record === 'skip') return
  if (record.path !== null) expect(record.path.length).toBeLessThanOrEqual(maxPathChars)
  for (const token of [record.client, record.forwardedClient, record.method, record.substatus, record.win32Status]) {
    if (token !== null) expect(token.length).toBeLessThanOrEqual(maxTokenChars)
  }
  if (record.message !== null) expect(record.message.length).toBeLessThanOrEqual(maxMessageChars + 1)
  expect(record.rules.length).toBeLessThanOrEqual(maxRulesPerRecord)
  for (const rule of record.rules) expect(rule.length).toBeLessThanOrEqual(maxTokenChars)
  if (record.cause !== null) expect(record.cause.length).toBeLessThanOrEqual(maxTokenChars + 32)
  if (record.status !== null) expect(Number.isInteger(record.status)).toBe(true)
  if (record.minute !== null) expect(record.minute).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z?$/)
}

function feedAll(parser: RecordParser, lines: readonly string[]): void {
  for (const line of lines) expectBounded(parser.feed(line))
  expectBounded(parser.end())
  parser.hasForwardedField()
}

describe('log parsers on hostile lines', () => {
  it('never throw and keep every record bounded, for every format', () => {
    fc.assert(fc.property(format, fc.array(anyLine, { maxLength: 20 }), (fmt, lines) => {
      feedAll(createParser(fmt), lines)
    }), { numRuns: 400 })
  })

  it('keep records bounded on very long lines and stay linear in their length', () => {
    const long = (unit: string) => unit.repeat(Math.ceil(200_000 / unit.length))
    const hostile = [
      long('"'), long('['), long(' '), long('\\"'), long('a'), long('[id "1"] '), long('{"a":'), long('%'),
      `1.2.3.4 - - [19/Mar/2024:09:42:10 +0000] "GET /${long('x')} HTTP/1.1" 403 1 "-" "${long('u')}"`,
      `[Tue Mar 19 09:42:10 2024] [error] [client ${long('9')}] ${long('AH01630: ')}`,
    ]
    for (const fmt of logFormats) {
      const started = performance.now()
      feedAll(createParser(fmt), hostile)
      // 2 MB of input; a backtracking regex would take minutes, a linear scan milliseconds.
      expect(performance.now() - started).toBeLessThan(3000)
    }
  })

  it('format detection never throws on arbitrary files', () => {
    fc.assert(fc.property(fc.array(anyLine, { maxLength: 60 }), (lines) => {
      const detection = detectFormat(lines)
      if (detection.format !== null) expect(logFormats).toContain(detection.format)
    }), { numRuns: 300 })
  })
})

describe('nginx log_format compiler on hostile formats', () => {
  const formatPiece = fc.constantFrom('$remote_addr', '$status', '$request', '$time_local', '$time_iso8601', '$http_x_forwarded_for',
    '$request_uri', '$request_method', '$body_bytes_sent', '$', '${status}', '${', '"', '[', ']', ' ', ' - ', '|', '$unknown_var', '\\"')
  const logFormat = fc.array(fc.oneof(formatPiece, fc.string({ maxLength: 4 })), { maxLength: 16 }).map((p) => p.join(''))

  it('either compiles or throws LogFormatError, and the compiled parser never throws', () => {
    fc.assert(fc.property(logFormat, fc.array(anyLine, { maxLength: 10 }), (spec, lines) => {
      let parser: RecordParser
      try {
        parser = compileNginxLogFormat(spec)
      } catch (error) {
        expect(error).toBeInstanceOf(LogFormatError)
        return
      }
      feedAll(parser, lines)
    }), { numRuns: 300 })
  })

  it('parses mutated lines of the combined format without throwing', () => {
    const parser = compileNginxLogFormat(nginxCombinedFormat)
    fc.assert(fc.property(anyLine, (line) => {
      expectBounded(parser.feed(line))
    }), { numRuns: 500 })
  })
})
