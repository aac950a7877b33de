import type { Finding } from '../types.js'

/*
 * A minimal XML element scanner for web.config, written here because no XML package is a
 * dependency and we need a line:col for every element. It reads elements, attributes,
 * comments, CDATA, processing instructions and a DOCTYPE (skipped: no DTD and no entity
 * expansion beyond the five predefined entities and numeric references, so no entity bombs).
 */

/** An XML element with its attributes and position. */
export interface XmlElement {
  name: string
  attrs: Record<string, string>
  line: number
  col: number
  file: string
  children: XmlElement[]
  /** The start tag as written (truncated), for messages. */
  text: string
}

/** Maximum nesting the scanner accepts. */
const maxDepth = 100

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, e: string) => {
    if (e === 'lt') return '<'
    if (e === 'gt') return '>'
    if (e === 'amp') return '&'
    if (e === 'quot') return '"'
    if (e === 'apos') return "'"
    const code = e.startsWith('#x') ? parseInt(e.slice(2), 16) : Number(e.slice(1))
    return code <= 0x10ffff ? String.fromCodePoint(code) : ''
  })
}

/** Parses XML text into a document root (the first top-level element) plus findings. */
export function parseXml(text: string, file: string): { root: XmlElement | null; findings: Finding[] } {
  const findings: Finding[] = []
  const lineStarts: number[] = [0]
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1)
  const pos = (offset: number) => {
    let lo = 0
    let hi = lineStarts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (lineStarts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, col: offset - lineStarts[lo] + 1 }
  }
  const error = (offset: number, message: string) => {
    const p = pos(offset)
    findings.push({ file, line: p.line, col: p.col, severity: 'error', message, rule: 'iis.parse-error' })
  }
  const roots: XmlElement[] = []
  const stack: XmlElement[] = []
  let i = 0
  while (i < text.length) {
    const lt = text.indexOf('<', i)
    if (lt < 0) break
    i = lt
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4)
      if (end < 0) {
        error(i, 'unterminated comment')
        break
      }
      i = end + 3
      continue
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i)
      if (end < 0) {
        error(i, 'unterminated CDATA section')
        break
      }
      i = end + 3
      continue
    }
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i)
      if (end < 0) {
        error(i, 'unterminated processing instruction')
        break
      }
      i = end + 2
      continue
    }
    if (text.startsWith('<!', i)) {
      // DOCTYPE: skipped whole, internal subset included; entities are never expanded.
      let depth = 0
      let j = i + 2
      for (; j < text.length; j++) {
        if (text[j] === '[') depth++
        else if (text[j] === ']') depth--
        else if (text[j] === '>' && depth <= 0) break
      }
      i = j + 1
      continue
    }
    if (text[i + 1] === '/') {
      const end = text.indexOf('>', i)
      if (end < 0) {
        error(i, 'unterminated end tag')
        break
      }
      const name = text.slice(i + 2, end).trim()
      const open = stack.pop()
      if (!open) error(i, `</${name}> without a start tag`)
      else if (open.name !== name) {
        error(i, `</${name}> closes <${open.name}> opened at line ${open.line}`)
        // Recover: pop until the matching element if it is open.
        const idx = stack.map((e) => e.name).lastIndexOf(name)
        if (idx >= 0) stack.length = idx
        else stack.push(open)
      }
      i = end + 1
      continue
    }
    const start = i
    const nameMatch = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(i, i + 200))
    if (!nameMatch) {
      error(i, 'unexpected "<"')
      i += 1
      continue
    }
    const p = pos(start)
    const el: XmlElement = { name: nameMatch[1], attrs: {}, line: p.line, col: p.col, file, children: [], text: '' }
    i += nameMatch[0].length
    let selfClosing = false
    let closed = false
    while (i < text.length) {
      while (i < text.length && /\s/.test(text[i])) i++
      if (text[i] === '/' && text[i + 1] === '>') {
        selfClosing = true
        closed = true
        i += 2
        break
      }
      if (text[i] === '>') {
        closed = true
        i += 1
        break
      }
      const attr = /^([A-Za-z_][\w.:-]*)\s*=\s*/.exec(text.slice(i, i + 300))
      if (!attr) {
        error(i, `malformed attribute in <${el.name}>`)
        const gt = text.indexOf('>', i)
        i = gt < 0 ? text.length : gt + 1
        closed = gt >= 0
        break
      }
      i += attr[0].length
      const q = text[i]
      if (q !== '"' && q !== "'") {
        error(i, `attribute ${attr[1]} of <${el.name}> is not quoted`)
        const gt = text.indexOf('>', i)
        i = gt < 0 ? text.length : gt + 1
        closed = gt >= 0
        break
      }
      const endQuote = text.indexOf(q, i + 1)
      if (endQuote < 0) {
        error(i, `unterminated value of attribute ${attr[1]}`)
        i = text.length
        break
      }
      el.attrs[attr[1]] = decodeEntities(text.slice(i + 1, endQuote))
      i = endQuote + 1
    }
    if (!closed) {
      error(start, `unterminated start tag <${el.name}>`)
      break
    }
    el.text = text.slice(start, i).replace(/\s+/g, ' ').slice(0, 200)
    const parent = stack[stack.length - 1]
    if (parent) parent.children.push(el)
    else roots.push(el)
    if (!selfClosing) {
      if (stack.length >= maxDepth) {
        error(start, `elements nested deeper than ${maxDepth}`)
        break
      }
      stack.push(el)
    }
  }
  for (const open of stack) {
    findings.push({ file, line: open.line, col: open.col, severity: 'error', message: `<${open.name}> is never closed`, rule: 'iis.parse-error' })
  }
  if (roots.length > 1) error(lineStarts[roots[1].line - 1] + roots[1].col - 1, 'more than one root element')
  return { root: roots[0] ?? null, findings }
}

/** First child element with that name (case-sensitive, as IIS config is). */
export function child(el: XmlElement | null | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name)
}

/** Descends a path of element names. */
export function path(el: XmlElement | null | undefined, ...names: string[]): XmlElement | undefined {
  let cur: XmlElement | undefined = el ?? undefined
  for (const n of names) cur = child(cur, n)
  return cur
}
