import { mkdtempSync, rmSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { startUpstream, type TestUpstream } from '../../src/testing/start-upstream.js'
import { spawnGateway, type GatewayProcess } from './spawn-gateway.js'

const workers = 4

describe('config reload under load (a real gateway process watching its file)', () => {
  let upstream: TestUpstream | undefined
  let gateway: GatewayProcess | undefined
  const agent = new Agent({ connections: workers + 1 })
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-reload-'))
  // Shared so a failed step cannot leave the request loops spinning against a dead gateway.
  let stop = false
  afterAll(async () => {
    stop = true
    gateway?.child.kill('SIGKILL')
    await gateway?.exited
    await agent.close()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps answering through a garbage file, then applies the next good one', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'))
    const config = join(dir, 'gatehouse.yaml')
    const yaml = (extraRoute: string) => `
store: sqlite:${join(dir, 'calls.db')}
upstreams: { api: { targets: [ "${upstream!.url}" ], retries: 0 } }
routes:
  - { name: api, match: { path: /api/* }, upstream: api }
${extraRoute}`
    writeFileSync(config, yaml(''))
    // Replaced whole by rename, as editors save: the watcher can never read a half-written file.
    const replace = (text: string) => {
      writeFileSync(`${config}.next`, text)
      renameSync(`${config}.next`, config)
    }
    gateway = await spawnGateway(config)
    const running = gateway

    const outcomes: (number | string)[] = []
    const waiters: { count: number; resolve: () => void }[] = []
    const settle = (outcome: number | string) => {
      outcomes.push(outcome)
      for (let i = waiters.length - 1; i >= 0; i--) if (outcomes.length >= waiters[i].count) waiters.splice(i, 1)[0].resolve()
    }
    /** Resolves once `more` further requests have finished. */
    const afterMore = (more: number) => new Promise<void>((resolve) => waiters.push({ count: outcomes.length + more, resolve }))
    const loops = Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await request(`${running.url}/api/${w}/${i}`, { dispatcher: agent })
          await res.body.dump()
          settle(res.statusCode)
        } catch (error) {
          settle(`failed: ${(error as Error & { code?: string }).code ?? (error as Error).message}`)
        }
      }
    })

    await afterMore(20)
    let seen = running.logs.length
    replace('\u0000\u0001: [[[ routes: {')
    await running.waitForLog('config reload refused; keeping the running config', seen)
    const atRefusal = outcomes.length
    await afterMore(20)
    // The last good config still runs: no /v2 route yet.
    const before = await request(`${running.url}/v2/x`, { dispatcher: agent })
    await before.body.dump()

    seen = running.logs.length
    replace(yaml('  - { name: v2, match: { path: /v2/* }, upstream: api }\n'))
    await running.waitForLog('config reloaded', seen)
    await afterMore(20)
    stop = true
    await Promise.all(loops)

    // The new route answers; a bounded poll in case a request raced the swap.
    let v2 = 0
    for (let attempt = 0; attempt < 20 && v2 !== 200; attempt++) {
      const res = await request(`${running.url}/v2/x`, { dispatcher: agent })
      await res.body.dump()
      v2 = res.statusCode
    }
    const failures = outcomes.filter((o) => o !== 200)
    console.log(`[faults] reload under load: ${outcomes.length} requests across a garbage write and a good one (${outcomes.length - atRefusal} after the garbage was refused), ${failures.length} not 200; new route answers ${before.statusCode} before, ${v2} after`)
    expect(failures).toEqual([])
    expect(before.statusCode).toBe(404)
    expect(v2).toBe(200)

    running.child.kill('SIGTERM')
    expect(await running.exited).toEqual({ code: 0, signal: null })
  }, 30_000)
})
