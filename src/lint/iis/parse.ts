import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Finding } from '../types.js'
import { child, parseXml, type XmlElement } from './xml.js'

/** One configuration scope of a web.config: the file itself or a `<location path>`. */
export interface IisSection {
  /** Path relative to the application, '' for the whole file. */
  path: string
  label: string
  element: XmlElement
  webServer?: XmlElement
  web?: XmlElement
}

/** A parsed web.config. */
export interface IisConfig {
  file: string
  root: XmlElement | null
  sections: IisSection[]
  findings: Finding[]
}

const maxBytes = 2_000_000

/** Splits a parsed document into the root scope and its `<location>` scopes. */
export function buildIisConfig(root: XmlElement | null, file: string, findings: Finding[]): IisConfig {
  const sections: IisSection[] = []
  if (root && root.name !== 'configuration') {
    findings.push({ file, line: root.line, col: root.col, severity: 'error', message: `root element is <${root.name}>, expected <configuration>`, rule: 'iis.parse-error' })
  }
  if (root) {
    sections.push({ path: '', label: 'web.config', element: root, webServer: child(root, 'system.webServer'), web: child(root, 'system.web') })
    for (const loc of root.children.filter((c) => c.name === 'location')) {
      const p = (loc.attrs.path ?? '').replace(/^[~.]?\/+/, '').replace(/\/+$/, '')
      sections.push({ path: p === '.' ? '' : p, label: `<location path="${loc.attrs.path ?? ''}">`, element: loc, webServer: child(loc, 'system.webServer'), web: child(loc, 'system.web') })
    }
  }
  return { file, root, sections, findings }
}

/** Reads and parses a web.config file. */
export function parseIisFile(file: string, displayPath: (abs: string) => string = (p) => p): IisConfig {
  const abs = resolve(file)
  const shown = displayPath(abs)
  if (statSync(abs).size > maxBytes) {
    return buildIisConfig(null, shown, [{ file: shown, line: 1, col: 1, severity: 'error', message: `file is larger than ${maxBytes} bytes; not read`, rule: 'iis.file-too-large' }])
  }
  return parseIisText(readFileSync(abs, 'utf8').replace(/^\uFEFF/, ''), shown)
}

/** Parses web.config text. */
export function parseIisText(text: string, file: string): IisConfig {
  const { root, findings } = parseXml(text, file)
  return buildIisConfig(root, file, findings)
}
