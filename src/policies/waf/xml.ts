/** What the WAF inspects of an XML body. */
export interface ScannedXml {
  /** `xml.order.note` → text, `xml.order@id` → attribute value, in document order. */
  fields: [string, string][]
  /** The DOCTYPE declaration as written (entity declarations are where XXE lives). */
  doctype?: string
}

const maxDepth = 32
const maxFieldsXml = 4000

/**
 * A tiny linear XML scanner for inspection: element text and attribute values by path. It never
 * expands entities and never processes a DTD (the DOCTYPE is only returned as text for the
 * signatures to look at), so it cannot be made to fetch files or blow up ("billion laughs").
 * Malformed markup is tolerated as far as possible; a body that does not start with `<` is not
 * XML and gives undefined.
 */
export function scanXml(text: string): ScannedXml | undefined {
  let i = 0
  if (text.charCodeAt(0) === 0xfeff) i = 1
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  if (text[i] !== '<') return undefined
  const fields: [string, string][] = []
  const stack: string[] = []
  let doctype: string | undefined
  const textAt = () => `xml.${stack.join('.')}`
  while (i < text.length && fields.length < maxFieldsXml) {
    const lt = text.indexOf('<', i)
    const chunkEnd = lt === -1 ? text.length : lt
    if (chunkEnd > i && stack.length > 0) {
      const value = text.slice(i, chunkEnd).trim()
      if (value.length > 0) fields.push([textAt(), decodeXmlEntities(value)])
    }
    if (lt === -1) break
    if (text.startsWith('<!--', lt)) {
      const close = text.indexOf('-->', lt + 4)
      i = close === -1 ? text.length : close + 3
    } else if (text.startsWith('<![CDATA[', lt)) {
      const close = text.indexOf(']]>', lt + 9)
      const value = text.slice(lt + 9, close === -1 ? text.length : close)
      if (value.trim().length > 0) fields.push([stack.length > 0 ? textAt() : 'xml', value])
      i = close === -1 ? text.length : close + 3
    } else if (text.startsWith('<!', lt)) {
      // DOCTYPE, possibly with an internal subset in [...]: kept as text, never interpreted.
      const bracket = text.indexOf('[', lt)
      const gt = text.indexOf('>', lt)
      let close = gt
      if (bracket !== -1 && gt !== -1 && bracket < gt) {
        const end = text.indexOf(']>', bracket)
        close = end === -1 ? gt : end + 1
      }
      const end = close === -1 ? text.length : close + 1
      doctype = (doctype ?? '') + text.slice(lt, end)
      i = end
    } else if (text.startsWith('<?', lt)) {
      const close = text.indexOf('?>', lt + 2)
      const end = close === -1 ? text.length : close + 2
      const pi = text.slice(lt, end)
      // The XML declaration is routine; any other processing instruction (`<?php`) is inspected.
      if (!/^<\?xml[\s?]/i.test(pi)) fields.push([stack.length > 0 ? textAt() : 'xml', pi])
      i = end
    } else if (text[lt + 1] === '/') {
      const gt = text.indexOf('>', lt)
      stack.pop()
      i = gt === -1 ? text.length : gt + 1
    } else {
      i = readTag(text, lt, stack, fields)
    }
  }
  return { fields, doctype }
}

/** Reads `<name a="1" b='2'>` starting at `<`; pushes the element and its attributes. Returns the index after `>`. */
function readTag(text: string, lt: number, stack: string[], fields: [string, string][]): number {
  let i = lt + 1
  const nameStart = i
  while (i < text.length && !isSpace(text.charCodeAt(i)) && text[i] !== '>' && text[i] !== '/') i++
  const name = text.slice(nameStart, i) || '_'
  const path = `xml.${[...stack, name].join('.')}`
  while (i < text.length) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++
    const c = text[i]
    if (c === '>') {
      if (stack.length < maxDepth) stack.push(name)
      return i + 1
    }
    if (c === '/') {
      const gt = text.indexOf('>', i)
      return gt === -1 ? text.length : gt + 1
    }
    const attrStart = i
    while (i < text.length && text[i] !== '=' && text[i] !== '>' && text[i] !== '/' && !isSpace(text.charCodeAt(i))) i++
    const attr = text.slice(attrStart, i)
    while (i < text.length && isSpace(text.charCodeAt(i))) i++
    if (text[i] !== '=') {
      if (i === attrStart) i++
      continue
    }
    i++
    while (i < text.length && isSpace(text.charCodeAt(i))) i++
    const quote = text[i]
    let value: string
    if (quote === '"' || quote === "'") {
      const close = text.indexOf(quote, i + 1)
      value = text.slice(i + 1, close === -1 ? text.length : close)
      i = close === -1 ? text.length : close + 1
    } else {
      const start = i
      while (i < text.length && !isSpace(text.charCodeAt(i)) && text[i] !== '>') i++
      value = text.slice(start, i)
    }
    if (value.length > 0) fields.push([`${path}@${attr}`, decodeXmlEntities(value)])
  }
  return text.length
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13
}

const predefined = new Map([['lt', '<'], ['gt', '>'], ['amp', '&'], ['quot', '"'], ['apos', "'"]])

/**
 * Decodes the five predefined entities and numeric character references, the way any XML parser
 * would before the application sees the text. Custom entities are left as written: they are never
 * expanded (no DTD processing), which is what keeps XXE and entity bombs out.
 */
export function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) return text
  let out = ''
  let i = 0
  while (i < text.length) {
    const amp = text.indexOf('&', i)
    if (amp === -1) {
      out += text.slice(i)
      break
    }
    out += text.slice(i, amp)
    const semi = text.indexOf(';', amp + 1)
    if (semi === -1 || semi - amp > 12) {
      out += '&'
      i = amp + 1
      continue
    }
    const name = text.slice(amp + 1, semi)
    let decoded = predefined.get(name)
    if (decoded === undefined && name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
      if (Number.isInteger(code) && code >= 0 && code <= 0x10ffff) decoded = String.fromCodePoint(code)
    }
    if (decoded === undefined) {
      out += '&'
      i = amp + 1
    } else {
      out += decoded
      i = semi + 1
    }
  }
  return out
}
