import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { matchWildcard } from './wildcard.js'

/** Expands `*`, `?` and `[...]` per path segment, sorted like glob(3). Bounded to 500 paths. */
export function expandGlob(absPattern: string): string[] {
  const parts = absPattern.split('/')
  let current = [parts[0] === '' ? '/' : parts[0]]
  for (const part of parts.slice(1)) {
    if (part === '') continue
    const next: string[] = []
    for (const dir of current) {
      if (!/[*?[]/.test(part)) {
        const p = join(dir, part)
        if (existsSync(p)) next.push(p)
        continue
      }
      let names: string[] = []
      try {
        names = readdirSync(dir)
      } catch {
        continue
      }
      for (const name of names.sort()) {
        if (name.startsWith('.') && !part.startsWith('.')) continue
        if (matchWildcard(part, name)) next.push(join(dir, name))
      }
    }
    current = next.slice(0, 500)
  }
  return current
}

