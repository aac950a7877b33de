import { spawn } from 'node:child_process'
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore, type PostgresCallLogStore, type PostgresRecovery, type PostgresStoreOptions, type PostgresStoreProblem } from './postgres.js'
import { createTestSchema, makeCallRecord, startTcpProxy, type TcpProxy, type TestSchema } from './postgres-test-support.js'

let schema: TestSchema
let tempDir: string
const proxies: TcpProxy[] = []
const opened: PostgresCallLogStore[] = []

beforeAll(async () => {
  schema = await createTestSchema()
  tempDir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-faults-'))
})

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
  await Promise.all(proxies.map((proxy) => proxy.close()))
  await schema.drop()
  rmSync(tempDir, { recursive: true, force: true })
})

async function proxy(options: Parameters<typeof startTcpProxy>[0] = {}): Promise<TcpProxy> {
  const started = await startTcpProxy(options)
  proxies.push(started)
  return started
}

interface Observed {
  store: PostgresCallLogStore
  problems: PostgresStoreProblem[]
  recoveries: PostgresRecovery[]
}

/** A store behind `port` with fast retries, recording what it reports. */
function openObserved(port: number, spoolDir: string, options: PostgresStoreOptions = {}): Observed {
  const problems: PostgresStoreProblem[] = []
  const recoveries: PostgresRecovery[] = []
  const store = createPostgresStore(schema.url(port), {
    spoolDir,
    batchMs: 5,
    batchSize: 200,
    maxRetryMs: 100,
    connectTimeoutMs: 1000,
    onProblem: (problem) => problems.push(problem),
    onRecover: (recovery) => recoveries.push(recovery),
    ...options,
  })
  opened.push(store)
  return { store, problems, recoveries }
}

async function countRows(prefix: string): Promise<{ rows: number; distinct: number }> {
  const [row] = await schema.query<{ rows: string; distinct: string }>(
    'SELECT count(*) AS rows, count(DISTINCT request_id) AS distinct FROM calls WHERE request_id LIKE $1', [`${prefix}%`])
  return { rows: Number(row.rows), distinct: Number(row.distinct) }
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.jsonl'))
}

/** Lets pending I/O callbacks (socket errors, batch timers) run between bursts of appends. */
function nextTurn(): Promise<void> {
  return new Promise((resolveTurn) => setImmediate(resolveTurn))
}

describe('PostgreSQL call log under faults', () => {
  it('loses and duplicates no row when the database goes away mid-stream and comes back', async () => {
    const link = await proxy()
    const spoolDir = join(tempDir, 'outage')
    const { store, problems, recoveries } = openObserved(link.port, spoolDir)
    await store.ready()
    const time = Date.now()
    const total = 5000
    for (let i = 0; i < total; i++) {
      if (i === 1000) {
        await store.flush()
        expect(store.stats()).toMatchObject({ written: 1000, spooled: 0 })
      }
      if (i === 1500) await link.stop() // batches are in flight here: some acks are lost
      if (i === 3500) {
        await store.flush() // everything so far is committed or spooled
        expect(store.stats().spooled).toBeGreaterThan(0)
        expect(segments(spoolDir).length).toBeGreaterThan(0)
        await link.start()
      }
      store.append(makeCallRecord(i, time, { requestId: `OUTAGE-${String(i).padStart(5, '0')}` }))
      if (i % 100 === 0) await nextTurn()
    }
    const drainStart = performance.now()
    await store.flush()
    const drainSeconds = (performance.now() - drainStart) / 1000
    const stats = store.stats()
    expect(await countRows('OUTAGE-')).toEqual({ rows: total, distinct: total })
    expect(stats).toMatchObject({ queued: 0, dropped: 0, spoolBytes: 0 })
    expect(stats.replayed).toBe(stats.spooled)
    expect(segments(spoolDir)).toEqual([])
    expect(problems.map((p) => p.code)).toContain('store.unreachable')
    expect(recoveries.length).toBeGreaterThan(0)
    console.log(`outage: ${total} rows appended, ${stats.spooled} spooled and replayed, ` +
      `${total - stats.written} committed whose acknowledgement was lost (skipped on replay), ` +
      `drained in ${drainSeconds.toFixed(2)} s after the link came back (outage to empty spool: ` +
      `${(recoveries[recoveries.length - 1].ms / 1000).toFixed(2)} s), ${stats.failures} failed attempts, 0 lost, 0 duplicated`)
  })

  it('sends one INSERT statement per batch of batchSize rows', async () => {
    let wire = ''
    let inserts = 0
    const link = await proxy({
      onClientData: (chunk) => {
        // Keep one character less than the statement's start, so a start split across two TCP
        // reads is counted once and a whole one is never counted twice.
        wire += chunk.toString('latin1')
        inserts += wire.split('INSERT INTO calls').length - 1
        wire = wire.slice(-('INSERT INTO calls'.length - 1))
      },
    })
    const { store } = openObserved(link.port, join(tempDir, 'batches'), { batchSize: 500, batchMs: 60_000 })
    await store.ready()
    const time = Date.now()
    for (let i = 0; i < 2000; i++) store.append(makeCallRecord(i, time, { requestId: `BATCH-${i}` }))
    await store.flush()
    expect(await countRows('BATCH-')).toEqual({ rows: 2000, distinct: 2000 })
    expect(inserts).toBe(4)
  })

  it('spools instead of waiting forever when the database accepts connections but never answers', async () => {
    // A network partition or a hung server: TCP connects, nothing comes back.
    const held = new Set<Socket>()
    const blackHole = createServer((socket) => {
      held.add(socket)
      socket.on('error', () => undefined)
    })
    await new Promise<void>((resolveListen) => blackHole.listen(0, '127.0.0.1', resolveListen))
    try {
      const { port } = blackHole.address() as AddressInfo
      const { store, problems } = openObserved(port, join(tempDir, 'black-hole'), { connectTimeoutMs: 200, statementTimeoutMs: 300 })
      for (let i = 0; i < 100; i++) store.append(makeCallRecord(i, Date.now(), { requestId: `HUNG-${i}` }))
      await store.flush()
      expect(store.stats()).toMatchObject({ queued: 0, spooled: 100, written: 0, dropped: 0 })
      expect(problems[0]?.code).toBe('store.unreachable')
      await store.close()
    } finally {
      for (const socket of held) socket.destroy()
      await new Promise<void>((resolveClose) => blackHole.close(() => resolveClose()))
    }
  })

  it('reports each outage once and each recovery once', async () => {
    const link = await proxy()
    const { store, problems, recoveries } = openObserved(link.port, join(tempDir, 'twice-down'))
    const time = Date.now()
    let next = 0
    const appendTen = (): void => {
      for (let end = next + 10; next < end; next++) store.append(makeCallRecord(next, time, { requestId: `REPEAT-${next}` }))
    }
    appendTen()
    await store.flush()
    for (let outage = 0; outage < 2; outage++) {
      await link.stop()
      appendTen()
      appendTen()
      await store.flush()
      await link.start()
      await store.flush()
      appendTen()
      await store.flush()
    }
    expect(await countRows('REPEAT-')).toEqual({ rows: next, distinct: next })
    expect(problems.map((p) => p.code)).toEqual(['store.unreachable', 'store.unreachable'])
    expect(recoveries.map((r) => r.rows)).toEqual([20, 20])
  })

  it('replays on the next start the rows a store spooled before it was closed during an outage', async () => {
    const link = await proxy({ isDown: true })
    const spoolDir = join(tempDir, 'crash')
    const first = openObserved(link.port, spoolDir)
    await expect(first.store.ready()).rejects.toMatchObject({ code: 'store.unreachable' })
    const time = Date.now()
    for (let i = 0; i < 300; i++) first.store.append(makeCallRecord(i, time, { requestId: `CRASH-${i}` }))
    await first.store.flush()
    expect(first.store.stats()).toMatchObject({ queued: 0, spooled: 300, written: 0 })
    await first.store.close()
    expect(segments(spoolDir).length).toBeGreaterThan(0)

    await link.start()
    const second = openObserved(link.port, spoolDir)
    await second.store.flush()
    expect(await countRows('CRASH-')).toEqual({ rows: 300, distinct: 300 })
    expect(second.store.stats().replayed).toBe(300)
    expect(segments(spoolDir)).toEqual([])
    expect((await second.store.get('CRASH-299'))?.path).toBe('/v1/items/299')
  })

  it('replays a segment twice without duplicating rows (committed but not acknowledged)', async () => {
    const link = await proxy({ isDown: true })
    const spoolDir = join(tempDir, 'twice')
    const backup = join(tempDir, 'twice-backup')
    const first = openObserved(link.port, spoolDir)
    const time = Date.now()
    for (let i = 0; i < 120; i++) first.store.append(makeCallRecord(i, time, { requestId: `TWICE-${i}` }))
    await first.store.close()
    cpSync(spoolDir, backup, { recursive: true })

    await link.start()
    const second = openObserved(link.port, spoolDir)
    await second.store.flush()
    await second.store.close()
    for (const name of segments(backup)) cpSync(join(backup, name), join(spoolDir, name))
    const third = openObserved(link.port, spoolDir)
    await third.store.flush()
    expect(third.store.stats().replayed).toBe(120)
    expect(third.store.stats().written).toBe(0)
    expect(await countRows('TWICE-')).toEqual({ rows: 120, distinct: 120 })
  })

  it('replays the spool of a process killed with SIGKILL while PostgreSQL was down', async () => {
    const link = await proxy({ isDown: true })
    const spoolDir = join(tempDir, 'killed')
    const script = join(tempDir, 'killed-writer.mts')
    const storeModule = pathToFileURL(fileURLToPath(new URL('./postgres.ts', import.meta.url))).href
    const supportModule = pathToFileURL(fileURLToPath(new URL('./postgres-test-support.ts', import.meta.url))).href
    writeFileSync(script, `
import { createPostgresStore } from ${JSON.stringify(storeModule)}
import { makeCallRecord } from ${JSON.stringify(supportModule)}
const store = createPostgresStore(${JSON.stringify(schema.url(link.port))}, { spoolDir: ${JSON.stringify(spoolDir)}, batchMs: 5, onProblem: () => {} })
const time = Date.now()
for (let i = 0; i < 400; i++) store.append(makeCallRecord(i, time, { requestId: 'KILLED-' + i }))
await store.flush()
process.stdout.write('spooled ' + store.stats().spooled + '\\n')
setInterval(() => {}, 1000)
`)
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await new Promise<string>((resolveLine, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('\n')) resolveLine(out.trim())
      })
      child.once('exit', (code) => reject(new Error(`the writer exited early with ${code}`)))
    })
    expect(line).toBe('spooled 400')
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit))
    child.kill('SIGKILL')
    await exited

    await link.start()
    const next = openObserved(link.port, spoolDir)
    expect(next.store.spoolDir).toBe(spoolDir) // the dead writer's lock is taken over
    await next.store.flush()
    expect(await countRows('KILLED-')).toEqual({ rows: 400, distinct: 400 })
    expect(segments(spoolDir)).toEqual([])
  })

  it('drops only the rows PostgreSQL refuses and writes the rest of their batch', async () => {
    const own = await createTestSchema()
    try {
      const store = createPostgresStore(own.url(), { spoolDir: join(tempDir, 'refused'), batchMs: 5, onProblem: () => undefined })
      opened.push(store)
      await store.ready()
      await own.query("ALTER TABLE calls ADD CONSTRAINT refuse_one CHECK (path <> '/refuse-me')")
      const time = Date.now()
      for (let i = 0; i < 50; i++) store.append(makeCallRecord(i, time, { requestId: `REFUSE-${i}`, path: i === 17 ? '/refuse-me' : '/ok' }))
      await store.flush()
      const [{ count }] = await own.query<{ count: string }>('SELECT count(*) FROM calls')
      expect(Number(count)).toBe(49)
      expect(store.stats()).toMatchObject({ written: 49, dropped: 1, spooled: 0, queued: 0 })
    } finally {
      await own.drop()
    }
  })

  it('skips a line torn by a crash and replays the rest', async () => {
    const link = await proxy({ isDown: true })
    const spoolDir = join(tempDir, 'torn')
    const first = openObserved(link.port, spoolDir)
    const time = Date.now()
    for (let i = 0; i < 50; i++) first.store.append(makeCallRecord(i, time, { requestId: `TORN-${i}` }))
    await first.store.close()
    const [segment] = segments(spoolDir)
    appendFileSync(join(spoolDir, segment), '[1795600000000,"TORN-half","tr')

    await link.start()
    const second = openObserved(link.port, spoolDir)
    await second.store.flush()
    expect(await countRows('TORN-')).toEqual({ rows: 50, distinct: 50 })
    expect(second.store.stats().dropped).toBe(1)
    expect(second.problems.map((p) => p.code)).toEqual(['store.rows-dropped'])
  })

  it('bounds the spool and counts the rows it had to drop', async () => {
    const link = await proxy({ isDown: true })
    const { store, problems } = openObserved(link.port, join(tempDir, 'bounded'), { maxSpoolBytes: 20_000 })
    const time = Date.now()
    for (let i = 0; i < 200; i++) store.append(makeCallRecord(i, time, { requestId: `BOUNDED-${i}` }))
    await store.flush()
    const stats = store.stats()
    expect(stats.dropped).toBeGreaterThan(0)
    expect(stats.spooled + stats.dropped).toBe(200)
    expect(stats.spoolBytes).toBeLessThanOrEqual(20_000)
    expect(problems.filter((p) => p.code === 'store.rows-dropped')).toHaveLength(1)
  })

  it('keeps the gateway unblocked: append returns at once while the database is unreachable', async () => {
    const link = await proxy({ isDown: true })
    const { store } = openObserved(link.port, join(tempDir, 'unblocked'))
    const time = Date.now()
    const started = performance.now()
    for (let i = 0; i < 5000; i++) store.append(makeCallRecord(i, time, { requestId: `FAST-${i}` }))
    expect(performance.now() - started).toBeLessThan(500)
    await store.close()
    expect(store.stats()).toMatchObject({ queued: 0, dropped: 0, spooled: 5000 })
  })
})
