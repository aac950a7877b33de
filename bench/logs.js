// Measures `gatehouse logs` throughput: writes a synthetic nginx combined log to a temp dir,
// analyses it with the compiled analyser from dist/ (run `npm run build` first), and prints
// one JSON line: {"bench":"logs","lines":N,"seconds":S,"linesPerSecond":R}.
// Usage: node bench/logs.js [lines]   (default 1,000,000; GATEHOUSE_DIST overrides dist/)
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { once } from 'node:events'

const lines = Number(process.argv[2] ?? process.env.BENCH_LOG_LINES ?? 1_000_000)
const dist = resolve(process.env.GATEHOUSE_DIST ?? join(fileURLToPath(new URL('.', import.meta.url)), '..', 'dist'))
const entry = join(dist, 'logs', 'index.js')
if (!existsSync(entry)) {
  console.error(`bench/logs.js: ${entry} not found; run \`npm run build\` first`)
  process.exit(2)
}
const { analyseFile } = await import(pathToFileURL(entry).href)

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const paths = ['/', '/api/orders', '/api/orders/123', '/login', '/static/app.js', '/admin', '/wp-login.php', '/api/users/42']
const agents = ['Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0', 'curl/8.4.0', 'python-requests/2.31.0']

function clfTime(ms) {
  const d = new Date(ms)
  const p = (n) => String(n).padStart(2, '0')
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
}

async function writeLog(file, count) {
  const out = createWriteStream(file)
  const start = Date.UTC(2024, 2, 19, 0, 0, 0)
  let chunk = ''
  for (let i = 0; i < count; i++) {
    // Deterministic mix: ~5% 403, 1% 401, 0.5% 429, unique ids in some paths.
    const r = (i * 2654435761) % 1000
    const status = r < 50 ? 403 : r < 60 ? 401 : r < 65 ? 429 : r < 900 ? 200 : 304
    const path = r % 7 === 0 ? `/api/items/${i}` : paths[r % paths.length]
    const client = `198.51.${(r * 7) % 256}.${i % 200}`
    const method = r % 5 === 0 ? 'POST' : 'GET'
    chunk += `${client} - - [${clfTime(start + i * 20)}] "${method} ${path}?q=${r} HTTP/1.1" ${status} ${r * 3} "https://example.com/" "${agents[r % agents.length]}"\n`
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'finish')
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-logs-'))
try {
  const file = join(dir, 'access.log')
  await writeLog(file, lines)
  const started = process.hrtime.bigint()
  const report = await analyseFile(file, { format: 'auto' })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (report.lines !== lines) throw new Error(`read ${report.lines} lines, wrote ${lines}`)
  console.log(JSON.stringify({ bench: 'logs', lines, seconds: Number(seconds.toFixed(3)), linesPerSecond: Math.round(lines / seconds) }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
