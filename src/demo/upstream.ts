import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startFakeProvider, type FakeProvider } from '../ai/fakes/index.js'

/** Path prefix under which the demo API also plays a local model server (an Ollama stand-in). */
export const demoAiPrefix = '/ai-provider'

/**
 * The demo's orders API: enough behaviour to show allowed calls, the gateway's own denials
 * and an upstream's own 403 (under /admin) passed through. Under `/ai-provider` it also relays
 * to a fake OpenAI-compatible model server (from src/ai/fakes, on a free port), so the demo's
 * AI route has a provider without any network or key; it stops when `server` closes.
 */
export async function startDemoUpstream(host = '127.0.0.1', port = 3001): Promise<{ server: Server; url: string }> {
  const model: FakeProvider = await startFakeProvider({ type: 'openai-compatible', behaviour: { reply: 'Hello from the demo model behind Gatehouse. Your prompt stayed on this machine.' } })
  const orders = [{ id: '1', sku: 'tea-001', quantity: 2 }, { id: '2', sku: 'mug-002', quantity: 1 }]
  const server = createServer((req, res) => {
    if ((req.url ?? '').startsWith(`${demoAiPrefix}/`)) return relay(req, res, model.url, (req.url ?? '').slice(demoAiPrefix.length))
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      const path = (req.url ?? '/').split('?')[0]
      if (path === '/health') return send(200, { status: 'ok' })
      if (path.startsWith('/admin')) {
        res.writeHead(403, { 'content-type': 'text/html', server: 'demo-orders' })
        return res.end('<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>Admins only.</p></body></html>')
      }
      if (path === '/orders' && req.method === 'GET') return send(200, orders)
      if (path === '/reports' && req.method === 'GET') return send(200, { period: 'this month', orders: orders.length, items: orders.reduce((n, o) => n + o.quantity, 0) })
      if (path === '/orders' && req.method === 'POST') {
        let input: { sku?: unknown; quantity?: unknown } = {}
        try {
          input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as typeof input
        } catch {
          return send(400, { error: 'invalid JSON' })
        }
        const order = { id: String(orders.length + 1), sku: String(input.sku ?? 'unknown'), quantity: Number(input.quantity ?? 1) }
        orders.push(order)
        return send(201, order)
      }
      const byId = /^\/orders\/([^/]+)$/.exec(path)
      if (byId && req.method === 'GET') {
        const order = orders.find((o) => o.id === byId[1])
        return order ? send(200, order) : send(404, { error: 'no such order' })
      }
      send(404, { error: 'not found' })
    })
  })
  server.on('close', () => void model.close())
  await new Promise<void>((ok, fail) => {
    server.once('error', (error) => {
      void model.close()
      fail(error)
    })
    server.listen(port, host, () => ok())
  })
  const bound = (server.address() as AddressInfo).port
  return { server, url: `http://${host}:${bound}` }
}

/** Pipes a request to the fake model server and its answer (streams included) back. */
function relay(req: IncomingMessage, res: ServerResponse, base: string, path: string): void {
  const target = new URL(path, base)
  const out = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  out.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
    res.end('{"error":"demo model server unavailable"}')
  })
  req.pipe(out)
}
