import type { Location, Signature } from './types.js'

const params: Location[] = ['query', 'body', 'cookie', 'header', 'segment']
// Regex signatures also read the whole path: splitting it at `/` would cut `/**/` comment padding apart.
const paramsAndPath: Location[] = [...params, 'path']
// Nested calls where one of the pair is a probe (version(), ascii(), elt(), ...) read as blind or
// error-based extraction; plain concat(substr(...)) in a code snippet does not.
const sqlFunctions = 'elt|ord|hex|unhex|bin|char|chr|ascii|substr|substring|mid|concat|concat_ws|conv|version|database|schema|user|current_user|system_user|floor|rand|sleep|benchmark|if|ifnull|length|select|count|cast|convert'
const probeFunctions = 'elt|ord|hex|unhex|bin|ascii|char|chr|version|database|schema|user|current_user|system_user|sleep|benchmark|select'
const sep = String.raw`(?:\s|/\*.*?\*/|\+|\(|\))`

/**
 * SQL injection. libinjection (is_sqli) carries paranoia 1 because it parses SQL tokens rather than
 * spotting words, so "O'Brien" or "select a new size" stay quiet; the regexes cover what it is known
 * to miss: time-based probes, UNION with comment padding, stacked queries, and error-based helpers.
 */
export const sqliSignatures: Signature[] = [
  { id: 'sqli-001', family: 'sqli', name: 'SQL injection (libinjection)', paranoia: 1, severity: 'critical', on: [...params, 'keys'], match: { op: 'is_sqli' }, transforms: ['remove_nulls'] },
  { id: 'sqli-002', family: 'sqli', name: 'SQL injection, URL-encoded once or twice more (libinjection)', paranoia: 1, severity: 'critical', on: ['query', 'body', 'cookie'], match: { op: 'is_sqli' }, transforms: ['url_decode', 'url_decode', 'unicode_normalize', 'remove_nulls'] },
  {
    id: 'sqli-003', family: 'sqli', name: 'Time-based blind SQL injection (sleep, benchmark, pg_sleep, waitfor delay)', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: { op: 'regex', regex: String.raw`(?:\b(?:sleep|pg_sleep)\s*\(\s*[\d(@'"]|\bbenchmark\s*\(\s*\d+\s*,|\bwaitfor\s+(?:delay|time)\s+['"\d]|\bdbms_(?:pipe\.receive_message|lock\.sleep)\s*\(|\brandomblob\s*\(\s*\d{5,}|\bgenerate_series\s*\(\s*1\s*,\s*\d{6,})` },
    transforms: ['url_decode', 'remove_comments', 'lowercase'],
  },
  {
    id: 'sqli-004', family: 'sqli', name: 'UNION SELECT, also padded with comments or parentheses', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: { op: 'regex', regex: String.raw`\bunion${sep}+(?:all${sep}+|distinct${sep}+)?(?:/\*!\d*\s*)?select\b` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'sqli-005', family: 'sqli', name: 'Stacked query after a statement terminator', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: { op: 'regex', regex: String.raw`['"]\s*\)?\s*;\s*select\s+[\w*,\s.\x60"()]+\s+from\s+\w|;\s*(?:drop\s+(?:table|database|schema|user|function|procedure)|truncate\s+table|alter\s+(?:table|user|database)|delete\s+from|insert\s+into\s+[\w.\x60"\[\]]+\s*(?:\(|values|select)|update\s+[\w.\x60"\[\]]+\s+set\s+[\w\x60"]+\s*=|exec(?:ute)?\s*(?:\(|xp_|sp_|master\.|immediate)|declare\s+@|shutdown\b|create\s+(?:table|user|function|procedure|trigger))` },
    transforms: ['url_decode', 'remove_comments', 'compress_whitespace', 'lowercase'],
  },
  {
    id: 'sqli-006', family: 'sqli', name: 'Quote or number followed by a boolean tautology', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`['"\)]\s*(?:or|and|xor|\|\||&&)\s+(?:not\s+)?\(?\s*['"]*(\w+)['"]*\s*(?:=|<>|!=|<=>|\blike\b|>=|<=)\s*['"]*\w*['"]*\s*(?:--|#|/\*|;|$|\)|\s+(?:or|and|limit|order|group)\b)|['"\)]\s*(?:or|and)\s+\w+\s+(?:not\s+)?(?:like|rlike|regexp|in|between)\s+['"(\d]|\b(?:or|and|xor|\|\||&&)\s+(?:1\s*=\s*1|0\s*=\s*0|'1'\s*=\s*'1|'a'\s*=\s*'a|"1"\s*=\s*"1|1\s+like\s+1|true\s*=\s*true|2\s*>\s*1)\b` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'sqli-007', family: 'sqli', name: 'Login bypass: a name closed by a quote and a comment', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: { op: 'regex', regex: String.raw`^[\w@.\-]*['"\x60]\s*\)?\s*(?:--|#|/\*|;\s*--)` },
    transforms: ['url_decode'],
  },
  {
    id: 'sqli-008', family: 'sqli', name: 'SQL error-based or metadata probe (information_schema, extractvalue, @@version, xp_cmdshell, into outfile)', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: {
      op: 'regex',
      regex: String.raw`(?:\binformation_schema\b|\b(?:extractvalue|updatexml|load_file|group_concat|json_keys|pg_read_file|utl_inaddr\.get_host_name|utl_http\.request|sys_eval|sys_exec)\s*\(|@@(?:version|datadir|hostname|basedir)\b|\bxp_(?:cmdshell|regread|dirtree)\b|\binto\s+(?:out|dump)file\b|\bsqlite_master\b|\bpg_(?:catalog|shadow|user)\b|\bsysobjects\b|\bmysql\.user\b|\bsys\.(?:tables|columns|objects)\b|\ball_tables\b|\bv\$version\b|\bcase\s+when\s+.+\s+then\s+.+\s+else\b.*\bend\b)`,
    },
    transforms: ['url_decode', 'remove_comments', 'lowercase'],
  },
  {
    id: 'sqli-009', family: 'sqli', name: 'ORDER BY / GROUP BY column probing after a quote or number', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: { op: 'regex', regex: String.raw`(?:^|['"\)])\s*(?:order|group)\s+by\s+\d{1,3}\s*(?:--|#|/\*|,|$|;|\))` },
    transforms: ['url_decode', 'remove_comments', 'lowercase'],
  },
  {
    id: 'sqli-010', family: 'sqli', name: 'SQL string building with char()/concat() on hex or codes', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: { op: 'regex', regex: String.raw`\b(?:char|chr|concat|concat_ws)\s*\(\s*(?:0x[0-9a-f]{2,}|\d{2,3}\s*,\s*\d{2,3})|\bconvert\s*\(\s*int\s*,|\bcast\s*\(.+\bas\s+(?:int|char|varchar|numeric)\b.{0,10}\)\s*(?:--|=|>|<|\))` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'sqli-011', family: 'sqli', name: 'Numeric parameter followed by boolean SQL logic', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`^\s*-?\d+\s*['"\)]?\s+(?:and|or|xor|&&|\|\|)\s+(?:\d+\s*(?:=|<|>|<>|!=)\s*\d+|true|false|null|not|exists|sleep|\(|'|")` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'sqli-016', family: 'sqli', name: 'SQL keyword glued to an inline comment (comment padding instead of spaces)', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: { op: 'regex', regex: String.raw`\b(?:select|union|from|where|and|or|order|group|insert|into|update|delete|drop|exec|having|limit)/\*|\*/(?:select|union|from|where|and|or|order|group|insert|into|values|update|delete|drop|exec|having|limit|null|sleep|concat|char|benchmark)\b` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'sqli-017', family: 'sqli', name: 'NoSQL operator injection: [$ne]=, [$regex]=, $where', paranoia: 1, severity: 'critical', on: ['keys', 'query', 'body'],
    match: { op: 'regex', regex: String.raw`\[\$(?:ne|regex|where)\]|^\$where$|\$where\s*:|\{\s*['"]?\$(?:ne|regex|where)['"]?\s*:` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    // Query-string filter operators are an API feature in some frameworks (filters[price][$gt]=5).
    id: 'sqli-018', family: 'sqli', name: 'NoSQL comparison operator in a parameter name ([$gt], [$in], ...)', paranoia: 2, severity: 'critical', on: ['keys'],
    match: { op: 'regex', regex: String.raw`\[\$(?:gt|gte|lt|lte|nin|in|exists|expr|or|and|not|nor)\]` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'sqli-019', family: 'sqli', name: 'Nested SQL functions, T-SQL variables and stored procedures (elt(ord(…)), declare @x, exec sp_…)', paranoia: 1, severity: 'critical', on: paramsAndPath,
    match: {
      op: 'regex',
      regex: String.raw`\b(?:${sqlFunctions})\s*\([^()]*\b(?:${probeFunctions})\s*\(|\b(?:${probeFunctions})\s*\([^()]*\b(?:${sqlFunctions})\s*\(|\bdeclare\s+@\w+\s+(?:n?varchar|n?char|int|sysname|table|varbinary)\b|\bexec(?:ute)?\s*\(\s*@\w+\s*\)|\bexec(?:ute)?\s+(?:master\.\.|dbo\.)?(?:sp|xp)_\w+|\bexecute\s+immediate\b`,
    },
    transforms: ['url_decode', 'remove_comments', 'lowercase'],
  },
  {
    id: 'sqli-012', family: 'sqli', name: 'SQL keywords in sequence: select ... from, insert into ... values', paranoia: 2, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`\bselect\b.+\bfrom\b.+\b(?:where|limit|order|group|union)\b|\binsert\s+into\b.+\bvalues\b|\bdelete\s+from\s+\w+\s+where\b|\bdrop\s+table\b` },
    transforms: ['url_decode', 'remove_comments', 'lowercase'],
  },
  {
    id: 'sqli-013', family: 'sqli', name: 'SQL comment sequence after a quote', paranoia: 2, severity: 'warning', on: params,
    match: { op: 'regex', regex: String.raw`['"]\s*(?:--|#|/\*)` },
    transforms: ['url_decode'],
  },
  {
    id: 'sqli-014', family: 'sqli', name: 'SQL keyword pair: union ... select, select ... from', paranoia: 3, severity: 'warning', on: params,
    match: { op: 'regex', regex: String.raw`\bunion\b.*\bselect\b|\bselect\b.+\bfrom\b` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'sqli-015', family: 'sqli', name: 'SQL metacharacters: quote with semicolon or comment', paranoia: 4, severity: 'notice', on: params,
    match: { op: 'regex', regex: String.raw`['"\x60].*(?:;|--|/\*|\|\|)` },
    transforms: ['url_decode'],
  },
]
