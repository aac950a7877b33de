import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from './postgres.js'
import { createTestSchema, makeCallRecord, type TestSchema } from './postgres-test-support.js'
import { createSqliteStore } from './sqlite.js'
import type { AiCallFacts, CallLogStore, CallRecord } from './types.js'

const facts: AiCallFacts = {
  provider: 'claude',
  model: 'claude-3-5-haiku',
  requested: 'fast',
  promptTokens: 12,
  completionTokens: 30,
  totalTokens: 42,
  estimated: false,
  costUsd: 0.000123,
  firstByteMs: 51.25,
  stream: true,
  operation: 'chat',
  fallbacks: 1,
}

/** The AI facts of a call (migration 002-ai) read back the same from SQLite and PostgreSQL. */
describe('AI call facts in the call log', () => {
  let dir: string
  let schema: TestSchema
  const stores: [string, CallLogStore][] = []
  const time = Date.UTC(2026, 0, 15, 12)
  const ai: CallRecord = makeCallRecord(1, time, { requestId: '01JAITEST0000000000000001', route: 'ai', ai: facts })
  const plain: CallRecord = makeCallRecord(2, time, { requestId: '01JAITEST0000000000000002' })
  // Whatever a caller slips into the facts, only the known fields are stored.
  const dirty = makeCallRecord(3, time, { requestId: '01JAITEST0000000000000003', ai: { ...facts, costUsd: null, totalTokens: Number.NaN, key: 'sk-leak' } as AiCallFacts })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-ai-facts-'))
    schema = await createTestSchema()
    stores.push(['sqlite', createSqliteStore(join(dir, 'calls.db'), { batchMs: 5 })])
    stores.push(['postgres', createPostgresStore(schema.url(), { spoolDir: join(dir, 'spool'), batchMs: 5, onProblem: () => undefined })])
    for (const [, store] of stores) {
      for (const record of [ai, plain, dirty]) store.append(record)
      await store.flush()
    }
  })

  afterAll(async () => {
    for (const [, store] of stores) await store.close()
    await schema.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each(['sqlite', 'postgres'])('%s: get and query return the facts of an AI call', async (name) => {
    const store = stores.find(([n]) => n === name)![1]
    expect((await store.get(ai.requestId))?.ai).toEqual(facts)
    const listed = await store.query({ route: 'ai' })
    expect(listed.map((r) => r.ai)).toEqual([facts])
  })

  it.each(['sqlite', 'postgres'])('%s: a call without AI facts reads back without the member', async (name) => {
    const store = stores.find(([n]) => n === name)![1]
    const row = await store.get(plain.requestId)
    expect(row).not.toBeNull()
    expect('ai' in row!).toBe(false)
  })

  it.each(['sqlite', 'postgres'])('%s: stores only the known fields, each of its kind', async (name) => {
    const store = stores.find(([n]) => n === name)![1]
    const row = await store.get(dirty.requestId)
    expect(row?.ai).toEqual({ ...facts, costUsd: null, totalTokens: 0 })
    expect(JSON.stringify(row)).not.toContain('sk-leak')
  })
})
