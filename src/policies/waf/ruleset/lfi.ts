import type { Location, Signature } from './types.js'

const params: Location[] = ['query', 'body', 'cookie', 'header']
// Files an attacker reads first; naming them is suspicious wherever it happens.
const sensitive =
  String.raw`(?:etc/(?:[\w.\-]+/)?(?:passwd|shadow|gshadow|master\.passwd|sudoers|opasswd|spwd\.db|pwd\.db)\b|proc/(?:self|\d+)/(?:environ|cmdline|maps|mem|status|fd|cwd|root|exe)|` +
  String.raw`(?:windows|winnt)[/\\](?:win\.ini|system\.ini|repair[/\\]sam|system32[/\\]config[/\\]sam)|(?:^|[/\\])(?:boot|win|system)\.ini\b|` +
  String.raw`web-inf[/\\](?:web|jboss-web|weblogic|applicationcontext)\.xml|\.htpasswd\b|id_(?:rsa|dsa|ecdsa|ed25519)\b|\.ssh[/\\]authorized_keys|` +
  String.raw`\.aws[/\\]credentials|(?:^|[/\\])autoexec\.bat\b|applicationhost\.config|system32[/\\]drivers[/\\]etc[/\\]hosts)`
// Configuration, logs and system directories: routine in prose ("edit /etc/hosts"), an attack
// when reached by traversal or asked for in a file parameter.
const systemFiles =
  String.raw`(?:etc/(?:hosts|group|issue|motd|crontab|fstab|hostname|resolv\.conf|os-release|environment|profile|bashrc|ssh/|mysql/|apache2?/|nginx/|httpd/|php[\d.]*/|security/)|` +
  String.raw`proc/(?:version|cmdline|mounts|net/|self)|var/(?:log|run|lib|mail|spool|www)/|usr/local/|web-inf[/\\]|meta-inf[/\\]|\.htaccess\b|(?:^|[/\\])\.env\b|` +
  String.raw`\.git[/\\](?:config|head|index)|\.svn[/\\]|\.ssh[/\\]|\.bash_history\b|wp-config\.php\b|config\.inc\.php\b|localsettings\.php\b|configuration\.php\b|` +
  String.raw`web\.config\b|\b(?:access|error)[._]log\b|(?:apache2?|httpd|nginx|lighttpd)[/\\](?:logs?|conf|conf\.d|sites-(?:enabled|available))[/\\]|\bhttpd\.conf\b|\bphp\.ini\b|\bmy\.cnf\b|(?:^|[/\\])(?:inetpub|xampp|wamp)[/\\]|\.docker[/\\]config|(?:^|[/\\])dev/(?:tcp|udp|fd)/?|(?:^|[/\\])(?:root|home/[^/\\]+)[/\\]\.|windows[/\\]system32)`

/**
 * Path traversal and local file inclusion. A single `../` in prose or a relative link is normal,
 * so paranoia 1 wants one of: a traversal that reaches a well-known sensitive file, a traversal in a
 * parameter that names a file (file=, page=, template=, ...), a deep (3+) traversal, an encoded
 * traversal (encoding `..` has no innocent use), or a traversal in the path itself (clients
 * normalise paths before sending, so `/../` there was written by hand).
 */
export const lfiSignatures: Signature[] = [
  {
    id: 'lfi-001', family: 'lfi', name: 'Traversal or absolute path to a sensitive system file', paranoia: 1, severity: 'critical', on: [...params, 'path', 'file'],
    match: { op: 'regex', regex: String.raw`(?:^|[/\\=:;'" ]|\.\.)(?:[a-z]:)?[/\\]*` + sensitive },
    transforms: ['url_decode_iis', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'lfi-010', family: 'lfi', name: 'Traversal to, or file parameter naming, a system file or directory', paranoia: 1, severity: 'critical', on: [...params, 'path', 'file'],
    match: { op: 'regex', regex: String.raw`\.\.[/\\]+(?:[^\s]*[/\\])?` + systemFiles },
    transforms: ['url_decode_iis', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'lfi-011', family: 'lfi', name: 'File parameter naming a system file or directory', paranoia: 1, severity: 'critical', on: ['file'],
    match: { op: 'regex', regex: systemFiles },
    transforms: ['url_decode_iis', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'lfi-002', family: 'lfi', name: 'Traversal in a parameter that names a file, page or template', paranoia: 1, severity: 'critical', on: ['file'],
    match: { op: 'regex', regex: String.raw`(?:^|[/\\])\.{2,}(?:[/\\]|$)|^\s*(?:[a-z]:)?[/\\](?:etc|proc|var|usr|windows|winnt|boot|root|home|tmp|dev|sys|opt|bin|sbin)\b` },
    transforms: ['url_decode_iis', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'lfi-003', family: 'lfi', name: 'Deep directory traversal (three or more ../)', paranoia: 1, severity: 'critical', on: [...params, 'path'],
    match: { op: 'regex', regex: String.raw`(?:\.{2,}[/\\]+){3,}|(?:[/\\]\.{2,}){3,}` },
    transforms: ['url_decode_iis', 'unicode_normalize', 'remove_nulls'],
  },
  {
    id: 'lfi-004', family: 'lfi', name: 'Encoded or obfuscated traversal (%2e%2e, ..%2f, ..%c0%af, ....//, ..;/)', paranoia: 1, severity: 'critical', on: [...params, 'rawpath', 'path', 'file'],
    match: {
      op: 'regex',
      regex: String.raw`(?:%(?:25)*2e|%(?:25)*u002e|%(?:25)*c0%(?:25)*ae|%(?:25)*e0%(?:25)*80%(?:25)*ae|\.)(?:%(?:25)*2e|%(?:25)*u002e|%(?:25)*c0%(?:25)*ae|\.)(?:%(?:25)*2f|%(?:25)*5c|%(?:25)*c0%(?:25)*af|%(?:25)*c1%(?:25)*9c|%(?:25)*u2215|%(?:25)*u2216|%(?:25)*e0%(?:25)*80%(?:25)*af|%(?:25)*ef%(?:25)*bc%(?:25)*8f)|%(?:25)*2e%(?:25)*2e|\.%(?:25)*2e|%(?:25)*2e\.(?:[/\\]|%(?:25)*2f|%(?:25)*5c)|\.{3,}[/\\]{1,2}|\.\.[/\\]{2,}|\.\.;[/\\]|[/\\]\.\.%00|\.\.\\\\?\.\.`,
    },
    transforms: ['lowercase'],
  },
  {
    id: 'lfi-005', family: 'lfi', name: 'Traversal segment in the request path', paranoia: 1, severity: 'critical', on: ['rawpath', 'path'],
    match: { op: 'regex', regex: String.raw`(?:^|[/\\])\.{2,}(?:[/\\]|$)` },
    transforms: ['url_decode_iis', 'remove_nulls'],
  },
  {
    id: 'lfi-006', family: 'lfi', name: 'file:// URI or XML external entity', paranoia: 1, severity: 'critical', on: [...params, 'file'],
    match: { op: 'regex', regex: String.raw`\bfile\s*:\s*/{2,3}[a-z/\\.%]|<!entity\s+[^>]*\b(?:system|public)\b|<!entity\s+%|<!doctype[^>\[]*\[\s*<!entity|\bxi:include\b|<xsl:include\b` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'lfi-007', family: 'lfi', name: 'Traversal followed by a system directory', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`\.\.[/\\]+(?:\.\.[/\\]+)*(?:etc|proc|var|usr|windows|winnt|boot|root|home|tmp|dev|sys|bin|sbin|system32|inetpub|web-inf|meta-inf)(?:[/\\]|$)` },
    transforms: ['url_decode_iis', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'lfi-013', family: 'lfi', name: 'A value that is nothing but an absolute path to a system file or directory', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`^\s*(?:file:/{2,3})?(?:[a-z]:)?[/\\]+(?:[^\s]*[/\\])?` + systemFiles + String.raw`[^\s]*$` },
    transforms: ['url_decode_iis', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'lfi-012', family: 'lfi', name: 'Request for a secrets or source-control file (/.env, /.git/config, backups of config files)', paranoia: 1, severity: 'critical', on: ['path'],
    match: { op: 'regex', regex: String.raw`/\.(?:env(?:\.[a-z]+)?|git/(?:config|head|index|logs/head)|svn/(?:entries|wc\.db)|hg/hgrc|htpasswd|htaccess|aws/credentials|ds_store|bash_history|ssh/id_[a-z0-9]+|npmrc|docker/config\.json)$|/(?:wp-config|config|configuration|settings|database|localsettings)\.(?:php|inc|ini|yml|yaml|json)\.(?:bak|old|orig|save|swp|txt|~)$|/web-inf/|/meta-inf/` },
    transforms: ['lowercase'],
  },
  {
    id: 'lfi-008', family: 'lfi', name: 'Two levels of traversal in any value', paranoia: 2, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`(?:\.{2,}[/\\]+){2,}` },
    transforms: ['url_decode_iis', 'remove_nulls'],
  },
  {
    id: 'lfi-009', family: 'lfi', name: 'Any ../ in a value', paranoia: 3, severity: 'warning', on: params,
    match: { op: 'regex', regex: String.raw`(?:^|[/\\])\.\.[/\\]` },
    transforms: ['url_decode_iis'],
  },
]
