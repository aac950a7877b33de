import type { IncomingMessage } from 'node:http'
import type { BodyState } from './context.js'

/**
 * Buffers the request body up to `limitBytes`. A declared Content-Length over the limit is
 * refused without reading a byte; a chunked body is cut off as soon as it passes the limit.
 * Bodies are read only for routes whose policies need them; others stream to the upstream.
 */
export function readBodyBounded(req: IncomingMessage, limitBytes: number): Promise<BodyState> {
  const declared = req.headers['content-length']
  if (declared !== undefined) {
    const length = Number(declared)
    if (length === 0) return Promise.resolve({ kind: 'buffered', bytes: Buffer.alloc(0) })
    if (length > limitBytes) return Promise.resolve({ kind: 'too-large', limitBytes, receivedBytes: length })
  } else if (req.headers['transfer-encoding'] === undefined) {
    // No Content-Length and not chunked: HTTP/1.1 says there is no body.
    return Promise.resolve({ kind: 'buffered', bytes: Buffer.alloc(0) })
  }
  return new Promise<BodyState>((resolve) => {
    const chunks: Buffer[] = []
    let received = 0
    let done = false
    const settle = (state: BodyState) => {
      if (done) return
      done = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
      resolve(state)
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received > limitBytes) {
        // Stop buffering; the denial is sent with `Connection: close`.
        req.pause()
        settle({ kind: 'too-large', limitBytes, receivedBytes: received })
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => settle({ kind: 'buffered', bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received) })
    const onError = () => settle({ kind: 'aborted' })
    const onClose = () => { if (!req.complete) settle({ kind: 'aborted' }) }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}
