import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdminState } from '../admin/state.js'
import { openAdminStateStore } from './admin-state.js'
import { createTestSchema, type TestSchema } from './postgres-test-support.js'

const state: AdminState = {
  consumers: [{ name: 'new-app', tenant: 'acme', scopes: ['orders:read'], roles: [], createdAt: 1 }],
  keys: [{ consumer: 'new-app', sha256: 'ab'.repeat(32), fingerprint: 'abababab', createdAt: 2 }],
  subscriptions: [{ id: 7, consumer: 'new-app', api: 'orders-api', state: 'approved', updatedAt: 3 }],
}
const entry = { time: 5, actor: 'token:12345678', role: 'admin', action: 'key.issue', target: 'new-app', detail: { fingerprint: 'abababab' } }

describe.each(['sqlite', 'postgres'])('admin state on %s', (kind) => {
  let schema: TestSchema | undefined
  let url: string
  const baseDir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-state-'))
  beforeAll(async () => {
    if (kind === 'postgres') {
      schema = await createTestSchema()
      url = schema.url()
    } else {
      url = 'sqlite:./state.db'
    }
  })
  afterAll(async () => { await schema?.drop() })

  it('starts empty, then keeps what was saved and the audit log across reopening', async () => {
    const first = openAdminStateStore(url, baseDir)
    expect(await first.load()).toEqual({ consumers: [], keys: [], subscriptions: [] })
    await first.save(state)
    await first.audit(entry)
    await first.audit({ ...entry, time: 6, action: 'key.revoke' })
    await first.close()
    const second = openAdminStateStore(url, baseDir)
    expect(await second.load()).toEqual(state)
    expect((await second.auditLog(10)).map((e) => e.action)).toEqual(['key.revoke', 'key.issue'])
    await second.close()
  })
})
