import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net'
import pg from 'pg'
import type { CallRecord } from './types.js'

/** Where the tests' PostgreSQL listens (trust auth, database `test`). */
export const testPostgres = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' }

/** A schema of its own for one test file, so parallel files never see each other's tables. */
export interface TestSchema {
  name: string
  /** A store URL whose `search_path` is this schema; `port` points it at a proxy. */
  url(port?: number): string
  /** Runs SQL on the real server in this schema. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>
  /** Drops the schema and closes the admin connection. */
  drop(): Promise<void>
}

/** Creates `gh_test_<random>` and returns helpers bound to it. */
export async function createTestSchema(): Promise<TestSchema> {
  const name = `gh_test_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ ...testPostgres })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${name}`)
  await admin.query(`SET search_path = ${name}`)
  return {
    name,
    url(port = testPostgres.port) {
      const options = encodeURIComponent(`-c search_path=${name}`)
      return `postgres://${testPostgres.user}@${testPostgres.host}:${port}/${testPostgres.database}?options=${options}`
    },
    async query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]) {
      return (await admin.query<R>(sql, params)).rows
    },
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
      await admin.end()
    },
  }
}

/** A TCP proxy in front of the real PostgreSQL that a test can take down and bring back. */
export interface TcpProxy {
  port: number
  /** Stops listening and cuts every open connection, like a crashed server or a pulled cable. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

/**
 * Starts a proxy on 127.0.0.1 forwarding to the test PostgreSQL (or `targetPort`, e.g. Redis).
 * `isDown` starts it stopped; `onClientData` sees every byte a client sends (to count
 * statements on the wire).
 */
export async function startTcpProxy(options: { isDown?: boolean; onClientData?: (chunk: Buffer) => void; targetPort?: number } = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let server: Server | null = null
  let port = 0

  function listen(): Promise<void> {
    const next = createServer((client) => {
      const upstream = connect(options.targetPort ?? testPostgres.port, testPostgres.host)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      if (options.onClientData) client.on('data', options.onClientData)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    server = next
    return new Promise((resolveListen, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as AddressInfo).port
        resolveListen()
      })
    })
  }

  async function stop(): Promise<void> {
    const current = server
    server = null
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (current) await new Promise<void>((resolveClose) => current.close(() => resolveClose()))
  }

  await listen()
  if (options.isDown) await stop()
  return {
    get port() {
      return port
    },
    stop,
    start: () => (server ? Promise.resolve() : listen()),
    close: stop,
  }
}

/** A plausible call record; `index` makes the id, time and the filterable fields vary. */
export function makeCallRecord(index: number, baseTime: number, overrides: Partial<CallRecord> = {}): CallRecord {
  const isDenied = index % 4 === 0
  return {
    time: baseTime - index * 1000,
    requestId: `01JTEST${String(index).padStart(10, '0')}`,
    traceId: `trace-${index}`,
    route: ['orders', 'users', 'billing'][index % 3],
    consumer: ['acme', 'globex'][index % 2],
    tenant: index % 5 === 0 ? null : 'acme',
    method: index % 2 ? 'GET' : 'POST',
    path: `/v1/items/${index}`,
    status: isDenied ? 403 : 200,
    decision: isDenied ? 'authz' : 'allow',
    layer: isDenied ? 'authz' : 'upstream',
    rule: isDenied ? 'missing-scope' : null,
    upstreamStatus: isDenied ? null : 200,
    upstreamMs: isDenied ? null : 12.5,
    totalMs: 14.25,
    requestBytes: 100 + index,
    responseBytes: 2000 + index,
    clientIp: '203.0.113.7',
    upstreamTarget: isDenied ? null : 'http://127.0.0.1:3001',
    trail: [{ layer: 'authz', result: isDenied ? 'deny' : 'allow', ms: 0.1 }],
    denial: isDenied ? { message: 'Missing required scope', remediation: 'Grant orders:write.' } : null,
    ...overrides,
  }
}
