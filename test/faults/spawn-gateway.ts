import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { connect } from 'node:net'
import Database from 'better-sqlite3'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** A `gatehouse start` child process, as an operator runs it. */
export interface GatewayProcess {
  child: ChildProcess
  url: string
  port: number
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Parsed JSON log lines from stderr, in order. */
  logs: { msg?: string; level?: number }[]
  /** Resolves with the first log line (past or future) whose `msg` is `msg`, after `after` lines. */
  waitForLog(msg: string, after?: number): Promise<void>
}

/**
 * Spawns `node --import tsx src/cli/main-entry.ts start -c <config> --listen 127.0.0.1:0 --json`
 * from the repo root and resolves once the first stdout line names the listening URL.
 */
export async function spawnGateway(configFile: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main-entry.ts', 'start', '-c', configFile, '--listen', '127.0.0.1:0', '--json'], {
    cwd: repoRoot,
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const logs: GatewayProcess['logs'] = []
  const listeners = new Set<() => void>()
  let pending = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    let newline = pending.indexOf('\n')
    while (newline >= 0) {
      const line = pending.slice(0, newline)
      pending = pending.slice(newline + 1)
      newline = pending.indexOf('\n')
      try {
        logs.push(JSON.parse(line) as { msg?: string })
      } catch {
        logs.push({ msg: line })
      }
    }
    for (const listener of listeners) listener()
  })
  const waitForLog = (msg: string, after = 0) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (logs.slice(after).some((l) => l.msg === msg)) {
        listeners.delete(check)
        resolve()
      }
    }
    listeners.add(check)
    check()
    void exited.then(({ code, signal }) => reject(new Error(`gateway exited (${code ?? signal}) before logging '${msg}'`)))
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const newline = out.indexOf('\n')
      if (newline >= 0) resolve((JSON.parse(out.slice(0, newline)) as { listening: string }).listening)
    })
    void exited.then(({ code, signal }) => reject(new Error(`gateway exited (${code ?? signal}) before listening: ${logs.map((l) => l.msg).join(' | ')}`)))
  })
  return { child, url, port: Number(new URL(url).port), exited, logs, waitForLog }
}

/** Opens a TCP connection and reports whether it was accepted, refused or reset. */
export function tryConnect(port: number): Promise<'accepted' | 'refused' | 'reset'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve('accepted')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'reset'))
  })
}

/** Reads the call log file with a read-only connection, as `gatehouse calls` would. */
export function readCallLog<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return read(db)
  } finally {
    db.close()
  }
}
