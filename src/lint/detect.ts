import { basename } from 'node:path'
import { tokenizeNginx } from './nginx/parse.js'
import type { ConfigFormat } from './types.js'

/** How much of a file content detection looks at. */
const sniffBytes = 64_000

const apacheSections = new Set(['directory', 'directorymatch', 'files', 'filesmatch', 'location', 'locationmatch', 'virtualhost', 'ifmodule', 'limit', 'limitexcept', 'requireall', 'requireany', 'requirenone'])
const apacheDirectives = new Set(['require', 'order', 'allow', 'deny', 'rewriteengine', 'rewriterule', 'rewritecond', 'authtype', 'satisfy', 'documentroot', 'servername', 'options', 'directoryindex', 'errordocument', 'header', 'setenvif'])
const nginxBlocks = new Set(['server', 'http', 'location', 'upstream', 'events', 'map', 'geo', 'limit_except', 'if', 'types'])

/** Skips an XML declaration, comments and whitespace; true when `<configuration` follows. */
function looksLikeIisXml(text: string): boolean {
  let i = 0
  for (let guard = 0; guard < 1000; guard++) {
    while (i < text.length && ' \t\r\n\ufeff'.includes(text[i])) i++
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i)
      if (end < 0) return false
      i = end + 2
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i)
      if (end < 0) return false
      i = end + 3
    } else {
      return text.startsWith('<configuration', i) && /[\s>/]/.test(text[i + 14] ?? '')
    }
  }
  return false
}

/** First word of each line (lower case), and whether the line opens an Apache section. */
function apacheScore(text: string): number {
  let score = 0
  for (const raw of text.split('\n', 2000)) {
    const line = raw.replace(/^[ \t]+/, '')
    if (line.startsWith('#') || line === '') continue
    const section = /^<\/?([A-Za-z]+)/.exec(line)
    if (section && apacheSections.has(section[1].toLowerCase())) score += 2
    const word = /^([A-Za-z]+)[ \t]/.exec(line)
    if (word && apacheDirectives.has(word[1].toLowerCase()) && !line.trimEnd().endsWith(';') && !line.trimEnd().endsWith('{')) score += 1
  }
  return score
}

/** Block directives and `;`-terminated statements, from nginx's own tokenizer (linear time). */
function nginxScore(text: string): number {
  const { tokens } = tokenizeNginx(text)
  let score = 0
  let first: string | null = null
  for (const t of tokens) {
    if (t.kind === 'word') {
      if (first === null) first = t.value
      continue
    }
    if (t.kind === 'open' && first && nginxBlocks.has(first)) score += 2
    if (t.kind === 'semi' && first) score += 0.25
    first = null
  }
  return score
}

/**
 * Guesses the dialect from the file name, then from the content: `web.config` or an XML
 * `<configuration>` is IIS; `.htaccess`, `httpd.conf`, `apache2.conf` or `<Directory>`-style
 * sections are Apache; `nginx.conf` or `server {`/`location ... {` blocks are nginx.
 * Content checks avoid backtracking regexes: the input is an arbitrary file.
 */
export function detectFormat(file: string, text: string): ConfigFormat | null {
  const name = basename(file).toLowerCase()
  const head = text.slice(0, sniffBytes)
  if (name === 'web.config' || (name.endsWith('.config') && looksLikeIisXml(head))) return 'iis'
  if (name === '.htaccess' || name.endsWith('.htaccess') || name === 'httpd.conf' || name === 'apache2.conf' || name.startsWith('httpd')) return 'apache'
  if (name === 'nginx.conf' || name.startsWith('nginx')) return 'nginx'
  if (looksLikeIisXml(head)) return 'iis'
  const apache = apacheScore(head)
  const nginx = nginxScore(head)
  if (apache === 0 && nginx < 1) return null
  return apache >= nginx ? 'apache' : 'nginx'
}
