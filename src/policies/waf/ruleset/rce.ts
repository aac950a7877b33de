import type { Location, Signature } from './types.js'

const params: Location[] = ['query', 'body', 'cookie', 'header', 'segment', 'path']

// Commands that are not English words: after a shell separator they are an attack whatever follows.
const toolCommands =
  'whoami|uname|wget|curl|ncat|netcat|socat|zsh|ksh|csh|tcsh|busybox|python[23]|nslookup|ifconfig|' +
  'ipconfig|netstat|chmod|chown|chgrp|mkfifo|printenv|base64|xxd|hexdump|crontab|useradd|usermod|nohup|openssl|' +
  'powershell|pwsh|certutil|bitsadmin|mshta|rundll32|regsvr32|cscript|wscript|wmic|systeminfo|tasklist|taskkill|netsh|' +
  'cmd\.exe|whoami\.exe|traceroute|tftp|killall|pkill|gawk|egrep|findstr|systemctl'
// Short tool names that could be a word or an abbreviation in prose: same argument shapes as words, or the end.
const shortCommands = 'nc|sh|ls|pwd|passwd|sudo|telnet|rmdir'
// Commands that are also words ("dog & cat", "| id |" in a markdown table): need an argument shape.
const wordCommands =
  'cat|tac|id|dir|ping|host|dig|ps|kill|rm|mv|cp|touch|mkdir|ln|echo|printf|env|export|head|tail|less|more|awk|sed|grep|' +
  'xargs|od|hostname|su|timeout|scp|ssh|ftp|xterm|service|mount|tar|zip|unzip|gzip|dd|eval|exec|type|find|net|reg|java|node|lua|' +
  'bash|dash|python|perl|ruby|php'
const anyArg = String.raw`(?:\s*$|\s*[;&|\x60)#>}\n]|\s+\S)`
// A command name broken up with quotes or backslashes, which the shell drops: w\ho\am\i, c'a't,
// who""ami. Quotes must come in pairs, so an apostrophe ("it's") is not one.
const obfuscated = String.raw`[a-z]*(?:\\[a-z]+)+|[a-z]*(?:'[a-z]*'|"[a-z]*")+[a-z]*|[a-z]*(?:\$@|\$\{?[a-z0-9_]\}?)[a-z]+`
const toolShape = String.raw`(?:\s*$|\s*[;&|\x60)#>}\n]|\s+[\-+/$~.'"\\%]|\s+\d|\s+[a-z]:|\s+[a-z]+://|\s+[a-z0-9][\w\-]*\.[a-z][\w.\-]*)`
const argShape = String.raw`(?:\s*[;\x60#>]|\s+[+][a-z]|\s+-{1,2}[a-z]|\s+/(?:[a-z.*]|\s|$)|\s+(?:aux|-ef|-an|-tulpn)\b|\s+[^;|&\n>]+>{1,2}\s*[/~.$]|\s+~|\s+\$|\s+\.{1,2}/|\s+\\\\|\s+\d{1,3}(?:\.\d{1,3}){3}|\s+[\w.\-]+/[\w.\-]|\s+[a-z]:\\|\s+%[a-z]|\s*\|\s*(?:${toolCommands}|${shortCommands}|${wordCommands})\b)`
// A backtick counts only when glued to something or opening the value: `ls -la` set in prose
// with spaces around it is Markdown code, x.png`id` is command substitution.
const tick = String.raw`(?:[^\s\x60]\x60|^\s*\x60)`
const separator = String.raw`(?:[;\n\r|]|&&?|\$\(|\|\||${tick})\s*(?:\{|\(|!)?\s*`
const binDir = String.raw`(?:(?:/usr)?(?:/local)?/s?bin/|c:\\windows\\system32\\)?`

/**
 * OS command injection: a shell separator (`;`, `|`, `&&`, `||`, newline, backtick, `$(`) followed
 * by a command in an argument-like shape, so "salt & pepper; cat food" passes while
 * "; cat /etc/passwd" and "| id" do not. Plus shell-only constructs ($IFS, /dev/tcp, brace
 * expansion) and Shellshock.
 */
export const rceSignatures: Signature[] = [
  {
    id: 'rce-001', family: 'rce', name: 'Shell separator followed by a system tool (whoami, wget, curl, bash, ...)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`${separator}${binDir}(?:${toolCommands})${anyArg}|${separator}${binDir}(?:${shortCommands})${toolShape}` },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-002', family: 'rce', name: 'Shell separator followed by a command with arguments (; cat /etc/passwd, | id, ;sleep 5)', paranoia: 1, severity: 'critical', on: params,
    match: {
      op: 'regex',
      regex: String.raw`${separator}${binDir}(?:${wordCommands})${argShape}|(?:[;|\n]|&&|\$\(|${tick})\s*${binDir}(?:id|ls|pwd|whoami|ps|uname|ifconfig|env|hostname|netstat)\s*(?:$|[;&\x60#)])|(?:[;|\n]|&&?|\$\(|${tick})\s*(?:sleep|ping\s+-[nc])\s+\d+\s*(?:$|[;&|\x60#)])`,
    },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-010', family: 'rce', name: 'Shell command hidden with quotes or backslashes (c\'a\'t, w\\ho\\ami)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`${separator}${binDir}(?:${obfuscated})${toolShape}` },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-013', family: 'rce', name: 'Command glued to its separator, or padded with empty variables (a;id|, ;echo x, ;cat$u /etc$u/passwd)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`(?:^|\S)[;|](?:${wordCommands})\s+\w|(?:^|[^\s|])[;|&]\s?${binDir}(?:id|whoami|uname|pwd|ls|ifconfig|netstat|hostname)(?:[;|&\x60)]|$)` },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-014', family: 'rce', name: 'Command name followed directly by a shell variable ($u, ${x}) to break up signatures', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`${separator}${binDir}(?:${toolCommands}|${shortCommands}|${wordCommands})\$(?:\{\w*\}|[a-z_@*]\w*)` },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-003', family: 'rce', name: 'Command substitution running a command: $(...) or backticks', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`\$\(\s*${binDir}(?:${toolCommands}|${shortCommands}|${wordCommands})\b[^)]*\)|${tick}\s*${binDir}(?:${toolCommands}|${shortCommands}|${wordCommands})\b[^\x60]*\x60` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'rce-004', family: 'rce', name: 'Shell-only construct: $IFS, /dev/tcp, brace expansion, reverse shell idioms', paranoia: 1, severity: 'critical', on: params,
    match: {
      op: 'regex',
      regex: String.raw`\$\{?ifs\b|\$\{ifs\}|/dev/(?:tcp|udp)/|\{(?:cat|ls|id|wget|curl|nc|bash|sh|echo|ping),[^}]+\}|\bbash\s+-[ic]\b|\bsh\s+-[ic]\b|\bnc(?:at)?\s+(?:-[a-z]*\s+)*-[a-z]*[ec]\b|\bmkfifo\s+/tmp/|>\s*&\s*/dev/|\b(?:python[23]?|perl|ruby|php)\s+-[erc]\s+['"]|\bcmd(?:\.exe)?\s+/[ck]\s|\bpowershell(?:\.exe)?\s+(?:-[a-z]+\s+)*-(?:enc|encodedcommand|e|c|command|nop|w)\b|\bcertutil(?:\.exe)?\s+-urlcache|\b(?:wget|curl)\s+[^|;]+\|\s*(?:ba)?sh\b|\bchmod\s+\+?[0-7]{3,4}\s|\bchmod\s+\+x\s|/bin/(?:ba)?sh\b|\becho\s+[a-z0-9+/=]{12,}\s*\|\s*base64\s+-d`,
    },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-005', family: 'rce', name: 'Shellshock function definition', paranoia: 1, severity: 'critical', on: [...params, 'ua'],
    match: { op: 'regex', regex: String.raw`\(\s*\)\s*\{[^}]*\}\s*;` },
    transforms: ['url_decode'],
  },
  {
    id: 'rce-006', family: 'rce', name: 'Value starting with a separator then a command (|id, ;ls, &whoami)', paranoia: 1, severity: 'critical', on: ['query', 'body', 'cookie', 'file'],
    match: { op: 'regex', regex: String.raw`^\s*[\w.\-:/@]*(?:\s*(?:[;|\n]|&&?|\|\|)|\x60)\s*${binDir}(?:${toolCommands}|${shortCommands})${toolShape}` },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-007', family: 'rce', name: 'Windows command chain (& dir, | type, && net user)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`(?:&&?|\|\|?)\s*(?:dir\s+[a-z]:|type\s+[a-z]:\\|net\s+(?:user|localgroup|view|share)\b|ipconfig(?:\s+/all)?\b|systeminfo\b|tasklist\b|whoami\b|ver\s*$)` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'rce-011', family: 'rce', name: 'A command as the whole value of a command-like parameter (cmd=id, exec=whoami)', paranoia: 1, severity: 'critical', on: ['command'],
    match: { op: 'regex', regex: String.raw`^\s*${binDir}(?:${toolCommands}|${shortCommands}|${wordCommands}|id|ls|pwd|ps|w|who|uname|ifconfig|env|set|dir|ver)(?:\s|$|;)` },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'rce-012', family: 'rce', name: 'Server-side include directive (<!--#exec cmd=...-->)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`<!--\s*#\s*(?:exec|include|echo|config|printenv|set|fsize|flastmod)\b` },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
  {
    id: 'rce-008', family: 'rce', name: 'Shell separator followed by any word (paranoid)', paranoia: 3, severity: 'warning', on: params,
    match: { op: 'regex', regex: String.raw`(?:;|\|\||&&|\$\(|\x60)\s*[a-z_]{2,}\b` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'rce-009', family: 'rce', name: 'Unix shell paths (/bin/, /usr/bin/)', paranoia: 2, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`(?:^|[\s;|&\x60'"(])/(?:usr/)?s?bin/[a-z]{2,}` },
    transforms: ['url_decode', 'lowercase'],
  },
]
