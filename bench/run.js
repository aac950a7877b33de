// `npm run bench`: wrk on loopback, side by side in one run — the upstream direct, nginx as a
// reverse proxy, the minimal node:http + undici proxy (the Node limit), and Gatehouse in
// several configurations — printing req/s, p50, p99 and ratios. Bounded: a few seconds each.
// Env: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 32).
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { orderBody } from './order-body.js'
import { createServer } from 'node:net'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
// Rounds over every target, interleaved: on a small shared machine one 5 s sample can be off by
// 30% or more, so each target's median round is reported (and the ratios come from medians).
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const work = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
const children = []

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).status === 0
}

function ensureTools() {
  const missing = ['wrk', 'nginx'].filter((t) => !have(t))
  if (missing.length === 0) return
  console.error(`installing ${missing.join(', ')} from Debian's packages...`)
  execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`], { stdio: 'inherit' })
}

async function freePort() {
  const server = createServer()
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address()
  await new Promise((ok) => server.close(ok))
  return port
}

async function waitFor(url, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      return
    } catch {
      await new Promise((ok) => setTimeout(ok, 100))
    }
  }
  throw new Error(`${url} did not come up`)
}

function start(cmd, args, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } })
  children.push(child)
  return child
}

function parseDuration(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text)
  if (!m) return NaN
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1)
}

function wrk(url, script, duration = seconds) {
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '--timeout', '5s']
  if (script) args.push('-s', script)
  args.push(url)
  const out = execFileSync('wrk', args, { encoding: 'utf8' })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const p50 = parseDuration(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '')
  const p99 = parseDuration(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '')
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? ''
  return { rps, p50, p99, non2xx, errors }
}

function cleanup() {
  for (const child of children) child.kill('SIGTERM')
}
process.on('exit', cleanup)
process.on('SIGINT', () => process.exit(130))

async function main() {
  ensureTools()
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('run `npm run build` first')
  const [upstreamPort, nginxPort, minimalPort] = await Promise.all([freePort(), freePort(), freePort()])
  const upstream = `http://127.0.0.1:${upstreamPort}`

  // nginx: one worker (per process, like every other contender) serving both the upstream and the proxy.
  const nginxDir = join(work, 'nginx')
  mkdirSync(join(nginxDir, 'logs'), { recursive: true })
  writeFileSync(join(nginxDir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${nginxDir}/nginx.pid;
error_log ${nginxDir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${nginxDir}/body; proxy_temp_path ${nginxDir}/proxy;
  fastcgi_temp_path ${nginxDir}/fcgi; uwsgi_temp_path ${nginxDir}/uwsgi; scgi_temp_path ${nginxDir}/scgi;
  upstream api { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server { listen 127.0.0.1:${upstreamPort}; location / { default_type application/json; return 200 '{"ok":true}'; } }
  server {
    listen 127.0.0.1:${nginxPort};
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`)
  start('nginx', ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')])
  start(process.execPath, [join(root, 'bench/minimal-proxy.js'), String(minimalPort), upstream])

  const key = 'bench-key-0123456789'
  const keyHash = createHash('sha256').update(key).digest('hex')
  const gatehouses = []
  async function startGatehouse(name, store, policies) {
    const port = await freePort()
    const file = join(work, `${name}.yaml`)
    writeFileSync(file, `
listen: 127.0.0.1:${port}
store: ${store}
upstreams: { api: { targets: [ "${upstream}" ] } }
consumers: [ { name: bench, keys: [ "sha256:${keyHash}" ], scopes: [ "bench" ] } ]
routes:
  - name: bench
    match: { path: /* }
    upstream: api
    policies: ${policies}
`)
    start(process.execPath, [join(root, 'bin/gatehouse.js'), 'start', '-c', file], { GATEHOUSE_LOG_LEVEL: 'warn' })
    const url = `http://127.0.0.1:${port}`
    gatehouses.push(url)
    return url
  }
  const open = await startGatehouse('open', 'off', '{}')
  const openLogged = await startGatehouse('open-logged', `sqlite:${join(work, 'open.db')}`, '{}')
  const keyed = await startGatehouse('keyed', `sqlite:${join(work, 'keyed.db')}`, '{ auth: { methods: [ key ] }, scopes: [ bench ] }')
  const guarded = await startGatehouse('guarded', `sqlite:${join(work, 'guarded.db')}`, '{ waf: { mode: block, paranoia: 1 }, auth: { methods: [ key ] }, scopes: [ bench ] }')

  await Promise.all([waitFor(upstream), waitFor(`http://127.0.0.1:${nginxPort}/`), waitFor(`http://127.0.0.1:${minimalPort}/`), waitFor(`${open}/`), waitFor(`${openLogged}/`), waitFor(`${keyed}/`), waitFor(`${guarded}/`)])

  const keyScript = join(work, 'key.lua')
  writeFileSync(keyScript, `wrk.headers["X-API-Key"] = "${key}"\n`)
  const postScript = join(work, 'post.lua')
  const body = orderBody
  writeFileSync(postScript, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["X-API-Key"] = "${key}"\nwrk.body = [[${body}]]\n`)

  const cases = [
    ['direct upstream (nginx static)', `${upstream}/`],
    ['nginx reverse proxy', `http://127.0.0.1:${nginxPort}/`],
    ['node:http + undici minimal proxy', `http://127.0.0.1:${minimalPort}/`],
    ['gatehouse: no policies, no call log', `${open}/`],
    ['gatehouse: no policies + call log', `${openLogged}/`],
    ['gatehouse: key auth + call log (GET)', `${keyed}/`, keyScript],
    ['gatehouse: key auth + call log (1 KB POST)', `${keyed}/`, postScript],
    ['gatehouse: key auth + WAF + call log (GET)', `${guarded}/search?q=blue+shirts&page=2`, keyScript],
    ['gatehouse: key auth + WAF + call log (1 KB POST)', `${guarded}/`, postScript],
    ['node minimal proxy (1 KB POST)', `http://127.0.0.1:${minimalPort}/`, postScript],
  ]
  console.log(`wrk -t1 -c${connections} -d${seconds}s on loopback (after a 1 s warm-up each), median of ${rounds} interleaved rounds, node ${process.version}\n`)
  const samples = new Map(cases.map(([name]) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, url, script] of cases) {
      if (round === 0) wrk(url, script, 1) // warm-up: JIT and connection pools, not counted
      samples.get(name).push(wrk(url, script))
    }
  }
  const results = cases.map(([name]) => {
    const sorted = [...samples.get(name)].sort((a, b) => a.rps - b.rps)
    const median = sorted[Math.floor(sorted.length / 2)]
    return { name, ...median, spread: sorted.length > 1 ? `${Math.round(sorted[0].rps)}–${Math.round(sorted[sorted.length - 1].rps)}` : '' }
  })
  const by = (name) => results.find((r) => r.name === name)
  const direct = by('direct upstream (nginx static)').rps
  const nginx = by('nginx reverse proxy').rps
  const minimal = by('node:http + undici minimal proxy').rps
  const pad = (s, n) => String(s).padEnd(n)
  console.log(`${pad('target', 50)}${pad('req/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('×direct', 9)}${pad('×nginx', 9)}×node-min   (req/s range over rounds)`)
  for (const r of results) {
    const base = r.name.includes('POST') ? by('node minimal proxy (1 KB POST)').rps : minimal
    console.log(`${pad(r.name, 50)}${pad(Math.round(r.rps), 10)}${pad(r.p50.toFixed(2), 9)}${pad(r.p99.toFixed(2), 9)}${pad((r.rps / direct).toFixed(2), 9)}${pad((r.rps / nginx).toFixed(2), 9)}${(r.rps / base).toFixed(2)}${r.spread ? `   (${r.spread})` : ''}${r.non2xx ? `  (${r.non2xx} non-2xx!)` : ''}${r.errors ? `  errors: ${r.errors}` : ''}`)
  }
  const minimalPost = by('node minimal proxy (1 KB POST)').rps
  const targets = [
    ['no policies ≥ 0.75× node minimal', by('gatehouse: no policies, no call log').rps / minimal, 0.75],
    ['key auth + WAF + call log GET ≥ 0.5× node minimal', by('gatehouse: key auth + WAF + call log (GET)').rps / minimal, 0.5],
    ['key auth + WAF + call log 1 KB POST ≥ 0.4× node minimal POST', by('gatehouse: key auth + WAF + call log (1 KB POST)').rps / minimalPost, 0.4],
  ]
  console.log('\ntargets (per process):')
  for (const [name, ratio, goal] of targets) console.log(`  ${ratio >= goal ? 'met ' : 'MISS'}  ${name}: ${ratio.toFixed(2)}`)

  for (const [title, script] of [['WAF (µs per request, compiled policy)', 'bench/waf.js'], ['logs analyser', 'bench/logs.js']]) {
    if (!existsSync(join(root, script))) continue
    console.log(`\n${title}:`)
    const out = spawnSync(process.execPath, [join(root, script)], { encoding: 'utf8' })
    process.stdout.write(out.stdout.split('\n')[0] + '\n')
  }
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ date: new Date().toISOString(), seconds, connections, results }, null, 2))
}

main().then(() => { cleanup(); process.exit(0) }, (error) => { console.error(error); cleanup(); process.exit(1) })
