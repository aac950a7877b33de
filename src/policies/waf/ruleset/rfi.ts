import type { Location, Signature } from './types.js'

const params: Location[] = ['query', 'body', 'cookie']

/**
 * Remote file inclusion. URLs are everywhere in legitimate traffic (redirect targets, links, images),
 * so paranoia 1 only flags the tell-tale forms: a URL ending in `?` or NUL (to cut off the suffix the
 * application appends), PHP stream wrappers, and any URL in a parameter that names a file or page
 * to include.
 */
export const rfiSignatures: Signature[] = [
  {
    id: 'rfi-001', family: 'rfi', name: 'URL ending in ? or NUL to cut off an appended suffix', paranoia: 1, severity: 'critical', on: [...params, 'header'],
    match: { op: 'regex', regex: String.raw`^\s*(?:https?|ftps?|smb|ssh2?|sftp|tftp|gopher|dict|ldap)s?\s*:\s*[/\\]{2}[^?\s]+(?:\?+|\x00|%00|#)\s*$` },
    transforms: ['remove_nulls', 'lowercase'],
  },
  {
    id: 'rfi-002', family: 'rfi', name: 'PHP or other stream wrapper (php://, phar://, zip://, expect://, data://)', paranoia: 1, severity: 'critical', on: [...params, 'file', 'header'],
    match: { op: 'regex', regex: String.raw`\b(?:php|phar|zip|zlib|compress\.zlib|compress\.bzip2|expect|glob|ogg|rar|ssh2\.(?:shell|exec|tunnel|sftp|scp)|data)\s*:\s*//|\bdata\s*:\s*(?:text/plain|application/x-php|text/x-php)?\s*;\s*base64\s*,\s*pd9` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'rfi-003', family: 'rfi', name: 'URL in a parameter that names a file, page, template or include', paranoia: 1, severity: 'critical', on: ['file'],
    match: { op: 'regex', regex: String.raw`^\s*(?:(?:https?|ftps?|smb|gopher|dict|tftp|ldap|jar)\s*:\s*)?[/\\]{2}[a-z0-9.\-_\[\]:@]+` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'rfi-004', family: 'rfi', name: 'URL to a script or text file with an include-style tail (shell.txt?, .php?, c99, r57)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`^\s*(?:https?|ftps?)://[^\s]+(?:\.(?:txt|php\d?|phtml|inc|jpg|gif|png)\?[^=&]*$|/(?:c99|r57|b374k|wso|shell|webshell|backdoor|cmd)\.(?:php|txt|asp|aspx|jsp)\b)` },
    transforms: ['lowercase'],
  },
  {
    id: 'rfi-007', family: 'rfi', name: 'URL with an include-style tail or a stream wrapper inside the path', paranoia: 1, severity: 'critical', on: ['path'],
    match: { op: 'regex', regex: String.raw`/(?:(?:https?|ftps?):/{1,2}[^?\s]+(?:\?|\.(?:txt|php\d?|phtml|inc|asp|aspx|jsp)(?:$|\?))|(?:php|phar|zip|expect|data|glob)://)` },
    transforms: ['lowercase'],
  },
  {
    id: 'rfi-005', family: 'rfi', name: 'URL to a bare IP address in a parameter', paranoia: 2, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`^\s*(?:https?|ftps?)://(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?/` },
    transforms: ['lowercase'],
  },
  {
    id: 'rfi-006', family: 'rfi', name: 'Off-site URL in any parameter', paranoia: 4, severity: 'notice', on: params,
    match: { op: 'regex', regex: String.raw`^\s*(?:https?|ftps?)://` },
    transforms: ['lowercase'],
  },
]
