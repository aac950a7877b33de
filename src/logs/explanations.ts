/** A cause as users read it: a short name, then a sentence on why and what to check. */
export interface CauseText {
  title: string
  explanation: string
}

/**
 * OWASP CRS rule families, by the first three digits of the rule id (the CRS numbering
 * scheme: REQUEST-942-APPLICATION-ATTACK-SQLI.conf holds 942xxx, and so on).
 */
const crsFamilies: Record<string, CauseText> = {
  '911': { title: 'method not allowed', explanation: 'The HTTP method is not in the WAF\'s allowed list; if the API needs it (PUT, PATCH, DELETE), add it to tx.allowed_methods in crs-setup.conf.' },
  '913': { title: 'scanner detected', explanation: 'The User-Agent or headers match a known security scanner; blocked as intended unless it is your own scanning, which you can allow by address.' },
  '920': { title: 'HTTP protocol violation', explanation: 'The request broke a protocol check (missing or odd headers, a Content-Type not in tx.allowed_request_content_type, bad encoding, an IP in Host); fix the client, or allow that content type if the API uses it.' },
  '921': { title: 'HTTP protocol attack', explanation: 'Request smuggling or header-injection patterns (CR/LF in headers or arguments); check the client or proxy that builds these requests.' },
  '922': { title: 'multipart attack', explanation: 'A multipart/form-data body has suspicious part headers; check the upload client or exclude the field if it is legitimate.' },
  '930': { title: 'local file inclusion', explanation: 'Path traversal (../) or OS file names in the request; usually an attack being blocked, else a parameter that legitimately carries paths and needs a narrow exclusion.' },
  '931': { title: 'remote file inclusion', explanation: 'A parameter carries a URL to a remote file; if the app takes URLs as input (webhooks, callbacks), exclude that parameter for this rule only.' },
  '932': { title: 'remote command execution', explanation: 'Shell command syntax in the request; real attacks look like this, but so do free-text fields with words like "cat" or backticks: exclude the field, not the rule.' },
  '933': { title: 'PHP injection', explanation: 'PHP function names or wrappers in the request; blocked as intended unless a field legitimately holds code.' },
  '934': { title: 'generic application attack', explanation: 'Node.js, template or other injection patterns matched; check which argument matched in the audit log and exclude it narrowly if it is legitimate.' },
  '941': { title: 'cross-site scripting', explanation: 'HTML or script syntax in the request matched the XSS rules; rich-text or HTML fields trigger this legitimately: exclude that argument (SecRuleUpdateTargetById) instead of the rule.' },
  '942': { title: 'SQL injection', explanation: 'Request data looks like SQL; search boxes, JSON bodies and free text with quotes or keywords trigger it falsely: find the matched argument in the audit log and exclude it for the rule id, rather than disabling the rule.' },
  '943': { title: 'session fixation', explanation: 'A session id is being set through the request; check the login flow or the client that sends it.' },
  '944': { title: 'Java attack', explanation: 'Java deserialization or class-loading patterns matched; block unless a field legitimately carries such data.' },
  '949': { title: 'inbound anomaly score exceeded', explanation: 'The blocking decision: the request\'s total CRS score passed the threshold; the rules that scored (same transaction) are the real cause, so tune those or raise the paranoia-level threshold with care.' },
  '950': { title: 'outbound data leakage', explanation: 'The response looked like it leaks data (error pages, directory listings); fix the response, not the request.' },
  '951': { title: 'SQL error leakage', explanation: 'The response contains database error text; fix the application error it reveals.' },
  '952': { title: 'Java leakage', explanation: 'The response contains Java error text; fix the application error it reveals.' },
  '953': { title: 'PHP leakage', explanation: 'The response contains PHP source or errors; fix the application error it reveals.' },
  '954': { title: 'IIS leakage', explanation: 'The response contains IIS error detail; fix the application error it reveals.' },
  '959': { title: 'outbound anomaly score exceeded', explanation: 'The response\'s total score passed the outbound threshold; the outbound rules that scored are the cause.' },
  '980': { title: 'correlation', explanation: 'A reporting rule summarising the transaction\'s scores; look at the rules that scored.' },
}

/** Explains a ModSecurity rule id: CRS family when it is one, else a custom rule. */
export function explainModsecRule(ruleId: string): CauseText {
  if (/^9[0-9]{5}$/.test(ruleId)) {
    const family = crsFamilies[ruleId.slice(0, 3)]
    if (family !== undefined) return family
  }
  return { title: 'custom rule', explanation: `Rule ${ruleId} is not an OWASP CRS rule: find it with "grep -rn 'id:${ruleId}'" in the ModSecurity config and check what it matches.` }
}

/** IIS status.substatus meanings (Microsoft's list of IIS 7+ substatus codes). */
const iisSubstatus: Record<string, CauseText> = {
  '401.1': { title: 'logon failed', explanation: 'The credentials were rejected; check the user, password and domain the client sends.' },
  '401.2': { title: 'logon failed due to server configuration', explanation: 'No authentication method the client offered is enabled (often anonymous disabled and the client not sending credentials); check Authentication settings for the site. Usually harmless: the first leg of a Windows-auth challenge.' },
  '401.3': { title: 'unauthorized by ACL', explanation: 'NTFS permissions on the file deny the authenticated user; grant read to that user or the app pool identity.' },
  '401.4': { title: 'authorization failed by filter', explanation: 'An ISAPI filter refused the request; check the installed filters.' },
  '401.5': { title: 'authorization failed by ISAPI/CGI', explanation: 'The application refused the credentials; check the app\'s own authorization.' },
  '403.1': { title: 'execute access forbidden', explanation: 'The handler needs Execute permission (Handler Mappings > Feature Permissions); enable Script/Execute for the site or folder.' },
  '403.2': { title: 'read access forbidden', explanation: 'Read permission is off for the site or folder (Handler Mappings > Feature Permissions).' },
  '403.3': { title: 'write access forbidden', explanation: 'The request writes (PUT/WebDAV) where write permission is off.' },
  '403.4': { title: 'SSL required', explanation: 'The site requires HTTPS (SSL Settings: Require SSL) and the request came over HTTP; redirect to HTTPS or fix the client URL.' },
  '403.5': { title: 'SSL 128 required', explanation: 'The site requires 128-bit encryption; update the client or the SSL setting.' },
  '403.6': { title: 'IP address rejected', explanation: 'IP and Domain Restrictions denied the client address; check <ipSecurity> (and whether the address seen is a proxy\'s; enable proxy mode if behind one).' },
  '403.7': { title: 'client certificate required', explanation: 'SSL Settings require a client certificate and none was sent.' },
  '403.8': { title: 'site access denied', explanation: 'A domain-name restriction denied the client; check <ipSecurity> domain rules.' },
  '403.9': { title: 'too many users', explanation: 'The connection limit was reached; raise the limit or find the load.' },
  '403.10': { title: 'invalid configuration', explanation: 'The configuration for the request is invalid; check the site\'s web.config.' },
  '403.12': { title: 'mapper denied access', explanation: 'Client-certificate mapping refused the certificate; check the mapping rules.' },
  '403.13': { title: 'client certificate revoked', explanation: 'The client certificate is on a revocation list; issue a new one.' },
  '403.14': { title: 'directory listing denied', explanation: 'The URL is a folder with no default document and directory browsing is off; add a default document (or fix routing: the app\'s handler did not pick it up), rather than enabling browsing.' },
  '403.16': { title: 'client certificate untrusted or invalid', explanation: 'The client certificate\'s chain is not trusted by the server; install the issuing CA.' },
  '403.17': { title: 'client certificate expired', explanation: 'The client certificate expired or is not yet valid.' },
  '403.18': { title: 'cannot execute in this application pool', explanation: 'The URL maps to a different application pool than the request\'s; check the application\'s pool setting.' },
  '403.19': { title: 'cannot execute CGI in this application pool', explanation: 'CGI is not allowed for this app pool; check CGI settings.' },
  '403.20': { title: 'Passport logon failed', explanation: 'Passport authentication failed.' },
  '403.21': { title: 'source access denied', explanation: 'WebDAV source access is denied.' },
  '403.22': { title: 'infinite depth denied', explanation: 'A WebDAV request with infinite depth was refused.' },
  '403.501': { title: 'too many concurrent requests (Dynamic IP Restrictions)', explanation: 'The client passed maxConcurrentRequests of <dynamicIpSecurity>; raise the limit or allow the client (mind proxies: many users can share one address).' },
  '403.502': { title: 'too many requests in a time window (Dynamic IP Restrictions)', explanation: 'The client passed maxRequests per requestIntervalInMilliseconds of <dynamicIpSecurity>; raise it or allow the client.' },
  '403.503': { title: 'IP address rejected', explanation: 'The client address is on the <ipSecurity> deny list; check the list (and the address seen when behind a proxy).' },
  '403.504': { title: 'host name rejected', explanation: 'A host-name restriction in <ipSecurity> denied the client.' },
}

/** Explains an IIS `403.14`-style status. */
export function explainIisSubstatus(code: string): CauseText | null {
  return iisSubstatus[code] ?? null
}

/** Windows status codes IIS logs in sc-win32-status that point at a cause. */
const win32Notes: Record<string, string> = {
  '5': 'sc-win32-status 5 (access denied): NTFS permissions refused the worker process or user.',
  '1326': 'sc-win32-status 1326: bad user name or password.',
  '2148074254': 'sc-win32-status 2148074254: no credentials were sent (normal first leg of Windows authentication).',
  '2148074252': 'sc-win32-status 2148074252: the logon attempt failed.',
}

/** A note on an IIS win32 status, or null. */
export function explainWin32Status(code: string): string | null {
  return win32Notes[code] ?? null
}

/** Apache httpd error-log causes (AH codes are Apache's message ids). */
const apacheCauses: Record<string, CauseText> = {
  AH01630: { title: 'Require denied access (mod_authz_core)', explanation: 'A Require rule refused the client: look for "Require all denied", "Require ip/host" or "Require not" in the <Directory>/<Location> and .htaccess files that cover the path (apachectl -S, then grep -rn Require).' },
  AH01797: { title: 'Order/Deny denied access (mod_access_compat)', explanation: 'Apache 2.2-style "Order/Deny from" rules refused the client; replace them with Require rules, since mixing both styles gives surprising results.' },
  'client-denied': { title: 'client denied by server configuration (Apache 2.2)', explanation: 'An Order/Allow/Deny rule refused the client; check the Deny from and Allow from lines for the path.' },
  AH01631: { title: 'user not authorized', explanation: 'The user authenticated but no Require user/group/valid-user rule lets them in; check the Require lines and the group file.' },
  AH01617: { title: 'password mismatch', explanation: 'Basic/Digest authentication failed: wrong password for an existing user in the AuthUserFile.' },
  AH01618: { title: 'user not found', explanation: 'The user name is not in the AuthUserFile; add it with htpasswd or fix the client.' },
  AH00035: { title: 'search permission missing on a directory', explanation: 'A directory on the path lacks the execute (search) bit for the Apache user; chmod +x each parent directory (namei -l shows which).' },
  AH00132: { title: 'file permissions deny server access', explanation: 'The file is not readable by the Apache user; fix its owner or mode (and SELinux context: ls -Z).' },
  AH00037: { title: 'symbolic link not allowed', explanation: 'The path goes through a symlink and Options lacks FollowSymLinks (or SymLinksIfOwnerMatch fails on ownership).' },
  AH01276: { title: 'directory index forbidden by Options', explanation: 'The URL is a directory with no DirectoryIndex file and Options -Indexes; add an index file or fix the rewrite/route that should handle it.' },
  AH00529: { title: '.htaccess unreadable', explanation: 'Apache cannot read an .htaccess file on the path, so it refuses the whole directory; fix that file\'s permissions.' },
}

/** Explains an Apache error-log cause key (an AH code or `client-denied`). */
export function explainApacheCause(code: string): CauseText | null {
  return apacheCauses[code] ?? null
}

/** nginx error-log causes. */
const nginxCauses: Record<string, CauseText> = {
  'access-forbidden': { title: 'deny rule (ngx_http_access_module)', explanation: 'An allow/deny rule refused the client address; check the deny lines in the matching location and server blocks (and set_real_ip_from if nginx sees a proxy\'s address).' },
  'directory-index': { title: 'directory index forbidden', explanation: 'The URL is a directory with no index file and autoindex is off; add an index file or fix try_files so the app handles the URL.' },
  'permission-denied': { title: 'file permission denied', explanation: 'The nginx worker user cannot read the file or traverse a directory (13: Permission denied); fix modes, owners or the SELinux context.' },
  'basic-auth': { title: 'basic authentication failed', explanation: 'auth_basic refused the request (no credentials, unknown user or wrong password); check auth_basic_user_file and the client\'s Authorization header.' },
  'limit-req': { title: 'rate limited (limit_req)', explanation: 'limit_req rejected requests over the zone\'s rate (503 unless limit_req_status is set); raise rate/burst or key the zone differently if users share an address.' },
  'limit-conn': { title: 'connection limit (limit_conn)', explanation: 'limit_conn rejected a connection over the zone\'s limit; raise it or find the client holding many connections.' },
}

/** Explains an nginx error-log cause key. */
export function explainNginxCause(code: string): CauseText | null {
  return nginxCauses[code] ?? null
}

/** Gatehouse pipeline layers (SPEC §1). */
const gatehouseLayers: Record<string, CauseText> = {
  ip: { title: 'IP allow/deny list', explanation: 'The route\'s ip policy refused the client address; check policies.ip allow/deny and the address the gateway sees behind proxies.' },
  cors: { title: 'CORS preflight rejected', explanation: 'The Origin, method or headers of a preflight are not in policies.cors; add the browser app\'s origin or header.' },
  body: { title: 'request body refused', explanation: 'Body too large, wrong content type or malformed JSON; check policies.body and the client.' },
  waf: { title: 'gateway WAF block', explanation: 'The gateway WAF matched the request; run `gatehouse why <requestId>` for the rule and matched field.' },
  authn: { title: 'authentication failed', explanation: 'Missing, invalid or expired credentials; check the key or token the client sends (`gatehouse why <requestId>` lists each method\'s reason).' },
  subscription: { title: 'no approved subscription', explanation: 'The consumer is not subscribed (or not approved) for the route\'s product; approve the subscription.' },
  authz: { title: 'authorization denied', explanation: 'The consumer lacks a scope or role the route needs; grant it, or check the route\'s scopes.' },
  csrf: { title: 'CSRF check failed', explanation: 'A state-changing browser request came from an origin not in policies.csrf.origins, or without a token; add the origin or fix the client.' },
  'rate-limit': { title: 'rate limited', explanation: 'The consumer passed policies.rateLimit; raise the limit or spread the calls (the Retry-After header says when).' },
  upstream: { title: 'upstream\'s own denial', explanation: 'The gateway allowed the call and the upstream refused it; run `gatehouse doctor --replay` on the exchange, or check the upstream\'s logs.' },
  gateway: { title: 'no route or gateway error', explanation: 'No route matched or the gateway failed; check the routes\' match rules.' },
}

/** Explains a Gatehouse layer. */
export function explainGatehouseLayer(layer: string): CauseText {
  return gatehouseLayers[layer] ?? { title: `layer ${layer}`, explanation: 'Run `gatehouse why <requestId>` on one of these calls for the full decision trace.' }
}

/** Paths scanners probe for; a 403 on them is usually a defence working. */
const probePrefixes = ['/.env', '/.git', '/.aws', '/.ssh', '/.htaccess', '/.htpasswd', '/wp-login.php', '/wp-admin', '/xmlrpc.php', '/phpmyadmin', '/pma/', '/admin.php', '/cgi-bin', '/vendor/phpunit', '/actuator', '/server-status', '/.DS_Store', '/config.php', '/backup']

/** True when a path is a common probe target (dotfiles, WordPress, admin tools). */
export function isProbePath(path: string): boolean {
  const lower = path.toLowerCase()
  return probePrefixes.some((p) => lower.startsWith(p.toLowerCase()))
}
