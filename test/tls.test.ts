import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { createTestCertificates, type TestCertificates } from '../src/testing/certs.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'

describe('TLS listening', () => {
  let certs: TestCertificates
  let upstream: TestUpstream
  let gateway: TestGateway
  beforeAll(async () => {
    certs = createTestCertificates()
    upstream = await startUpstream()
    gateway = await startTestGateway(`
tls: { cert: "${certs.files.serverCert}", key: "${certs.files.serverKey}", ca: "${certs.files.ca}", requestCert: true }
upstreams: { api: { targets: [ "${upstream.url}" ] } }
routes: [ { name: api, match: { path: /* }, upstream: api } ]
`)
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
  })

  it('serves HTTPS and tells the upstream the client came over https', async () => {
    expect(gateway.url.startsWith('https://')).toBe(true)
    const dispatcher = new Agent({ connect: { ca: certs.ca } })
    const res = await request(`${gateway.url}/x`, { dispatcher })
    const body = (await res.body.json()) as { headers: Record<string, string> }
    expect(res.statusCode).toBe(200)
    expect(body.headers['x-forwarded-proto']).toBe('https')
    await dispatcher.close()
  })

  it('does not fail the handshake for an untrusted client certificate (authn explains it instead)', async () => {
    const dispatcher = new Agent({ connect: { ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey } })
    const res = await request(`${gateway.url}/x`, { dispatcher })
    await res.body.dump()
    expect(res.statusCode).toBe(200)
    await dispatcher.close()
  })
})
