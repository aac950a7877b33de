import { describe, expect, it } from 'vitest'
import type { TestGateway } from '../../src/testing/start-gateway.js'
import type { TestUpstream } from '../../src/testing/start-upstream.js'
import { problemOf, sendRaw, useHostileGateway } from './raw-http.js'

// Credentials are the headers most worth attacking: invalid UTF-8, huge or duplicated values
// must end in an explained 401, never a 500 or a request the upstream sees.

let upstream: TestUpstream
let gateway: TestGateway

useHostileGateway((started) => ({ gateway, upstream } = started), { checkAfterEach: true })

const keyedGet = (headers: string) => `GET /keyed/x HTTP/1.1\r\nHost: x\r\n${headers}\r\n`

describe('hostile credentials', () => {
  it('accepts the right key, so the refusals below are about the bytes', async () => {
    const out = await sendRaw(gateway.port, keyedGet('X-API-Key: good-key\r\n'), { responses: 1 })
    expect(out.responses[0].status).toBe(200)
  })

  it.each([
    ['an API key of invalid UTF-8', 'X-API-Key: \xff\xfe\xc0\xae\r\n'],
    ['an API key with the right key plus a trailing byte >= 0x80', 'X-API-Key: good-key\xe9\r\n'],
    ['an 8 KiB API key', `X-API-Key: ${'k'.repeat(8192)}\r\n`],
    ['two API keys, the first one right', 'X-API-Key: good-key\r\nX-API-Key: other\r\n'],
    ['a Bearer token of invalid UTF-8', 'Authorization: Bearer \xff\xfe.\xc0\xae.\x80\r\n'],
    ['a Bearer token of three empty parts', 'Authorization: Bearer ..\r\n'],
    ['a Bearer token whose header is JSON with a huge number', `Authorization: Bearer ${Buffer.from('{"alg":"HS256","exp":1e999}').toString('base64url')}.e30.x\r\n`],
    ['a Bearer token with alg none', `Authorization: Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"good"}').toString('base64url')}.\r\n`],
    ['an Authorization header with no credentials', 'Authorization: Bearer\r\n'],
    ['an ApiKey scheme with invalid UTF-8', 'Authorization: ApiKey \xff\r\n'],
  ])('refuses %s with an explained 401', async (_name, headers) => {
    const before = upstream.requests.length
    const out = await sendRaw(gateway.port, keyedGet(headers), { responses: 1 })
    expect(out.responses[0].status).toBe(401)
    expect(problemOf(out.responses[0])).toMatchObject({ status: 401, layer: 'authn' })
    expect(out.responses[0].headers['www-authenticate']).toBeDefined()
    expect(upstream.requests.length).toBe(before)
  })

  it('never echoes a hostile credential into the problem body or headers', async () => {
    const out = await sendRaw(gateway.port, keyedGet('X-API-Key: <script>alert(1)</script>\r\n'), { responses: 1 })
    expect(out.text).not.toContain('<script>')
  })
})
