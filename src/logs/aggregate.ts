import { HeavyHitters } from './heavy-hitters.js'
import { buildClusters, causeKeyOf, type CauseSlot } from './clusters.js'
import { findSpikes } from './spikes.js'
import type { FileReport, LogFormat, LogRecord } from './types.js'

/** Size of each top-list sketch; top lists report 10 of these. */
export const topCapacity = 256
/** Most distinct minutes kept for spike detection (about 69 days of per-minute buckets). */
export const maxMinutes = 100_000
/** Most distinct path prefixes remembered with the methods that succeeded on them. */
export const maxPrefixes = 4096
/** Distinct 403 paths from one client that make it look like a scanner. */
export const scannerPaths = 20

/** Per-client payload: hashes of distinct 403 paths, capped at `scannerPaths`. */
export interface ClientSlot {
  paths: Set<number>
}

/** FNV-1a: a cheap 32-bit hash so distinct-path sets hold numbers, not strings. */
export function hashString(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The first one or two path segments (`/api/orders/*`): wide enough to group one endpoint's
 * ids together, narrow enough to keep endpoints apart.
 */
export function pathPrefix(path: string): string {
  const second = path.indexOf('/', 1)
  if (second === -1) return path
  const third = path.indexOf('/', second + 1)
  if (third === -1) return path
  return third === path.length - 1 ? path.slice(0, third) : `${path.slice(0, third)}/*`
}

function isClusterStatus(status: number | null): boolean {
  return status === 401 || status === 403 || status === 429
}

/**
 * Accumulates one file's records into its report in bounded memory: exact status counts,
 * heavy-hitter sketches for top lists and clusters, a capped per-minute histogram.
 */
export class FileAggregator {
  lines = 0
  records = 0
  skipped = 0
  private readonly status = { '401': 0, '403': 0, '429': 0 }
  private readonly paths = new HeavyHitters(topCapacity)
  private readonly clients = new HeavyHitters<ClientSlot>(topCapacity)
  private readonly forwarded = new HeavyHitters(topCapacity)
  private readonly methods = new HeavyHitters(topCapacity)
  private readonly rules = new HeavyHitters(topCapacity)
  private readonly substatus = new HeavyHitters(topCapacity)
  private readonly causes = new HeavyHitters<CauseSlot>(topCapacity)
  private readonly minutes = new Map<string, { total: number; denied: number }>()
  /** prefix → methods that got a 2xx/3xx there; tells "this method is refused" from "everything is". */
  private readonly okMethods = new Map<string, Set<string>>()

  constructor(readonly file: string, public format: LogFormat | 'unknown') {}

  /** Adds one record. */
  add(record: LogRecord): void {
    this.records++
    const status = record.status
    if (record.minute !== null) {
      let bucket = this.minutes.get(record.minute)
      if (bucket === undefined && this.minutes.size < maxMinutes) {
        bucket = { total: 0, denied: 0 }
        this.minutes.set(record.minute, bucket)
      }
      if (bucket !== undefined) {
        bucket.total++
        if (status === 403) bucket.denied++
      }
    }
    if (status !== null && status >= 200 && status < 400 && record.path !== null && record.method !== null) {
      const prefix = pathPrefix(record.path)
      let methods = this.okMethods.get(prefix)
      if (methods === undefined && this.okMethods.size < maxPrefixes) {
        methods = new Set()
        this.okMethods.set(prefix, methods)
      }
      if (methods !== undefined && methods.size < 16) methods.add(record.method)
      return
    }
    if (status === 401) this.status['401']++
    else if (status === 429) this.status['429']++
    else if (status === 403) {
      this.status['403']++
      if (record.path !== null) this.paths.add(record.path)
      if (record.client !== null) {
        const slot = this.clients.add(record.client)
        if (slot.payload === undefined) slot.payload = { paths: new Set() }
        if (record.path !== null && slot.payload.paths.size < scannerPaths) slot.payload.paths.add(hashString(record.path))
      }
      if (record.forwardedClient !== null) this.forwarded.add(record.forwardedClient)
      if (record.method !== null) this.methods.add(record.method)
      for (const rule of record.rules) this.rules.add(rule)
      if (record.substatus !== null) this.substatus.add(record.substatus)
    }
    if (isClusterStatus(status) || (status === null && record.cause !== null && record.cause !== 'modsec:warning')) {
      const key = causeKeyOf(record)
      const slot = this.causes.add(key)
      if (slot.payload === undefined) {
        slot.payload = { status, example: record.path, client: record.client, message: record.message, win32: record.win32Status, clients: new Set(), methods: new Set() }
      }
      if (record.client !== null && slot.payload.clients.size < 8) slot.payload.clients.add(record.client)
      if (record.method !== null && slot.payload.methods.size < 8) slot.payload.methods.add(record.method)
      if (slot.payload.message === null && record.message !== null) slot.payload.message = record.message
    }
  }

  /** Builds the SPEC §3 report. `withForwarded` adds the forwardedClient top list. */
  report(withForwarded: boolean): FileReport {
    const top403: FileReport['top403'] = {
      path: this.paths.top(),
      client: this.clients.top(),
      method: this.methods.top(),
      rule: this.rules.top(),
      substatus: this.substatus.top(),
    }
    if (withForwarded || this.forwarded.total > 0) top403.forwardedClient = this.forwarded.top()
    return {
      file: this.file,
      format: this.format,
      lines: this.lines,
      records: this.records,
      skipped: this.skipped,
      status: { ...this.status },
      top403,
      spikes: findSpikes(this.minutes),
      clusters: buildClusters({
        format: this.format,
        causes: this.causes.entries(64),
        clients: this.clients.entries(64),
        okMethods: this.okMethods,
        denied403: this.status['403'],
      }),
    }
  }

  /** Distinct keys held across all sketches: bounded whatever the input (for tests). */
  heldKeys(): number {
    return this.paths.size + this.clients.size + this.forwarded.size + this.methods.size + this.rules.size + this.substatus.size + this.causes.size + this.minutes.size + this.okMethods.size
  }
}
