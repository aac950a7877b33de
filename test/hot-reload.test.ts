import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { LoadResult } from '../src/config/load.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

function nextReload(gateway: TestGateway): Promise<LoadResult> {
  return new Promise((resolve) => gateway.events.once('reload', resolve))
}

describe('hot reload', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  const config = (path: string) => `
upstreams: { api: { targets: [ "${'${UPSTREAM}'}" ] } }
routes: [ { name: api, match: { path: ${path} }, upstream: api } ]
`
  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway(config('/v1/*'), { watch: true, env: { UPSTREAM: upstream.url } })
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('applies a changed file without a restart', async () => {
    expect((await request(`${gateway.url}/v2/x`)).statusCode).toBe(404)
    const reloaded = nextReload(gateway)
    gateway.writeConfig(config('/v2/*'))
    expect((await reloaded).ok).toBe(true)
    const res = await request(`${gateway.url}/v2/x`)
    await res.body.dump()
    expect(res.statusCode).toBe(200)
  })

  it('keeps the last good config when the new file is broken, and says why', async () => {
    const reloaded = nextReload(gateway)
    gateway.writeConfig('routes: [ { name: api, match: { path: nope }, upstream: missing } ]\n')
    const result = await reloaded
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.problems.map((p) => p.message).join()).toContain("unknown upstream 'missing'")
    const res = await request(`${gateway.url}/v2/still-here`)
    await res.body.dump()
    expect(res.statusCode).toBe(200)
  })

  it('keeps serving when the file is garbage', async () => {
    const reloaded = nextReload(gateway)
    gateway.writeConfig('\u0000\u0001: [[[')
    expect((await reloaded).ok).toBe(false)
    const res = await request(`${gateway.url}/v2/x`)
    await res.body.dump()
    expect(res.statusCode).toBe(200)
  })
})
