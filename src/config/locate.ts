import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml'

/** A position in the config file, 1-based. */
export interface SourcePosition {
  line: number
  col: number
}

/** Renders a schema path as users write it: `routes[0].policies.ip.allow[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/**
 * Finds where a path points in the YAML source. Walks as deep as the document goes, so a
 * missing key is reported at its parent. With `key`, points at that key of the map found
 * (used for unknown keys).
 */
export function locatePath(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): SourcePosition {
  let node: unknown = doc.contents
  let offset = node && (node as Node).range ? (node as Node).range![0] : 0
  const steps = key === undefined ? path : [...path, key]
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]
    const isLast = i === steps.length - 1
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step))
      if (!pair) break
      // Point at the key for unknown keys, at the value otherwise.
      const keyNode = pair.key as Node
      const valueNode = pair.value as Node | null
      if (isLast && key !== undefined) {
        offset = keyNode.range?.[0] ?? offset
        break
      }
      offset = valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset
      node = valueNode
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as Node | undefined
      if (!item) break
      offset = item.range?.[0] ?? offset
      node = item
    } else {
      break
    }
  }
  const pos = lines.linePos(offset)
  return { line: pos.line, col: pos.col }
}
