import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'

/** The checkout's root: the nearest folder above this file with a package.json (src/ or dist/ alike). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir)
  return dir
}

/** Debian's chromium (`.ci/run` installs it); `CHROMIUM_PATH` overrides. Playwright's own download cannot run here. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
}

/** Headless chromium with nothing reaching out to the network on its own. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

/** Newest modification time of any file under `dir` (ms). */
function newestUnder(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(path))
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/**
 * Builds the console (`npm run build:console`) when `dist/console/index.html` is missing or
 * older than a file under `console/`. `npm test` builds first, so in CI this only checks.
 */
export function ensureConsoleBuilt(): void {
  const root = packageRoot()
  const index = join(root, 'dist', 'console', 'index.html')
  const sources = join(root, 'console')
  if (existsSync(index) && statSync(index).mtimeMs >= newestUnder(sources)) return
  execFileSync('npm', ['run', 'build:console', '--silent'], { cwd: root, stdio: 'inherit' })
}
