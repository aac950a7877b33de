import { execFileSync } from 'node:child_process'
import { randomBytes, scryptSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bodyDigest, signRequest } from '../src/policies/authn/hmac.js'
import { signSession } from '../src/policies/authn/session.js'
import { startTestGateway, type TestGateway } from '../src/testing/start-gateway.js'
import { startUpstream, type TestUpstream } from '../src/testing/start-upstream.js'

const HMAC_SECRET = 'e2e-hmac-secret-that-is-long-enough-000'
const SESSION_SECRET = 'e2e-session-secret-that-is-long-enough0'

function scryptHash(password: string): string {
  const salt = randomBytes(16)
  return `scrypt$1024$8$1$${salt.toString('base64')}$${scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Record<string, unknown>
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; dispatcher?: Agent } = {}): Promise<Reply> {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body, dispatcher: init.dispatcher })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

describe('authn methods through the real gateway', () => {
  let upstream: TestUpstream
  let authServer: TestUpstream
  let gateway: TestGateway

  beforeAll(async () => {
    upstream = await startUpstream()
    authServer = await startUpstream((_req, res, body) => {
      const token = new URLSearchParams(body.toString()).get('token')
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(token === 'opaque-good' ? { active: true, sub: 'partner', scope: 'orders:read' } : { active: false }))
    })
    gateway = await startTestGateway(
      `
explain: consumer
upstreams: { app: { targets: [ "${upstream.url}" ] } }
consumers:
  - { name: partner, tenant: acme, scopes: [ "orders:read" ] }
routes:
  - name: basic
    match: { path: /basic }
    upstream: app
    policies:
      auth: { methods: [ basic ], basic: { users: [ { username: alice, password: "${scryptHash('wonderland')}", consumer: partner } ] } }
  - name: signed
    match: { path: /signed }
    upstream: app
    policies:
      auth: { methods: [ hmac ], hmac: { keys: [ { id: partner-1, secret: "env:E2E_HMAC_SECRET", consumer: partner } ] } }
  - name: session
    match: { path: /session }
    upstream: app
    policies:
      auth: { methods: [ session ], session: { secret: "env:E2E_SESSION_SECRET" } }
  - name: opaque
    match: { path: /opaque }
    upstream: app
    policies:
      auth: { methods: [ introspection ], introspection: { url: "${authServer.url}/introspect", clientId: gatehouse, clientSecret: "env:E2E_INTROSPECT_SECRET" } }
`,
      { env: { E2E_HMAC_SECRET: HMAC_SECRET, E2E_SESSION_SECRET: SESSION_SECRET, E2E_INTROSPECT_SECRET: 'client-secret' } },
    )
  })
  afterAll(async () => {
    await gateway.close(100)
    await upstream.close()
    await authServer.close()
  })

  it('Basic: 200 with the right password, 401 with the Basic challenge otherwise', async () => {
    const good = await call(`${gateway.url}/basic`, { headers: { authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` } })
    expect(good.status).toBe(200)
    expect(good.headers['gatehouse-decision']).toBe('allow')
    const bad = await call(`${gateway.url}/basic`, { headers: { authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` } })
    expect(bad.status).toBe(401)
    expect(bad.headers['gatehouse-decision']).toBe('authn;rule=basic-invalid')
    expect(bad.headers['www-authenticate']).toBe('Basic realm="gatehouse", charset="UTF-8"')
  })

  it('HMAC: a signed POST reaches the upstream with its body; a body changed after signing does not', async () => {
    const url = new URL(`${gateway.url}/signed?x=1`)
    const body = '{"amount":12}'
    const headers: Record<string, string> = { host: url.host, date: new Date().toUTCString(), digest: bodyDigest(body), 'content-type': 'application/json' }
    const authorization = signRequest({ method: 'POST', target: '/signed?x=1', headers, keyId: 'partner-1', secret: HMAC_SECRET, signedHeaders: ['(request-target)', 'host', 'date', 'digest'] })
    const good = await call(url.href, { method: 'POST', headers: { ...headers, authorization }, body })
    expect(good.status).toBe(200)
    expect(good.body.body).toBe(body)
    const tampered = await call(url.href, { method: 'POST', headers: { ...headers, authorization }, body: '{"amount":1200}' })
    expect(tampered.status).toBe(401)
    expect(tampered.body.rule).toBe('hmac-digest-mismatch')
    expect(tampered.headers['www-authenticate']).toBe('Signature realm="gatehouse",headers="(request-target) host date"')
  })

  it('session: a signed cookie passes, an expired one gets session-expired and a Session challenge', async () => {
    const now = Math.floor(Date.now() / 1000)
    const good = await call(`${gateway.url}/session`, { headers: { cookie: `gh_session=${signSession({ sub: 'partner', exp: now + 60 }, SESSION_SECRET)}` } })
    expect(good.status).toBe(200)
    const old = await call(`${gateway.url}/session`, { headers: { cookie: `gh_session=${signSession({ sub: 'partner', exp: now - 60 }, SESSION_SECRET)}` } })
    expect(old.status).toBe(401)
    expect(old.body.rule).toBe('session-expired')
    expect(old.headers['www-authenticate']).toBe('Session realm="gatehouse"')
  })

  it('introspection: an active token passes, an inactive one is 401 token-inactive', async () => {
    expect((await call(`${gateway.url}/opaque`, { headers: { authorization: 'Bearer opaque-good' } })).status).toBe(200)
    const inactive = await call(`${gateway.url}/opaque`, { headers: { authorization: 'Bearer opaque-revoked' } })
    expect(inactive.status).toBe(401)
    expect(inactive.body.rule).toBe('token-inactive')
    expect(String(inactive.headers['www-authenticate'])).toContain('error="invalid_token"')
  })
})

/** Runs openssl, failing the test with a clear message when it is not installed. */
function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new Error('the mTLS end-to-end test needs the openssl command to make its certificates; install openssl')
    throw new Error(`openssl ${args.join(' ')} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`)
  }
}

/** A CA, a server certificate for 127.0.0.1, a client certificate it signed and a self-signed impostor. */
function makeCertificates(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mtls-'))
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n')
  writeFileSync(join(dir, 'client.ext'), 'subjectAltName=URI:spiffe://example.org/ns/prod/sa/orders\nextendedKeyUsage=clientAuth\n')
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Gatehouse Test CA'])
  openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '2', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'])
  openssl(dir, ['req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/O=Acme/CN=orders-client'])
  openssl(dir, ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '3', '-out', 'client.crt', '-days', '2', '-extfile', 'client.ext'])
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'rogue.key', '-out', 'rogue.crt', '-days', '2', '-subj', '/O=Acme/CN=orders-client'])
  return dir
}

describe('mTLS through the real gateway', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  let dir: string
  const agents: Agent[] = []

  function agentWith(cert?: string): Agent {
    const read = (name: string) => readFileSync(join(dir, name))
    const agent = new Agent({ connect: { ca: read('ca.crt'), ...(cert === undefined ? {} : { cert: read(`${cert}.crt`), key: read(`${cert}.key`) }) } })
    agents.push(agent)
    return agent
  }

  beforeAll(async () => {
    dir = makeCertificates()
    upstream = await startUpstream()
    gateway = await startTestGateway(
      `
tls: { cert: "${join(dir, 'server.crt')}", key: "${join(dir, 'server.key')}", ca: "${join(dir, 'ca.crt')}", requestCert: true }
explain: full
upstreams: { app: { targets: [ "${upstream.url}" ] } }
consumers:
  - { name: orders-svc, tenant: acme, scopes: [ "orders:write" ] }
routes:
  - name: internal
    match: { path: /internal }
    upstream: app
    policies:
      auth: { methods: [ mtls ], mtls: { consumers: [ { san: "URI:spiffe://example.org/ns/prod/sa/orders", subject: "CN=orders-client", consumer: orders-svc } ] } }
`,
    )
  })
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()))
    await gateway?.close(100)
    await upstream?.close()
  })

  it('allows a client certificate issued by the CA and mapped to a consumer', async () => {
    expect(gateway.url.startsWith('https://')).toBe(true)
    const res = await call(`${gateway.url}/internal`, { dispatcher: agentWith('client') })
    expect(res.status).toBe(200)
    expect(res.headers['gatehouse-decision']).toBe('allow')
  })

  it('refuses a self-signed impostor with the same subject as mtls-untrusted', async () => {
    const res = await call(`${gateway.url}/internal`, { dispatcher: agentWith('rogue') })
    expect(res.status).toBe(401)
    expect(res.body.rule).toBe('mtls-untrusted')
    expect(res.headers['www-authenticate']).toBe('Mutual realm="gatehouse"')
    // explain: full shows the stored facts: the TLS layer's reason for refusing the chain.
    expect(res.body.trace).toMatchObject({ authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT', subject: 'O=Acme,CN=orders-client' })
  })

  it('refuses a TLS connection without a certificate as mtls-missing-certificate', async () => {
    const res = await call(`${gateway.url}/internal`, { dispatcher: agentWith() })
    expect(res.status).toBe(401)
    expect(res.body.rule).toBe('mtls-missing-certificate')
  })
})
