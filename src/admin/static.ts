import { createReadStream, existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Headers of every console response: the built console needs nothing from elsewhere. */
export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
}

/**
 * The package root: the nearest folder above this file holding package.json. This file runs
 * from `dist/admin/` once built and from `src/admin/` under vitest; both are two levels down.
 */
export function packageRoot(from = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir
    dir = dirname(dir)
  }
  return resolve(dirname(fileURLToPath(from)), '..', '..')
}

export const defaultConsoleDir = (): string => join(packageRoot(), 'dist', 'console')

export type StaticHandler = (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<void>

function problem(res: ServerResponse, status: number, title: string, detail: string): void {
  const body = JSON.stringify({ type: `/problems/admin/${title.toLowerCase().replace(/[^a-z]+/g, '-').replace(/-$/, '')}`, title, status, detail })
  res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...consoleSecurityHeaders })
  res.end(body)
}

/** A file under `root`, or undefined for paths that leave it (`..`, encoded or not) or are not files. */
async function fileUnder(root: string, pathname: string): Promise<{ path: string; size: number; mtime: Date } | undefined> {
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return undefined
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined
  const path = resolve(root, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`)
  if (path !== root && !path.startsWith(root + sep)) return undefined
  try {
    const info = await stat(path)
    return info.isFile() ? { path, size: info.size, mtime: info.mtime } : undefined
  } catch {
    return undefined
  }
}

/**
 * Serves the built console from `root` (`dist/console/`): hashed `/assets/*` as immutable,
 * other files as they are, and `index.html` for any other GET/HEAD that accepts HTML (the
 * single-page app routes itself). 503 when the console was not built.
 */
export function createStaticHandler(root: string): StaticHandler {
  const base = resolve(root)
  return async (req, res, pathname) => {
    const index = await fileUnder(base, '/index.html')
    if (!index) return problem(res, 503, 'Console not built', 'console not built: run npm run build')
    const isAsset = pathname.startsWith('/assets/')
    let file = pathname === '/' ? index : await fileUnder(base, pathname)
    if (!file) {
      const wantsHtml = (req.headers.accept ?? '').includes('text/html')
      if (isAsset || !wantsHtml) return problem(res, 404, 'Not found', `No file ${pathname} in the console.`)
      file = index
    }
    const isIndex = file.path === index.path
    res.writeHead(200, {
      'content-type': types[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
      'content-length': file.size,
      // Hashed file names change with their content; index.html must always be fetched fresh.
      'cache-control': isAsset && !isIndex ? 'public, max-age=31536000, immutable' : 'no-cache',
      'last-modified': file.mtime.toUTCString(),
      ...consoleSecurityHeaders,
    })
    if (req.method === 'HEAD') return void res.end()
    const stream = createReadStream(file.path)
    stream.on('error', () => res.destroy())
    stream.pipe(res)
  }
}
