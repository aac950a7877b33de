// The Node limit: the least a reverse proxy on node:http + undici can do. No routing, no
// policies, no logging; the bench compares Gatehouse to this. Usage: node minimal-proxy.js PORT UPSTREAM_URL
import { createServer } from 'node:http'
import { Pool } from 'undici'

const [port, upstream] = process.argv.slice(2)
const pool = new Pool(upstream, { connections: 128, pipelining: 1 })

createServer((req, res) => {
  pool.dispatch(
    { method: req.method, path: req.url, headers: req.headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
    {
      onRequestStart() {},
      onResponseStart(controller, statusCode, headers) {
        delete headers.connection
        delete headers['keep-alive']
        delete headers['transfer-encoding']
        res.writeHead(statusCode, headers)
        res.on('drain', () => controller.resume())
      },
      onResponseData(controller, chunk) {
        if (!res.write(chunk)) controller.pause()
      },
      onResponseEnd() {
        res.end()
      },
      onResponseError(_controller, error) {
        if (!res.headersSent) res.writeHead(502)
        res.end(String(error))
      },
    },
  )
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'))
