import { randomBytes, scryptSync } from 'node:crypto'
import { hash as argon2Hash } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { hashKey } from '../../core/keys.js'
import { fakeClock } from '../../testing/fake-clock.js'
import { makeContext } from '../../testing/make-context.js'
import type { Allow, Deny, PolicyDeps, Verdict } from '../define.js'
import { hashPassword, tryParsePasswordHash, verifyPassword } from './basic.js'
import { authnPolicy } from './index.js'
import { AuthnConfig } from './schema.js'
import { allowOf as allowed, denialOf as denied } from '../../testing/verdicts.js'

/** A cheap scrypt hash (N=1024) so the suite stays fast; production hashes use N=16384. */
function cheapScrypt(password: string): string {
  const salt = randomBytes(16)
  return `scrypt$1024$8$1$${salt.toString('base64')}$${scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`
}

function basicHeader(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` }
}

function makeDeps(clock = fakeClock()): PolicyDeps {
  return {
    clock,
    consumers: [
      { name: 'acme-app', tenant: 'acme', keyHashes: [hashKey('acme-key')], scopes: ['orders:read'] },
      { name: 'ops', keyHashes: [], scopes: ['admin'] },
    ],
    routeName: 'orders',
    shared: new Map(),
    env: {},
  }
}

describe('password hashes', () => {
  it('verifies scrypt, bcrypt and argon2id hashes and refuses wrong passwords', async () => {
    const hashes = [cheapScrypt('s3cret'), await bcrypt.hash('s3cret', 4), await argon2Hash('s3cret', { memoryCost: 256, timeCost: 1 })]
    for (const encoded of hashes) {
      const parsed = tryParsePasswordHash(encoded)
      if (!parsed.ok) throw new Error(parsed.message)
      expect(await verifyPassword(parsed.hash, 's3cret')).toBe(true)
      expect(await verifyPassword(parsed.hash, 's3cret ')).toBe(false)
    }
  })

  it('hashPassword makes a scrypt hash the basic method accepts', async () => {
    const encoded = await hashPassword('correct horse')
    expect(encoded).toMatch(/^scrypt\$16384\$8\$1\$/)
    const parsed = tryParsePasswordHash(encoded)
    expect(parsed.ok && (await verifyPassword(parsed.hash, 'correct horse'))).toBe(true)
  })

  it.each([
    ['plain-password', 'plain passwords are not accepted'],
    ['scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', 'power of two'],
    ['scrypt$1024$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==', 'salt must be at least 8 bytes'],
    ['scrypt$1024$8', 'expected scrypt$N$r$p'],
  ])('refuses the stored hash %j', (encoded, message) => {
    const parsed = tryParsePasswordHash(encoded)
    expect(parsed.ok).toBe(false)
    expect(!parsed.ok && parsed.message).toContain(message)
  })
})

describe('authn policy: HTTP Basic', () => {
  let config: AuthnConfig
  beforeAll(async () => {
    config = AuthnConfig.parse({
      methods: ['basic'],
      basic: {
        users: [
          { username: 'alice', password: cheapScrypt('wonderland'), consumer: 'acme-app' },
          { username: 'bob', password: await bcrypt.hash('builder', 4), consumer: 'ops' },
          { username: 'carol', password: await argon2Hash('c4rol!', { memoryCost: 256, timeCost: 1 }), consumer: 'ops' },
        ],
      },
    })
  })

  it("allows a user with the right password as the user's consumer", async () => {
    const evaluate = authnPolicy.compile(config, makeDeps())
    const verdict = allowed(await evaluate(makeContext({ headers: basicHeader('alice', 'wonderland') })))
    expect(verdict.identity).toEqual({ consumer: 'acme-app', tenant: 'acme', method: 'basic', scopes: ['orders:read'], claims: { username: 'alice' } })
    expect(allowed(await evaluate(makeContext({ headers: basicHeader('bob', 'builder') }))).identity?.consumer).toBe('ops')
    expect(allowed(await evaluate(makeContext({ headers: basicHeader('carol', 'c4rol!') }))).identity?.consumer).toBe('ops')
  })

  it('answers a repeated good login from memory, synchronously, until cacheSeconds pass', async () => {
    const clock = fakeClock()
    const evaluate = authnPolicy.compile(config, makeDeps(clock))
    const ctx = () => makeContext({ headers: basicHeader('alice', 'wonderland') })
    expect(evaluate(ctx())).toBeInstanceOf(Promise)
    await evaluate(ctx())
    const hot = evaluate(ctx())
    expect(hot).not.toBeInstanceOf(Promise)
    expect(allowed(hot as Verdict).identity?.consumer).toBe('acme-app')
    clock.advance(61_000)
    expect(evaluate(ctx())).toBeInstanceOf(Promise)
  })

  it('denies a wrong password with basic-invalid, a Basic challenge and no password anywhere', async () => {
    const evaluate = authnPolicy.compile(config, makeDeps())
    const denial = denied(await evaluate(makeContext({ headers: basicHeader('alice', 'not-wonderland') })))
    expect(denial.rule).toBe('authn.basic-invalid')
    expect(denial.status).toBe(401)
    expect(denial.detail).toMatchObject({ username: 'alice', reason: 'wrong-password' })
    expect(denial.headers).toEqual({ 'www-authenticate': 'Basic realm="gatehouse", charset="UTF-8"' })
    expect(JSON.stringify(denial)).not.toContain('not-wonderland')
    // Failures are not remembered: the next try is checked again.
    expect(evaluate(makeContext({ headers: basicHeader('alice', 'not-wonderland') }))).toBeInstanceOf(Promise)
  })

  it('spends a password check on unknown users too, and tells them the same thing', async () => {
    const evaluate = authnPolicy.compile(config, makeDeps())
    const pending = evaluate(makeContext({ headers: basicHeader('mallory', 'guess') }))
    expect(pending).toBeInstanceOf(Promise)
    const unknown = denied(await pending)
    const wrong = denied(await evaluate(makeContext({ headers: basicHeader('alice', 'guess') })))
    expect(unknown.rule).toBe('authn.basic-invalid')
    expect(unknown.detail?.reason).toBe('unknown-user')
    expect(unknown.message).toBe(wrong.message)
  })

  it.each([
    ['not base64', 'Basic !!!'],
    ["no ':' between user name and password", `Basic ${Buffer.from('alice').toString('base64')}`],
    ['not UTF-8', `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`],
    ['control characters', `Basic ${Buffer.from('alice:pw\n').toString('base64')}`],
    ['empty', 'Basic'],
  ])('denies credentials that are %s with basic-malformed', async (reason, header) => {
    const evaluate = authnPolicy.compile(config, makeDeps())
    const denial = denied(await evaluate(makeContext({ headers: { authorization: header } })))
    expect(denial.rule).toBe('authn.basic-malformed')
    expect(denial.status).toBe(401)
    expect(denial.detail?.reason).toBe(reason)
  })

  it('uses the configured realm and offers Basic when nothing is sent', async () => {
    const custom = AuthnConfig.parse({ methods: ['key', 'basic'], basic: { realm: 'Orders API', users: config.basic?.users } })
    const denial = denied(await authnPolicy.compile(custom, makeDeps())(makeContext()))
    expect(denial.rule).toBe('authn.missing-credentials')
    expect(denial.headers?.['www-authenticate']).toBe('ApiKey realm="gatehouse", Basic realm="Orders API", charset="UTF-8"')
  })

  it('refuses to load when a user maps to an unknown consumer', () => {
    const bad = AuthnConfig.parse({ methods: ['basic'], basic: { users: [{ username: 'x', password: config.basic?.users[0].password, consumer: 'nobody' }] } })
    expect(() => authnPolicy.compile(bad, makeDeps())).toThrow(/basic\.users\[0\]\.consumer names consumer 'nobody'/)
  })
})

describe('basic config', () => {
  const hash = cheapScrypt('pw')
  it.each([
    [{ methods: ['basic'] }, ['methods'], "methods includes 'basic', so give basic options"],
    [{ methods: ['key'], basic: { users: [{ username: 'a', password: hash, consumer: 'c' }] } }, ['basic'], "basic options are set but methods does not include 'basic'"],
    [{ methods: ['basic'], basic: { users: [] } }, ['basic', 'users'], 'Too small'],
    [{ methods: ['basic'], basic: { users: [{ username: 'a', password: 'hunter2', consumer: 'c' }] } }, ['basic', 'users', 0, 'password'], 'plain passwords are not accepted'],
    [{ methods: ['basic'], basic: { users: [{ username: 'a:b', password: hash, consumer: 'c' }] } }, ['basic', 'users', 0, 'username'], "cannot contain ':'"],
    [{ methods: ['basic'], basic: { users: [{ username: 'a', password: hash, consumer: 'c' }, { username: 'a', password: hash, consumer: 'c' }] } }, ['basic', 'users', 1, 'username'], "user 'a' is listed twice"],
    [{ methods: ['basic'], basic: { realm: 'say "hi"', users: [{ username: 'a', password: hash, consumer: 'c' }] } }, ['basic', 'realm'], 'without quotes'],
    [{ methods: ['basic'], basic: { users: [{ username: 'a', password: hash, consumer: 'c', role: 'x' }] } }, ['basic', 'users', 0], 'Unrecognized key: "role"'],
  ])('refuses %j', (raw, path, message) => {
    const result = AuthnConfig.safeParse(raw)
    expect(result.success).toBe(false)
    const issue = result.error?.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path))
    expect(issue, JSON.stringify(result.error?.issues)).toBeDefined()
    expect(issue?.message).toContain(message)
  })

  it('marks password hashes as secret for redaction', () => {
    const users = AuthnConfig.shape.basic.unwrap().shape.users
    expect(users.element.shape.password.meta()?.secret).toBe(true)
  })
})

describe('basic parsing of hostile input', () => {
  it('refuses arbitrary Authorization: Basic values as malformed or invalid, never throwing', async () => {
    const config = AuthnConfig.parse({ methods: ['basic'], basic: { users: [{ username: 'alice', password: cheapScrypt('pw'), consumer: 'acme-app' }] } })
    const evaluate = authnPolicy.compile(config, makeDeps())
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const verdict = await evaluate(makeContext({ headers: { authorization: `Basic ${text}` } }))
        expect(verdict.kind).toBe('deny')
        expect(['authn.basic-malformed', 'authn.basic-invalid']).toContain(verdict.kind === 'deny' ? verdict.denial.rule : '')
      }),
      { numRuns: 100 },
    )
  })
})

describe('basic under a flood of guesses', () => {
  it('refuses checks beyond maxConcurrentChecks with 503 basic-busy, while cached users still get in', async () => {
    const clock = fakeClock()
    const config = AuthnConfig.parse({ methods: ['basic'], basic: { maxConcurrentChecks: 2, users: [{ username: 'alice', password: cheapScrypt('pw'), consumer: 'acme-app' }] } })
    const evaluate = authnPolicy.compile(config, makeDeps(clock))
    await evaluate(makeContext({ headers: basicHeader('alice', 'pw') }))
    const guesses = [1, 2].map((i) => evaluate(makeContext({ headers: basicHeader('alice', `guess-${i}`) })))
    const busy = denied(await evaluate(makeContext({ headers: basicHeader('alice', 'guess-3') })))
    expect(busy.rule).toBe('authn.basic-busy')
    expect(busy.status).toBe(503)
    expect(busy.headers?.['retry-after']).toBeDefined()
    expect(allowed(await evaluate(makeContext({ headers: basicHeader('alice', 'pw') }))).identity?.consumer).toBe('acme-app')
    for (const guess of await Promise.all(guesses)) expect(denied(guess).rule).toBe('authn.basic-invalid')
    // Once the running checks finish, new ones are accepted again.
    expect(denied(await evaluate(makeContext({ headers: basicHeader('alice', 'guess-4') }))).rule).toBe('authn.basic-invalid')
  })
})
