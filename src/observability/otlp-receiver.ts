import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** One span as an OTLP/JSON export carries it, flattened with its resource's service name. */
export interface ReceivedSpan {
  serviceName: string | undefined
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  kind: number
  /** Attribute values unwrapped from their OTLP AnyValue. */
  attributes: Record<string, string | number | boolean>
  status: { code?: number; message?: string }
}

/** A real OTLP/HTTP receiver on 127.0.0.1:0 for tests: collects POST /v1/traces JSON bodies. */
export interface OtlpReceiver {
  /** The traces URL to configure the exporter with. */
  endpoint: string
  /** Every span received so far, in arrival order. */
  spans: ReceivedSpan[]
  /** Raw requests: method, path and headers. */
  requests: { method: string; path: string; headers: Record<string, string | string[] | undefined> }[]
  close(): Promise<void>
}

interface OtlpAnyValue { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean }
interface OtlpKeyValue { key: string; value: OtlpAnyValue }
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] }
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpKeyValue[]; status?: { code?: number; message?: string } }[] }[]
  }[]
}

function unwrap(value: OtlpAnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.boolValue !== undefined) return value.boolValue
  return ''
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const kv of list ?? []) out[kv.key] = unwrap(kv.value)
  return out
}

/** Starts the receiver. It answers 200 `{}` like a collector that accepted everything, or `rejectWith` (spans not kept). */
export async function startOtlpReceiver(options: { rejectWith?: number } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const requests: OtlpReceiver['requests'] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      if (options.rejectWith !== undefined) {
        res.writeHead(options.rejectWith, { 'content-type': 'application/json' }).end('{"code":3,"message":"rejected by test receiver"}')
        return
      }
      let raw = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw)
      const body = JSON.parse(raw.toString('utf8')) as OtlpExport
      for (const rs of body.resourceSpans ?? []) {
        const serviceName = attributesOf(rs.resource?.attributes)['service.name']
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) {
            spans.push({
              serviceName: typeof serviceName === 'string' ? serviceName : undefined,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
              status: span.status ?? {},
            })
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
