import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, it, expect } from 'vitest'
import { UsageError } from '../src/cli/args.js'
import { doctorCommand } from '../src/cli/commands/doctor.js'
import { createMemoryIo, exitCodes } from '../src/cli/io.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-doctor-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const servers: TestUpstream[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function serve(handler?: Parameters<typeof startUpstream>[0]): Promise<TestUpstream> {
  const server = await startUpstream(handler)
  servers.push(server)
  return server
}

async function doctor(...args: string[]) {
  const io = createMemoryIo({}, dir)
  let code: number
  // What main.ts does with a UsageError; calling the command directly keeps this suite
  // independent of the other commands main.ts loads.
  try {
    code = await doctorCommand.run(args, io)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.stderr(`gatehouse doctor: ${error.message}\n`)
    code = exitCodes.usage
  }
  return { code, out: io.out, err: io.err }
}

interface DoctorJson {
  diagnoses: { producer: string; layer: string; confidence: number; evidence: string[] }[]
  exchange: { request: { method: string; url: string; headers: Record<string, string> }; response: { status: number; headers: Record<string, string> } } | null
  probes: { variation: string; status: number | null; request: { headers: Record<string, string>; body?: string } }[]
  findings: { probe: string; status: number | null; conclusion: string }[]
  reproduce: string
  error?: { kind: string; message: string }
}

// A Cloudflare firewall rule (error 1020) answers every variation the same way.
function cloudflareBlock(_req: unknown, res: import('node:http').ServerResponse) {
  res.statusCode = 403
  res.setHeader('server', 'cloudflare')
  res.setHeader('cf-ray', '8a1b2c3d4e5f6a7b-AMS')
  res.setHeader('content-type', 'text/plain; charset=UTF-8')
  res.end('error code: 1020')
}

describe('gatehouse doctor (live)', () => {
  it('diagnoses a Cloudflare 1020 block and shows the probes as JSON, secrets redacted', async () => {
    const server = await serve(cloudflareBlock)
    const { code, out } = await doctor(
      '-X', 'POST', `${server.url}/v1/orders`, '-H', 'Content-Type: application/json', '-H', 'Authorization: Bearer sekret-token',
      '-d', '{"item":"book"}', '--json',
    )
    expect(code).toBe(1)
    const report = JSON.parse(out) as DoctorJson
    expect(report.diagnoses[0]).toMatchObject({ producer: 'cloudflare' })
    expect(report.exchange?.response.status).toBe(403)
    expect(report.exchange?.request.headers.authorization).toBe('Bearer <redacted>')
    expect(report.probes[0]).toMatchObject({ variation: 'original', status: 403 })
    expect(report.findings.find((f) => f.probe === 'no-credentials')?.conclusion).toMatch(/not about these credentials/)
    // Every removal kept the block, so the minimal reproduction is a bare GET: the rule is not about the request.
    expect(report.reproduce).toBe(`curl '${server.url}/v1/orders'`)
    expect(out).not.toContain('sekret-token')
    expect(server.requests.length).toBe(report.probes.length)
    expect(server.requests.length).toBeLessThanOrEqual(6)
  })

  it('prints the exchange line, the probe table and the reproduce line', async () => {
    const server = await serve((req, res, body) => {
      if (body.includes('DROP TABLE')) { res.statusCode = 403; res.end('Forbidden by rule 942100'); return }
      res.statusCode = req.method === 'POST' ? 400 : 200
      res.end('{}')
    })
    writeFileSync(join(dir, 'payload.json'), '{"q":"1; DROP TABLE users"}\n')
    const { code, out } = await doctor(`${server.url}/search`, '-H', 'Content-Type: application/json', '--data-binary', '@payload.json')
    expect(code).toBe(1)
    expect(out).toMatch(new RegExp(`^POST ${server.url}/search → 403 in \\d+ ms\\n`))
    expect(out).toMatch(/probes:\n {2}original +403 +\d+ ms {2}Denied as sent \(403\)\./)
    expect(out).toMatch(/ {2}minimal-body +400 .*WAF or body rule inspects the payload/)
    expect(out).toContain(`reproduce: curl '${server.url}/search' -H 'Content-Type: application/json' --data-raw $'{"q":"1; DROP TABLE users"}\\n'`)
  })

  it('reads a pasted curl command with --from-curl and finds a method rule', async () => {
    const server = await serve((req, res) => {
      res.statusCode = req.method === 'GET' ? 200 : 403
      res.end(req.method === 'GET' ? '[]' : '<h1>403 Forbidden</h1>')
    })
    const pasted = `curl '${server.url}/api/items' \\\n  -H 'accept: application/json' \\\n  -H 'content-type: application/json' \\\n  -b 'sessionid=abc' \\\n  --data-raw '{"name":"x"}' \\\n  --compressed`
    writeFileSync(join(dir, 'copied.sh'), pasted)
    const { code, out } = await doctor('--from-curl', '@copied.sh', '--json', '--max-probes', '8')
    expect(code).toBe(1)
    const report = JSON.parse(out) as DoctorJson
    expect(report.findings.find((f) => f.probe === 'get')?.conclusion).toMatch(/GET passes, POST is denied/)
    expect(report.probes[0].request.headers.cookie).toBe('sessionid=<redacted>')
    expect(report.probes.find((p) => p.variation === 'minimal-body')?.request.body).toBe('{}')
    expect(report.reproduce).toBe(`curl '${server.url}/api/items' -H 'accept: application/json' -H 'content-type: application/json' --data-raw '{}' --compressed`)
    const inline = await doctor('--from-curl', pasted, '--json')
    expect((JSON.parse(inline.out) as DoctorJson).findings.find((f) => f.probe === 'get')?.conclusion).toMatch(/GET passes/)
  })

  it('exits 0 and sends nothing more when the request is not denied', async () => {
    const server = await serve()
    const { code, out } = await doctor(`${server.url}/health`, '-H', 'Authorization: Bearer x')
    expect(code).toBe(0)
    expect(out).toMatch(/→ 200 in \d+ ms/)
    expect(out).not.toContain('reproduce:')
    expect(server.requests.length).toBe(1)
  })

  it('sends only the original with --no-probe and never more than 8 requests', async () => {
    const server = await serve(cloudflareBlock)
    const args = ['-X', 'PUT', `${server.url}/x`, '-H', 'Origin: https://app.test', '-H', 'X-Key: k', '-b', 'a=1', '-u', 'u:p', '-d', '{"a":1}', '-H', 'Content-Type: application/json']
    await doctor(...args, '--no-probe')
    expect(server.requests.length).toBe(1)
    const { err } = await doctor(...args, '--max-probes', '20')
    expect(err).toMatch(/capped at 8/)
    expect(server.requests.length - 1).toBeLessThanOrEqual(8)
  })
})

describe('gatehouse doctor (network errors)', () => {
  it('reports a timeout with a clear message and exit 1', async () => {
    const server = await serve(() => { /* never answers */ })
    const { code, out, err } = await doctor(server.url, '--timeout', '200')
    expect(code).toBe(1)
    expect(out).toContain('no answer')
    expect(err).toMatch(/timed out after 200 ms/)
  })

  it('reports connection refused', async () => {
    const gone = await startUpstream()
    await gone.close()
    const { code, out, err } = await doctor(gone.url, '--json')
    expect(code).toBe(1)
    expect((JSON.parse(out) as DoctorJson).error?.kind).toBe('refused')
    expect(err).toMatch(/connection refused/)
  })

  it('reports a TLS error as TLS', async () => {
    const server = await serve((_req, res) => res.end('plain http'))
    const { code, err } = await doctor(server.url.replace('http:', 'https:'))
    expect(code).toBe(1)
    expect(err).toMatch(/TLS error/)
  })
})

describe('gatehouse doctor (offline)', () => {
  const exchange = {
    request: { method: 'POST', url: 'https://api.example.com/v1/orders', headers: { 'content-type': 'application/json', authorization: 'Bearer abc' }, body: '{"a":1}' },
    response: { status: 403, headers: { server: 'cloudflare', 'cf-ray': '8a1b2c3d4e5f6a7b-AMS', 'content-type': 'text/plain' }, body: 'error code: 1020' },
  }

  it('classifies a recorded exchange with --replay, without network', async () => {
    writeFileSync(join(dir, 'case.json'), JSON.stringify(exchange))
    const { code, out } = await doctor('--replay', 'case.json', '--json')
    expect(code).toBe(1)
    const report = JSON.parse(out) as DoctorJson
    expect(report.diagnoses[0]).toMatchObject({ producer: 'cloudflare' })
    expect(report.probes).toEqual([])
    expect(report.exchange?.request.headers.authorization).toBe('Bearer <redacted>')
    expect(report.reproduce).toBe(`curl 'https://api.example.com/v1/orders' -H 'content-type: application/json' -H 'authorization: Bearer <redacted>' --data-raw '{"a":1}'`)
    const human = await doctor('--replay', 'case.json')
    expect(human.out).toMatch(/^POST https:\/\/api.example.com\/v1\/orders → 403 \(recorded\)/)
  })

  it('diagnoses the denied entries of a HAR file', async () => {
    const toEntry = (status: number, body: string) => ({
      startedDateTime: '2024-03-19T09:42:00.000Z',
      request: { method: 'POST', url: 'https://api.example.com/v1/orders', headers: [{ name: 'Cookie', value: 'sid=s' }] },
      response: { status, headers: [{ name: 'Server', value: 'cloudflare' }, { name: 'CF-RAY', value: '8a1b-AMS' }], content: { text: body, mimeType: 'text/plain' } },
    })
    const entries = [toEntry(200, 'ok'), toEntry(403, 'error code: 1020'), toEntry(404, 'nope'), toEntry(403, 'error code: 1020'), toEntry(0, '')]
    writeFileSync(join(dir, 'session.har'), JSON.stringify({ log: { entries } }))
    const { code, out } = await doctor('--har', 'session.har', '--json')
    expect(code).toBe(1)
    const report = JSON.parse(out) as {
      entries: number
      unanswered: number
      denials: { entry: number; diagnoses: { producer: string }[]; context: { entry: number; conclusion: string }[]; reproduce: string }[]
    }
    expect(report.entries).toBe(5)
    expect(report.unanswered).toBe(1)
    expect(report.denials.map((d) => d.entry)).toEqual([1, 3])
    expect(report.denials[0].diagnoses[0].producer).toBe('cloudflare')
    expect(report.denials[0].context).toEqual([{ entry: 0, conclusion: expect.stringMatching(/same POST on this path got 200 in entry #0/) }])
    expect(report.denials[0].reproduce).toContain("-H 'cookie: sid=<redacted>'")
    const human = await doctor('--har', 'session.har')
    expect(human.out).toMatch(/session.har: 5 entries, 2 denied/)
    expect(human.out).toMatch(/1 without a response \(status 0\): blocked by CORS/)
    expect(human.out).toMatch(/#1 POST https:\/\/api.example.com\/v1\/orders → 403 at 2024-03-19T09:42:00.000Z \(and 1 more like it: #3\)/)
    expect(human.out.match(/reproduce:/g)?.length).toBe(1)
    expect(human.out).toMatch(/context: The same POST on this path got 200/)
  })

  it.each([
    [[], /give a request/],
    [['--har', 'a.har', 'http://h.test/'], /one input at a time/],
    [['http://h.test/', '--max-probes', 'many'], /--max-probes must be a whole number/],
    [['http://h.test/', '--timeout', '0'], /--timeout must be a whole number/],
    [['http://h.test/', '--frobnicate'], /unknown curl option --frobnicate/],
    [['--replay', 'missing.json'], /cannot read missing.json/],
    [['http://h.test/', '-d', '@nothere.json'], /^gatehouse doctor: cannot read nothere.json: ENOENT/],
    [['--from-curl', 'wget http://h.test/'], /starting with curl/],
  ])('exits 2 for bad usage %j', async (args, message) => {
    const { code, err } = await doctor(...args)
    expect(code).toBe(2)
    expect(err).toMatch(message)
  })

  it('runs through the gatehouse entry point', async () => {
    // Imported here so a half-finished sibling command cannot stop the rest of this suite from loading.
    const { main } = await import('../src/cli/main.js')
    writeFileSync(join(dir, 'entry.json'), JSON.stringify(exchange))
    const io = createMemoryIo({}, dir)
    expect(await main(['doctor', '--replay', 'entry.json'], io)).toBe(1)
    expect(io.out).toMatch(/→ 403 \(recorded\)/)
    const bad = createMemoryIo({}, dir)
    expect(await main(['doctor', 'http://h.test/', '--bogus'], bad)).toBe(2)
    expect(bad.err).toMatch(/unknown curl option --bogus\nUsage: gatehouse doctor/)
  })

  it('exits 2 for a replay file that is not an exchange', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ request: { method: 'GET' }, response: { status: 'x' } }))
    const { code, err } = await doctor('--replay', 'bad.json')
    expect(code).toBe(2)
    expect(err).toMatch(/request\.url/)
    expect(err).toMatch(/response\.status/)
  })
})
