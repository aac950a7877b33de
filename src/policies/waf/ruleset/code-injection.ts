import type { Location, Signature } from './types.js'

const params: Location[] = ['query', 'body', 'cookie', 'header', 'segment']

/**
 * Code injection into interpreters the application embeds: PHP, Java (Log4Shell lookups, SpEL,
 * OGNL, deserialisation), Node.js (child_process, constructor escapes), Python, prototype
 * pollution, and server-side template injection. Each pattern needs the language's own syntax
 * around the dangerous name, so prose that mentions "eval" or "system" passes.
 */
export const codeInjectionSignatures: Signature[] = [
  {
    id: 'code-injection-001', family: 'code-injection', name: 'Log4Shell JNDI lookup, also obfuscated (${jndi:, ${${lower:j}ndi, ${::-j})', paranoia: 1, severity: 'critical', on: [...params, 'ua', 'path'],
    match: { op: 'regex', regex: String.raw`\$\{[^}]*?(?:j|\$\{[^}]*\})[^}]*?(?:n|\$\{[^}]*\})[^}]*?(?:d|\$\{[^}]*\})[^}]*?(?:i|\$\{[^}]*\})[^}]*?:|\$\{\s*(?:jndi|ldap|rmi|dns|iiop|corba|nds|nis)\s*:|\$\{(?:lower|upper|env|sys|java|date|main|base64|ctx|bundle|marker|sd|spring|k8s|docker|log4j|web|jvmrunargs)\s*:[^}]*\}|\$\{[^}]*::-[^}]*\}` },
    transforms: ['url_decode', 'url_decode', 'lowercase'],
  },
  {
    id: 'code-injection-002', family: 'code-injection', name: 'PHP code (<?php, <?=, or a dangerous call on request data)', paranoia: 1, severity: 'critical', on: params,
    match: {
      op: 'regex',
      regex: String.raw`<\?(?:php\b|=|\s)|\b(?:system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec|assert|eval|create_function|call_user_func(?:_array)?|preg_replace|include|require|include_once|require_once|file_put_contents|fwrite|unserialize|base64_decode|gzinflate|str_rot13)\s*\(\s*(?:\$_(?:get|post|request|cookie|server|files|env)\b|base64_decode|gzinflate|str_rot13|['"](?:[a-z]{1,8}\s+-|/bin/|id['"]|whoami|cat\s|ls\b|uname)|\$\w+\s*\(|chr\s*\()|\$_(?:get|post|request|cookie)\s*\[[^\]]*\]\s*\(|\bphpinfo\s*\(\s*\)|\$\{\s*@?(?:print|echo|eval|system|exec|passthru|shell_exec|phpinfo|assert|md5|die|var_dump|file_get_contents|include|require)\s*\(|\b(?:o|a|c):\d+:["{]|\bo:\d+:"[a-z_\\]+":\d+:\{`,
    },
    transforms: ['url_decode', 'remove_nulls', 'lowercase'],
  },
  {
    id: 'code-injection-003', family: 'code-injection', name: 'Java: Runtime.exec, ProcessBuilder, SpEL T(), OGNL, script engines, Spring4Shell', paranoia: 1, severity: 'critical', on: [...params, 'ua'],
    match: {
      op: 'regex',
      regex: String.raw`\bruntime\s*\.\s*getruntime\s*\(\s*\)|\bjava\s*\.\s*lang\s*\.\s*(?:runtime|processbuilder|system\s*\.\s*(?:exit|getenv|setproperty)|class\s*\.\s*forname|reflect)|\bnew\s+(?:java\.lang\.)?processbuilder\b|\bt\s*\(\s*java\s*\.|#\{?\s*t\s*\(|\bgetclass\s*\(\s*\)\s*\.\s*(?:forname|getclassloader|getmethod)|\bclass\s*\.\s*(?:module\s*\.\s*)?classloader\b|#_memberaccess|@ognl\.|ognlcontext|#context\s*\[|\bjavax?\.script\.scriptenginemanager|\bscriptenginemanager\s*\(|\bfreemarker\.template\.utility\.(?:execute|objectconstructor|jythonruntime)|\bjavax\.naming\.initialcontext|\bjava\.io\.(?:file(?:input|output)stream|bufferedreader)\b|\bcom\.sun\.|\borg\.apache\.commons\.collections|\bnashorn\b|ro0ab|aced0005`,
    },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'code-injection-004', family: 'code-injection', name: 'Node.js: child_process, process.mainModule, constructor escape', paranoia: 1, severity: 'critical', on: params,
    match: {
      op: 'regex',
      regex: String.raw`\brequire\s*\(\s*['"\x60](?:child_process|fs|net|vm|os|http|dgram|cluster|worker_threads|module)['"\x60]\s*\)|\bchild_process\b|\bprocess\s*\.\s*(?:mainmodule|binding|dlopen|kill|exit|env\b.*\)|kill)|\bglobal\s*\.\s*process\b|\bthis\s*\.\s*constructor\s*\.\s*constructor\b|\bconstructor\s*\.\s*constructor\s*\(|\[\s*['"]constructor['"]\s*\]\s*\[\s*['"]constructor['"]\s*\]|\b(?:execsync|spawnsync|execfilesync)\s*\(|\bnew\s+function\s*\(\s*['"]return\s+(?:process|this|global)|\beval\s*\(\s*(?:atob|buffer\.from|string\.fromcharcode|unescape|decodeuricomponent)\s*\(|\bimport\s*\(\s*['"]child_process`,
    },
    transforms: ['url_decode', 'js_decode', 'lowercase'],
  },
  {
    id: 'code-injection-005', family: 'code-injection', name: 'Prototype pollution (__proto__, constructor.prototype)', paranoia: 1, severity: 'critical', on: ['keys', 'query', 'body', 'cookie', 'header', 'path'],
    match: { op: 'regex', regex: String.raw`__proto__|#(?:post_render|pre_render|lazy_builder|access_callback)\b|\bclass\s*\.\s*(?:module\s*\.\s*)?classloader\b|^class\.module\.|\bconstructor\s*(?:\.|\]?\s*\[\s*['"]?)\s*prototype\b|^prototype$|\bconstructor['"]?\s*:\s*\{\s*['"]?prototype\b|\[prototype\]|\bconstructor\]\[` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'code-injection-006', family: 'code-injection', name: 'Server-side template injection probe ({{7*7}}, ${7*7}, <%= 7*7 %>, #{7*7})', paranoia: 1, severity: 'critical', on: params,
    match: {
      op: 'regex',
      regex: String.raw`(?:\{\{=?|\$\{\{?|#\{|\*\{|\{#|<%=?|\{%|\[\[|@\(|@\{)\s*['"]?\d+['"]?\s*[*+/\-]\s*['"]?\d+['"]?\s*(?:\}\}|\}|%>|%\}|#\}|\]\]|\))|\{\{\s*['"]?\d+['"]?\s*\|\s*\w+`,
    },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
  {
    id: 'code-injection-007', family: 'code-injection', name: 'Template engine escape to the runtime (Jinja2 __class__, Twig _self, Freemarker, Velocity, Handlebars)', paranoia: 1, severity: 'critical', on: params,
    match: {
      op: 'regex',
      regex: String.raw`(?:\{\{|\{%|\$\{|#\{|<#)[^}>]*?(?:__class__|__mro__|__subclasses__|__globals__|__builtins__|__import__|__init__|__base__|config\.items|request\.application|self\._templatereference|lipsum\.|cycler\.|joiner\.|namespace\.__|url_for\.__|get_flashed_messages|_self\.env|registerundefinedfiltercallback|getfilter\s*\(|\.getclass\(|new\s*\(\s*\)|\?new\s*\(|assign\b|\bexecute\b|popen|os\.system|subprocess)|#set\s*\(\s*\$\w+\s*=.*\.getclass\(|<#assign\b|\{\{#with\s+['"]|\$class\.inspect|\{php\}|\{\{\s*(?:self|config|request|settings|_self|app\.request)\s*[.|\]}]`,
    },
    transforms: ['url_decode', 'html_entity_decode', 'lowercase'],
  },
  {
    id: 'code-injection-008', family: 'code-injection', name: 'Python code execution (__import__, os.system, subprocess, pickle)', paranoia: 1, severity: 'critical', on: params,
    match: {
      op: 'regex',
      regex: String.raw`\b__import__\s*\(\s*['"](?:os|subprocess|sys|builtins|pty|socket|commands)['"]\s*\)|\bos\s*\.\s*(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?)\s*\(|\bsubprocess\s*\.\s*(?:popen|call|run|check_output|check_call|getoutput)\s*\(|\beval\s*\(\s*compile\s*\(|\bexec\s*\(\s*['"]import\s|\bpty\s*\.\s*spawn\s*\(|\bcposix\b|\bcos\nsystem\b|\bpickle\s*\.\s*loads\s*\(`,
    },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'code-injection-009', family: 'code-injection', name: 'Expression Language / SpEL / MVEL evaluation (${...} with method calls)', paranoia: 1, severity: 'critical', on: params,
    match: { op: 'regex', regex: String.raw`[$#%]\{[^}]*(?:\.getclass\s*\(|\.forname\s*\(|\.exec\s*\(|\.invoke\s*\(|\.newinstance\s*\(|@java\.lang|\bruntime\b|\bprocessbuilder\b|\bapplicationscope\b|\bfacescontext\b|\bpagecontext\b|#request\b|#session\b|#application\b)` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'code-injection-011', family: 'code-injection', name: 'Framework remote code execution routes (ThinkPHP invokefunction, PHPUnit eval-stdin, Struts redirect:)', paranoia: 1, severity: 'critical', on: ['path', 'query', 'body'],
    match: { op: 'regex', regex: String.raw`\\think\\(?:app|request|container|template)|/invokefunction\b|\binvokefunction&|eval-stdin\.php|\b(?:redirect|redirectaction|action):\$\{|\bcall_user_func_array&vars\[` },
    transforms: ['url_decode', 'lowercase'],
  },
  {
    id: 'code-injection-010', family: 'code-injection', name: 'Generic eval( / ${...} expression in a value', paranoia: 2, severity: 'warning', on: params,
    match: { op: 'regex', regex: String.raw`\beval\s*\(|\$\{[^}]+\}|\{\{[^}]+\}\}` },
    transforms: ['url_decode', 'lowercase'],
  },
]
