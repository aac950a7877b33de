import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs'
import { open, readFile, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/** Options of a spool directory. */
export interface SpoolOptions {
  /** Directory of the spool; created if missing. */
  dir: string
  /** Most bytes kept on disk across all segments; rows beyond it are refused. Default 1 GiB. */
  maxBytes?: number
  /** A segment is closed and a new one started once it reaches this size. Default 8 MiB. */
  segmentBytes?: number
}

/** One closed segment, read back for replay. */
export interface SpoolSegment {
  /** File name inside the spool directory. */
  name: string
  /** Parsed lines, in the order they were written. */
  rows: unknown[]
  /** Lines that could not be parsed (a write torn by a crash or a full disk). */
  unreadable: number
  /** Size of the file. */
  bytes: number
}

/** Outcome of an append. */
export interface SpoolAppendResult {
  /** Rows now on disk (fsync'd). */
  written: number
  /** Rows refused because the spool is at `maxBytes`. */
  refused: number
}

/**
 * A local append-only spool: JSON lines in numbered segment files, each append written and
 * fsync'd as one unit. Rows are only taken out a whole segment at a time: `nextSegment` hands
 * out the oldest, and `remove` deletes it once the caller has committed its rows elsewhere, so
 * a crash at any point leaves every row either on disk or committed (possibly both, which the
 * caller must tolerate).
 *
 * One process owns a directory at a time (a `LOCK` file holding its pid, touched every few
 * seconds). A second live process pointed at the same directory gets its own `instance-<pid>`
 * subdirectory instead of sharing files; whoever next owns the main directory adopts the
 * segments such a subdirectory left behind once its process is gone. A lock whose pid is dead,
 * or that nobody touched for a minute (a pid reused after a container restart), is stale.
 */
export class Spool {
  /** Directory this spool writes to (the configured one, or an `instance-<pid>` under it). */
  readonly dir: string
  private readonly maxBytes: number
  private readonly segmentBytes: number
  private readonly closed: string[] = []
  private current: { name: string; handle: FileHandle; bytes: number } | null = null
  private totalBytes = 0
  private sequence = 0
  private chain: Promise<unknown> = Promise.resolve()
  private isClosed = false
  private readonly heartbeat: NodeJS.Timeout

  /** Opens (creating) the directory, takes its lock and finds segments left by earlier runs. Throws on I/O errors. */
  constructor(options: SpoolOptions) {
    this.maxBytes = Math.max(1, options.maxBytes ?? 1024 ** 3)
    this.segmentBytes = Math.max(1, options.segmentBytes ?? 8 * 1024 ** 2)
    mkdirSync(options.dir, { recursive: true })
    if (takeLock(options.dir)) {
      this.dir = options.dir
      adoptOrphans(options.dir)
    } else {
      this.dir = join(options.dir, `instance-${process.pid}`)
      mkdirSync(this.dir, { recursive: true })
      if (!takeLock(this.dir)) throw new Error(`the spool directory ${this.dir} is locked by another process`)
    }
    for (const name of listSegments(this.dir)) {
      this.closed.push(name)
      this.totalBytes += statSync(join(this.dir, name)).size
    }
    const lock = join(this.dir, lockName)
    this.heartbeat = setInterval(() => {
      try {
        const now = new Date()
        utimesSync(lock, now, now)
      } catch {
        // Lock removed by hand: nothing to keep fresh; close() copes.
      }
    }, lockTouchMs)
    this.heartbeat.unref()
  }

  /** Bytes on disk across all segments. */
  get bytes(): number {
    return this.totalBytes
  }

  /** True when no segment holds rows. */
  get isEmpty(): boolean {
    return this.closed.length === 0 && (this.current === null || this.current.bytes === 0)
  }

  /**
   * Appends rows as JSON lines in one write, then fsyncs. Rows that would take the spool past
   * `maxBytes` are refused (counted, not written). On an I/O error the segment is cut back to
   * its previous length, so no half line is left for the next append to run into, and it throws.
   */
  append(rows: readonly unknown[]): Promise<SpoolAppendResult> {
    return this.serialise(async () => {
      if (this.isClosed) throw new Error('the spool is closed')
      let text = ''
      let textBytes = 0
      let written = 0
      for (const row of rows) {
        const line = `${JSON.stringify(row)}\n`
        const lineBytes = Buffer.byteLength(line, 'utf8')
        if (this.totalBytes + textBytes + lineBytes > this.maxBytes) break
        text += line
        textBytes += lineBytes
        written++
      }
      if (written === 0) return { written: 0, refused: rows.length }
      const segment = await this.openSegment()
      const data = Buffer.from(text, 'utf8')
      try {
        await segment.handle.write(data, 0, data.length, segment.bytes)
        await segment.handle.datasync()
      } catch (error) {
        await segment.handle.truncate(segment.bytes).catch(() => undefined)
        throw error
      }
      segment.bytes += data.length
      this.totalBytes += data.length
      if (segment.bytes >= this.segmentBytes) await this.sealCurrent()
      return { written, refused: rows.length - written }
    })
  }

  /**
   * Reads the oldest segment for replay, closing the one being appended to if it is the only
   * one left (later appends start a new segment). Null when the spool is empty.
   */
  nextSegment(): Promise<SpoolSegment | null> {
    return this.serialise(async () => {
      if (this.closed.length === 0 && this.current && this.current.bytes > 0) await this.sealCurrent()
      const name = this.closed[0]
      if (name === undefined) return null
      const buffer = await readFile(join(this.dir, name))
      const rows: unknown[] = []
      let unreadable = 0
      for (const line of buffer.toString('utf8').split('\n')) {
        if (line.length === 0) continue
        try {
          rows.push(JSON.parse(line) as unknown)
        } catch {
          unreadable++
        }
      }
      return { name, rows, unreadable, bytes: buffer.length }
    })
  }

  /** Deletes a segment returned by `nextSegment`, after its rows were committed. */
  remove(segment: SpoolSegment): Promise<void> {
    return this.serialise(async () => {
      const index = this.closed.indexOf(segment.name)
      if (index < 0) return
      await unlink(join(this.dir, segment.name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
      this.closed.splice(index, 1)
      this.totalBytes = Math.max(0, this.totalBytes - segment.bytes)
    })
  }

  /** Closes the open segment and releases the lock. Segments stay on disk for the next owner. */
  close(): Promise<void> {
    return this.serialise(async () => {
      if (this.isClosed) return
      this.isClosed = true
      clearInterval(this.heartbeat)
      await this.sealCurrent()
      heldLocks.delete(this.dir)
      try {
        unlinkSync(join(this.dir, lockName))
      } catch {
        // Already gone; the next owner checks the pid anyway.
      }
    })
  }

  private async openSegment(): Promise<{ name: string; handle: FileHandle; bytes: number }> {
    if (this.current) return this.current
    // Time first so names sort in write order, then a counter for appends in the same ms,
    // then the pid so adopted segments from another process never collide with ours.
    const name = `${String(Date.now()).padStart(15, '0')}-${String(this.sequence++).padStart(6, '0')}-${process.pid}${segmentSuffix}`
    const handle = await open(join(this.dir, name), 'wx')
    this.current = { name, handle, bytes: 0 }
    return this.current
  }

  private async sealCurrent(): Promise<void> {
    const segment = this.current
    if (!segment) return
    this.current = null
    await segment.handle.close()
    if (segment.bytes > 0) this.closed.push(segment.name)
    else await unlink(join(this.dir, segment.name)).catch(() => undefined)
  }

  /** Runs file operations one at a time, in call order. */
  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work)
    this.chain = next.catch(() => undefined)
    return next
  }
}

const lockName = 'LOCK'
/** How often an owner touches its lock, and after how long without a touch a lock is stale. */
const lockTouchMs = 10_000
const staleLockMs = 60_000
const segmentSuffix = '.jsonl'
const orphanPrefix = 'instance-'

/** Segment files of a directory, oldest first. */
function listSegments(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith(segmentSuffix)).sort()
}

/** True if no other live process holds the directory; writes our pid as the lock. */
function takeLock(dir: string): boolean {
  const file = join(dir, lockName)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      heldLocks.add(dir)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (isHeld(dir)) return false
    // A lock left by a process that is gone: take it over.
    try {
      unlinkSync(file)
    } catch {
      // Someone else removed it first; the retry decides.
    }
  }
  return false
}

/** Directories whose lock this process holds, so a second spool in the same process is kept apart. */
const heldLocks = new Set<string>()

function isHeld(dir: string): boolean {
  let pid: number
  try {
    const file = join(dir, lockName)
    if (Date.now() - statSync(file).mtimeMs > staleLockMs) return false
    pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10)
  } catch {
    return false
  }
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return heldLocks.has(dir)
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Moves segments of `instance-<pid>` subdirectories whose process is gone into `dir`. */
function adoptOrphans(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(orphanPrefix)) continue
    const sub = join(dir, entry.name)
    if (isHeld(sub)) continue
    for (const name of listSegments(sub)) renameSync(join(sub, name), join(dir, name))
    try {
      unlinkSync(join(sub, lockName))
    } catch {
      // No lock file: it died before writing one.
    }
    try {
      rmdirSync(sub)
    } catch {
      // Not empty (something else was put there): leave it.
    }
  }
}
