import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { UsageError } from '../cli/args.js'
import { logsCommand } from '../cli/commands/logs.js'
import { createMemoryIo } from '../cli/io.js'
import { analyseFile } from './analyse.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const fixture = (name: string) => join(fixtures, name)
const temp = mkdtempSync(join(tmpdir(), 'gatehouse-logs-test-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

async function runJson(args: string[]) {
  const io = createMemoryIo()
  const code = await logsCommand.run([...args, '--json'], io)
  return { code, io, json: io.out === '' ? null : JSON.parse(io.out) }
}

describe('gatehouse logs --json', () => {
  it('prints one SPEC-shaped entry per file, for every format', async () => {
    const names = ['nginx-combined.log', 'apache-access.log', 'apache-error.log', 'nginx-error.log', 'iis-w3c.log', 'modsec-audit-native.log', 'modsec-audit.json', 'gatehouse.jsonl']
    const { code, json } = await runJson(names.map(fixture))
    expect(code).toBe(0)
    expect(json.files.map((f: { format: string }) => f.format)).toEqual(['nginx', 'apache', 'apache-error', 'nginx-error', 'iis', 'modsec-native', 'modsec-json', 'gatehouse'])
    for (const file of json.files) {
      expect(Object.keys(file)).toEqual(['file', 'format', 'lines', 'records', 'skipped', 'status', 'top403', 'spikes', 'clusters'])
      expect(Object.keys(file.status)).toEqual(['401', '403', '429'])
      expect(Object.keys(file.top403).slice(0, 5)).toEqual(['path', 'client', 'method', 'rule', 'substatus'])
      for (const list of Object.values(file.top403) as { value: string; count: number }[][]) {
        expect(list.length).toBeLessThanOrEqual(10)
        for (const entry of list) expect(Object.keys(entry)).toEqual(['value', 'count'])
      }
      for (const cluster of file.clusters) expect(Object.keys(cluster)).toEqual(['summary', 'count', 'explanation'])
    }
  })

  it('reports the nginx fixture: counts, UTC spikes, forwarded clients, clusters', async () => {
    const { json } = await runJson([fixture('nginx-combined.log')])
    const [file] = json.files
    expect(file).toMatchObject({ lines: 478, records: 477, skipped: 1, status: { '401': 1, '403': 75, '429': 1 } })
    expect(file.top403.path[0]).toEqual({ value: '/api/payments', count: 40 })
    expect(file.top403.forwardedClient[0]).toEqual({ value: '198.51.100.250', count: 40 })
    // Logged at 09:42 +0100.
    expect(file.spikes).toContainEqual({ minute: '2024-03-19T08:42Z', count: 40 })
    const summaries = file.clusters.map((c: { summary: string }) => c.summary)
    expect(summaries).toContain('scanner-like client 192.0.2.99: 403 on 20+ different paths')
    expect(summaries).toContain('403 on POST /api/payments')
  })

  it('reads IIS substatus, win32 status and the X-Forwarded-For field added mid-file', async () => {
    const { json } = await runJson([fixture('iis-w3c.log')])
    const [file] = json.files
    expect(file.top403.substatus).toEqual([{ value: '403.14', count: 2 }, { value: '403.503', count: 2 }, { value: '403.6', count: 1 }])
    expect(file.top403.forwardedClient).toEqual([{ value: '198.51.100.200', count: 2 }])
    expect(file.skipped).toBe(1)
  })

  it('ties ModSecurity rules to the denials in audit logs, native and JSON', async () => {
    const { json } = await runJson([fixture('modsec-audit-native.log'), fixture('modsec-audit.json')])
    const [native, jsonLog] = json.files
    expect(native.records).toBe(3)
    expect(native.status['403']).toBe(2)
    expect(native.top403.rule[0]).toEqual({ value: '949110', count: 2 })
    expect(jsonLog.top403.rule).toContainEqual({ value: '942100', count: 2 })
    expect(jsonLog.clusters[0].summary).toBe('ModSecurity rule 942100 (SQL injection): SQL Injection Attack Detected via libinjection')
  })

  it('parses a custom nginx log_format', async () => {
    const format = '$remote_addr | $time_iso8601 | $http_x_forwarded_for | "$request" $status $request_time "$http_user_agent"'
    const { code, json } = await runJson([fixture('nginx-custom.log'), '--log-format', format])
    expect(code).toBe(0)
    expect(json.files[0]).toMatchObject({ format: 'nginx', records: 4, skipped: 1, status: { '403': 2 } })
    expect(json.files[0].top403.forwardedClient).toEqual([{ value: '198.51.100.30', count: 2 }])
  })

  it('applies --log-format to access logs only, leaving other logs of the run to detection', async () => {
    const format = '$remote_addr | $time_iso8601 | $http_x_forwarded_for | "$request" $status $request_time "$http_user_agent"'
    const { code, json } = await runJson([fixture('nginx-custom.log'), fixture('nginx-error.log'), '--log-format', format])
    expect(code).toBe(0)
    expect(json.files.map((f: { format: string }) => f.format)).toEqual(['nginx', 'nginx-error'])
  })

  it('reads gzip files the same as plain ones', async () => {
    const gz = join(temp, 'access.log.gz')
    writeFileSync(gz, gzipSync(readFileSync(fixture('nginx-combined.log'))))
    const plain = (await runJson([fixture('nginx-combined.log')])).json.files[0]
    const zipped = (await runJson([gz])).json.files[0]
    expect({ ...zipped, file: '' }).toEqual({ ...plain, file: '' })
  })

  it('exits 2 naming an unreadable file, still reporting the readable ones', async () => {
    const { code, io, json } = await runJson([join(temp, 'missing.log'), fixture('apache-access.log')])
    expect(code).toBe(2)
    expect(io.err).toContain('missing.log: cannot read: no such file')
    expect(json.files).toHaveLength(1)
  })

  it('exits 2 when the format cannot be detected, and says how to fix it', async () => {
    const odd = join(temp, 'odd.log')
    writeFileSync(odd, 'hello\nworld\n')
    const { code, io } = await runJson([odd])
    expect(code).toBe(2)
    expect(io.err).toMatch(/odd\.log: cannot detect the log format: .*pass --format/)
  })

  it('exits 2 on a gzip file cut short', async () => {
    const bad = join(temp, 'cut.log.gz')
    writeFileSync(bad, gzipSync(readFileSync(fixture('nginx-combined.log'))).subarray(0, 400))
    const { code, io } = await runJson([bad])
    expect(code).toBe(2)
    expect(io.err).toContain('cut.log.gz: cannot read')
  })

  it('treats an empty log as read, with nothing in it', async () => {
    const empty = join(temp, 'empty.log')
    writeFileSync(empty, '')
    const { code, json } = await runJson([empty])
    expect(code).toBe(0)
    expect(json.files[0]).toMatchObject({ format: 'unknown', lines: 0, records: 0 })
  })

  it('exits 2 when a forced --format matches no line', async () => {
    const { code, io } = await runJson([fixture('apache-error.log'), '--format', 'iis'])
    expect(code).toBe(2)
    expect(io.err).toContain("apache-error.log: none of its 12 lines matches the 'iis' format; check --format")
  })

  it('honours --format over detection', async () => {
    const { json } = await runJson([fixture('apache-access.log'), '--format', 'nginx'])
    expect(json.files[0].format).toBe('nginx')
  })

  it('rejects bad usage', async () => {
    await expect(logsCommand.run([], createMemoryIo())).rejects.toThrow(UsageError)
    await expect(logsCommand.run(['x.log', '--format', 'syslog'], createMemoryIo())).rejects.toThrow(/unknown --format/)
    await expect(logsCommand.run(['x.log', '--log-format', '$a$b'], createMemoryIo())).rejects.toThrow(/--log-format/)
  })
})

describe('gatehouse logs (human output)', () => {
  it('prints format, counts, top lists, spikes and causes', async () => {
    const io = createMemoryIo()
    expect(await logsCommand.run([fixture('nginx-combined.log')], io)).toBe(0)
    expect(io.out).toContain('(nginx)')
    expect(io.out).toContain('478 lines, 477 records, 1 skipped')
    expect(io.out).toContain('403: 75   401: 1   429: 1')
    expect(io.out).toContain('top paths: /api/payments (40)')
    expect(io.out).toContain('spikes (403s per minute): 2024-03-19T08:20Z (26), 2024-03-19T08:42Z (40)')
    expect(io.out).toContain('40× 403 on POST /api/payments')
    expect(io.out).not.toContain('\u001b[')
  })

  it('uses colour only when the io says so', async () => {
    const io = { ...createMemoryIo(), color: true }
    let out = ''
    io.stdout = (text: string) => { out += text }
    expect(await logsCommand.run([fixture('apache-access.log')], io)).toBe(0)
    expect(out).toContain('\u001b[31m403: 4\u001b[39m')
  })
})

describe('analyseFile', () => {
  it('reads - from the given stdin stream', async () => {
    const stdin = Readable.from([Buffer.from('203.0.113.9 - - [19/Mar/2024:09:42:10 +0000] "GET /x HTTP/1.1" 403 1 "-" "curl"\n')])
    const report = await analyseFile('-', { stdin })
    expect(report).toMatchObject({ file: '-', format: 'nginx', records: 1, status: { '403': 1 } })
  })

  it('streams a 200k-line log with unique paths in bounded memory and counts it exactly', async () => {
    const big = join(temp, 'big.log')
    const lines: string[] = []
    for (let i = 0; i < 200_000; i++) {
      lines.push(`198.51.100.${i % 250} - - [19/Mar/2024:09:${String(Math.floor(i / 4000) % 60).padStart(2, '0')}:00 +0000] "GET /item/${i}?q=1 HTTP/1.1" ${i % 4 === 0 ? 403 : 200} 10 "-" "bench"`)
    }
    writeFileSync(big, `${lines.join('\n')}\n`)
    const report = await analyseFile(big)
    expect(report).toMatchObject({ lines: 200_000, records: 200_000, skipped: 0, status: { '403': 50_000 } })
    expect(report.top403.path).toHaveLength(10)
    expect(report.top403.client).toHaveLength(10)
    // 403s fall on every 4th line, so on the 125 even client suffixes: 50000 / 125 each.
    expect(report.top403.client[0].count).toBe(400)
  })
})
