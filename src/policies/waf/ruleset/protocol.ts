import type { Signature } from './types.js'

/**
 * Protocol anomalies that get past Node's HTTP parser (which already refuses CL+TE conflicts,
 * bare CR/LF in headers and a missing Host). Most are byte or count checks done in inputs.ts
 * (`native`); header injection is a pattern. A body that does not parse as its declared type is
 * only a warning: it adds to the score without blocking alone.
 */
export const protocolSignatures: Signature[] = [
  { id: 'protocol-001', family: 'protocol', name: 'NUL byte in the path, a parameter, a header or a cookie', paranoia: 1, severity: 'critical', on: [], match: { op: 'native', check: 'nul-byte' } },
  { id: 'protocol-012', family: 'protocol', name: 'Control character (other than tab or line break) in the path, a parameter or a cookie', paranoia: 1, severity: 'critical', on: [], match: { op: 'native', check: 'control-char' } },
  { id: 'protocol-013', family: 'protocol', name: 'IIS-style %uXXXX escape (a filter-evasion encoding no browser sends)', paranoia: 1, severity: 'critical', on: [], match: { op: 'native', check: 'iis-unicode' } },
  { id: 'protocol-014', family: 'protocol', name: 'A % not followed by two hex digits in the path, query or a cookie', paranoia: 1, severity: 'notice', on: [], match: { op: 'native', check: 'bad-escape' } },
  { id: 'protocol-002', family: 'protocol', name: 'Overlong UTF-8 encoding (%c0%af, %e0%80%ae)', paranoia: 1, severity: 'critical', on: [], match: { op: 'native', check: 'overlong-utf8' } },
  { id: 'protocol-003', family: 'protocol', name: 'More than 100 request headers', paranoia: 1, severity: 'critical', on: [], match: { op: 'native', check: 'header-count' } },
  { id: 'protocol-004', family: 'protocol', name: 'Transfer-Encoding other than plain chunked (smuggling attempt)', paranoia: 1, severity: 'critical', on: [], match: { op: 'native', check: 'transfer-encoding' } },
  { id: 'protocol-005', family: 'protocol', name: 'A second HTTP request inside the body (smuggling leftover)', paranoia: 1, severity: 'critical', on: [], match: { op: 'native', check: 'smuggled-request' } },
  { id: 'protocol-006', family: 'protocol', name: 'Body does not parse as its declared Content-Type', paranoia: 1, severity: 'warning', on: [], match: { op: 'native', check: 'type-mismatch' } },
  { id: 'protocol-007', family: 'protocol', name: 'Percent-encoding that is not UTF-8 (legacy clients send Latin-1)', paranoia: 2, severity: 'notice', on: [], match: { op: 'native', check: 'invalid-utf8' } },
  {
    id: 'protocol-008', family: 'protocol', name: 'CR/LF followed by a header or a status line (response splitting, header injection)', paranoia: 1, severity: 'critical', on: ['query', 'path', 'cookie', 'header', 'file'],
    match: { op: 'regex', regex: String.raw`[\r\n]\s*(?:set-cookie|location|content-(?:type|length|disposition|security-policy)|refresh|x-xss-protection|access-control-allow-[a-z]+|transfer-encoding|link|http/\d(?:\.\d)?\s+\d{3}|<html|<script)\b\s*:?` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'protocol-009', family: 'protocol', name: 'Encoded CR/LF left after decoding (double encoding of a line break)', paranoia: 1, severity: 'error', on: ['query', 'path', 'cookie', 'header'],
    match: { op: 'regex', regex: String.raw`%(?:25)*0d%(?:25)*0a|%(?:25)*0a(?:set-cookie|location)` },
    transforms: ['lowercase'],
  },
  {
    id: 'protocol-010', family: 'protocol', name: 'NUL written as %00 after one decoding (double-encoded NUL)', paranoia: 1, severity: 'critical', on: ['query', 'path', 'cookie', 'file', 'header'],
    match: { op: 'regex', regex: String.raw`%(?:25)*00` },
    transforms: ['lowercase'],
  },
  {
    id: 'protocol-011', family: 'protocol', name: 'Percent-encoded overlong UTF-8 or CR/LF + header in any value, bodies included', paranoia: 1, severity: 'critical', on: ['query', 'path', 'cookie', 'header', 'body'],
    match: { op: 'regex', regex: String.raw`%(?:25)*c[01]%(?:25)*[89ab][0-9a-f]|%(?:25)*e0%(?:25)*[89][0-9a-f]%(?:25)*[89ab][0-9a-f]|%(?:25)*f0%(?:25)*8[0-9a-f]%(?:25)*[89ab][0-9a-f]|%(?:25)*0d%(?:25)*0a\s*(?:set-cookie|location|content-type|content-length)\s*:` },
    transforms: ['lowercase'],
  },
]

export const scannerSignatures: Signature[] = [
  {
    id: 'scanner-001', family: 'scanner', name: 'User-Agent of an attack tool or vulnerability scanner', paranoia: 1, severity: 'critical', on: ['ua'],
    match: {
      op: 'regex',
      regex: String.raw`\b(?:sqlmap|nikto|nmap|masscan|zmeu|acunetix|netsparker|wpscan|joomscan|dirbuster|gobuster|dirb|nuclei|zgrab|havij|w3af|arachni|openvas|nessus|fimap|commix|whatweb|jaeles|ffuf|fuzz faster u fool|feroxbuster|wfuzz|hydra|skipfish|paros|webinspect|appscan|qualys|morfeus|bsqlbf|sqlninja|pangolin|xsser|jorgee|zap|burp(?:suite|collaborator)|struts-pwn|log4j-scan|interactsh|dirsearch|metasploit|brutus|grabber|webshag|vega)\b`,
    },
    transforms: ['lowercase'],
  },
  {
    id: 'scanner-002', family: 'scanner', name: 'Out-of-band callback domain of a testing tool (interactsh, burpcollaborator, dnslog)', paranoia: 1, severity: 'critical', on: ['query', 'body', 'cookie', 'header'],
    match: { op: 'regex', regex: String.raw`\.(?:oast\.(?:pro|live|site|online|fun|me)|interact\.sh|burpcollaborator\.net|oastify\.com|dnslog\.cn|ceye\.io|canarytokens\.com|requestbin\.net|xss\.ht|bxss\.me)\b` },
    transforms: ['url_decode', 'lowercase'],
  },
]
