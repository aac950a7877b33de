import { describe, it, expect } from 'vitest'
import { UsageError } from '../cli/args.js'
import {
  getHeader, isSecretHeader, parseCurlArgs, parseCurlCommand, redactBody, redactUrl, renderCurl, splitShellWords, splitWindowsCmdWords,
  type ReadFile,
} from './curl.js'

const files: Record<string, string> = {
  'body.json': '{"a":1,\n"b":2}\n',
  'raw.bin': 'line1\r\nline2\n',
}
const readFile: ReadFile = (path) => {
  const text = files[path]
  if (text === undefined) throw new Error('ENOENT: no such file')
  return text
}

describe('splitShellWords', () => {
  it('handles single, double and ANSI-C quotes, escapes and line continuations', () => {
    const line = `curl 'https://x.test/a b' \\\n  -H "X-Q: \\"quoted\\" \\$HOME" --data-raw $'{"msg":"it\\'s\\n\\u00e9"}' plain\\ word`
    expect(splitShellWords(line)).toEqual([
      'curl', 'https://x.test/a b', '-H', 'X-Q: "quoted" $HOME', '--data-raw', '{"msg":"it\'s\né"}', 'plain word',
    ])
  })

  it('stops at an unquoted pipe or redirect', () => {
    expect(splitShellWords("curl https://x.test/ -s | jq '.a'")).toEqual(['curl', 'https://x.test/', '-s'])
    expect(splitShellWords('curl https://x.test/ > out.txt')).toEqual(['curl', 'https://x.test/'])
  })

  it('refuses an unterminated quote', () => {
    expect(() => splitShellWords("curl 'https://x.test/")).toThrow(UsageError)
  })
})

describe('parseCurlCommand', () => {
  it('parses a Chrome "Copy as cURL (bash)" command', () => {
    const line = `curl 'https://api.example.com/v1/orders?page=2' \\
  -H 'accept: application/json' \\
  -H 'authorization: Bearer eyJhbGciOi.payload.sig' \\
  -H 'content-type: application/json' \\
  -b 'sessionid=abc123; csrftoken=tok' \\
  -H 'origin: https://app.example.com' \\
  -H 'user-agent: Mozilla/5.0' \\
  --data-raw $'{"note":"don\\'t"}' \\
  --compressed`
    const { request, warnings } = parseCurlCommand(line, readFile)
    expect(request.method).toBe('POST')
    expect(request.url).toBe('https://api.example.com/v1/orders?page=2')
    expect(request.body).toBe('{"note":"don\'t"}')
    expect(request.compressed).toBe(true)
    expect(getHeader(request.headers, 'Cookie')).toBe('sessionid=abc123; csrftoken=tok')
    expect(getHeader(request.headers, 'authorization')).toBe('Bearer eyJhbGciOi.payload.sig')
    expect(getHeader(request.headers, 'content-type')).toBe('application/json')
    expect(warnings).toEqual([])
  })

  it('handles Firefox style --data-raw, -X and --insecure, -A, -e and --url', () => {
    const line = "curl -X PUT --url 'http://h.test/x' -A 'agent/1' -e 'https://ref.test/;auto' --insecure --data-raw 'a=1'"
    const { request } = parseCurlCommand(line, readFile)
    expect(request).toMatchObject({ method: 'PUT', url: 'http://h.test/x', body: 'a=1', insecure: true })
    expect(getHeader(request.headers, 'user-agent')).toBe('agent/1')
    expect(getHeader(request.headers, 'referer')).toBe('https://ref.test/')
    expect(getHeader(request.headers, 'content-type')).toBe('application/x-www-form-urlencoded')
  })

  it('understands curl --json', () => {
    const { request } = parseCurlCommand(`curl --json '{"x":1}' https://h.test/`, readFile)
    expect(request.method).toBe('POST')
    expect(getHeader(request.headers, 'content-type')).toBe('application/json')
    expect(getHeader(request.headers, 'accept')).toBe('application/json')
  })

  it('parses a Chrome "Copy as cURL (cmd)" command for Windows', () => {
    const line = [
      'curl ^"https://api.test/x?a=1^&b=2^" ^',
      '  -H ^"content-type: application/json^" ^',
      '  -H ^"x-path: C:\\dir\\f^" ^',
      '  --data-raw ^"^{^\\^"a^\\^":^\\^"line1^',
      '',
      'line2^\\^"^}^"',
    ].join('\r\n')
    expect(splitWindowsCmdWords(line)).toEqual([
      'curl', 'https://api.test/x?a=1&b=2', '-H', 'content-type: application/json', '-H', 'x-path: C:\\dir\\f', '--data-raw', '{"a":"line1\nline2"}',
    ])
    const { request } = parseCurlCommand(line, readFile)
    expect(request).toMatchObject({ method: 'POST', url: 'https://api.test/x?a=1&b=2', body: '{"a":"line1\nline2"}' })
  })

  it('refuses a command that is not curl', () => {
    expect(() => parseCurlCommand('wget https://h.test/', readFile)).toThrow(/starting with curl/)
  })
})

describe('parseCurlArgs', () => {
  it('takes the URL anywhere and builds Basic auth and cookies', () => {
    const { request } = parseCurlArgs(
      ['-X', 'POST', '-H', 'Content-Type: application/json', 'https://host.test/path', '-d', '{"a":1}', '-b', 'a=b', '-u', 'user:pass'],
      readFile,
    )
    expect(request.url).toBe('https://host.test/path')
    expect(request.body).toBe('{"a":1}')
    expect(getHeader(request.headers, 'authorization')).toBe(`Basic ${Buffer.from('user:pass').toString('base64')}`)
    expect(getHeader(request.headers, 'cookie')).toBe('a=b')
  })

  it('reads -d @file without newlines and --data-binary @file as is', () => {
    expect(parseCurlArgs(['h.test', '-d', '@body.json'], readFile).request.body).toBe('{"a":1,"b":2}')
    expect(parseCurlArgs(['h.test', '--data-binary', '@raw.bin'], readFile).request.body).toBe('line1\r\nline2\n')
    expect(() => parseCurlArgs(['h.test', '-d', '@missing.json'], readFile)).toThrow(/cannot read missing.json/)
  })

  it('joins several -d with & and moves them to the query with -G', () => {
    const { request } = parseCurlArgs(['-G', 'http://h.test/s?x=1', '-d', 'q=a', '--data-urlencode', 'name=a b'], readFile)
    expect(request.method).toBe('GET')
    expect(request.body).toBeUndefined()
    expect(request.url).toBe('http://h.test/s?x=1&q=a&name=a%20b')
  })

  it('accepts -XPOST, bundled flags and -I', () => {
    const { request, warnings } = parseCurlArgs(['-sSLk', '-XPOST', 'http://h.test/'], readFile)
    expect(request.method).toBe('POST')
    expect(request.insecure).toBe(true)
    expect(warnings.join()).toMatch(/never follows redirects/)
    expect(parseCurlArgs(['-I', 'http://h.test/'], readFile).request.method).toBe('HEAD')
  })

  it('guesses http:// and moves URL credentials into Basic auth', () => {
    const { request } = parseCurlArgs(['u:p@h.test:8080/x'], readFile)
    expect(request.url).toBe('http://h.test:8080/x')
    expect(getHeader(request.headers, 'authorization')).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`)
  })

  it.each([
    [['http://h.test/', '--frobnicate'], /unknown curl option --frobnicate/],
    [['http://h.test/', '-F', 'f=@x'], /multipart/],
    [['http://h.test/', 'http://other.test/'], /one URL at a time/],
    [['-H', 'X: y'], /no URL given/],
    [['ftp://h.test/'], /only http and https/],
    [['http://h.test/', '-H'], /needs a value/],
    [['http://h.test/', '-H', 'NoColon'], /not a header/],
    [['http://h.test/', '-H', 'X-Name: 5 €'], /non-Latin-1/],
    [['http://h.test/', '-H', 'Bad Name: x'], /not a valid header name/],
  ])('refuses %j', (args, message) => {
    expect(() => parseCurlArgs(args, readFile)).toThrow(message)
  })
})

describe('redaction and rendering', () => {
  it('knows which headers are secrets', () => {
    for (const name of ['Authorization', 'Cookie', 'X-API-Key', 'x-auth-token', 'X-CSRFToken', 'Ocp-Apim-Subscription-Key']) {
      expect(isSecretHeader(name)).toBe(true)
    }
    for (const name of ['Content-Type', 'Keep-Alive', 'WWW-Authenticate', 'Access-Control-Allow-Headers', 'Origin']) {
      expect(isSecretHeader(name)).toBe(false)
    }
  })

  it('redacts secrets in the curl line but keeps auth schemes and cookie names', () => {
    const line = renderCurl({
      method: 'POST',
      url: 'https://h.test/p?api_key=SECRET1&page=2',
      headers: [['Authorization', 'Bearer SECRET2'], ['Cookie', 'sid=SECRET3; theme=dark'], ['Content-Type', 'application/json']],
      body: '{"user":"ann","password":"SECRET4"}',
      insecure: true,
      compressed: false,
    })
    expect(line).not.toMatch(/SECRET/)
    expect(line).toBe(
      "curl 'https://h.test/p?api_key=<redacted>&page=2' -H 'Authorization: Bearer <redacted>' " +
      "-H 'Cookie: sid=<redacted>; theme=<redacted>' -H 'Content-Type: application/json' " +
      `--data-raw '{"user":"ann","password":"<redacted>"}' -k`,
    )
  })

  it('round-trips through parseCurlCommand when not redacted', () => {
    const request = {
      method: 'DELETE',
      url: 'https://h.test/a?b=c&d=e',
      headers: [['X-Odd', "it's \"odd\" $HOME"], ['Empty', '']] as [string, string][],
      body: 'line1\nline2\t\'q\'',
      insecure: false,
      compressed: true,
    }
    const line = renderCurl(request, { redact: false })
    expect(line).not.toContain('\n')
    expect(parseCurlCommand(line, readFile).request).toEqual({
      ...request,
      headers: [...request.headers, ['Content-Type', 'application/x-www-form-urlencoded']],
    })
  })

  it('redacts form fields and URL userinfo', () => {
    expect(redactBody('user=ann&password=x&token=y', 'application/x-www-form-urlencoded')).toBe('user=ann&password=<redacted>&token=<redacted>')
    expect(redactUrl('https://u:p@h.test/?access_token=abc')).toBe('https://h.test/?access_token=<redacted>')
  })
})
