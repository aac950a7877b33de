import type { Logger } from '../core/logger.js'
import type { CallRecord } from '../store/types.js'

/** Writes one access-log line per call. */
export type AccessLogWriter = (record: CallRecord) => void

/**
 * One JSON line per call through the process logger, with `log: "access"` so shippers can split
 * it from diagnostics. It carries what an operator greps for and nothing secret: the path
 * without its query string (queries carry tokens more often than one would like), no headers,
 * no bodies, no denial internals (those stay in the call log, behind `gatehouse why`).
 */
export function createAccessLog(logger: Logger): AccessLogWriter {
  const log = logger.child({ log: 'access' })
  return function writeAccessLine(record: CallRecord): void {
    log.info(
      {
        requestId: record.requestId,
        traceId: record.traceId,
        clientIp: record.clientIp,
        method: record.method,
        path: record.path,
        status: record.status,
        route: record.route,
        consumer: record.consumer,
        tenant: record.tenant,
        decision: record.decision,
        layer: record.layer,
        rule: record.rule,
        upstreamStatus: record.upstreamStatus,
        upstreamTarget: record.upstreamTarget,
        upstreamMs: record.upstreamMs,
        totalMs: record.totalMs,
        requestBytes: record.requestBytes,
        responseBytes: record.responseBytes,
      },
      'request',
    )
  }
}
