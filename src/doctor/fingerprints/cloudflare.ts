import type { Fingerprint } from '../fingerprint.js'

// Cloudflare marks every response it touches with `cf-ray`; its own block pages also carry
// "Cloudflare Ray ID" and a 1xxx error code ("error code: 1020" in the plain-text variant
// served to non-browser clients).
const edge = [
  { header: 'cf-ray', weight: 6 },
  { header: 'server', contains: 'cloudflare', weight: 3 },
] as const

/** Cloudflare edge: WAF, bot checks, IP/ASN/country rules, rate limiting, origin errors. */
export const cloudflareFingerprints: Fingerprint[] = [
  {
    id: 'cloudflare.firewall-rule',
    producer: 'cloudflare',
    layer: 'waf',
    cause: 'A Cloudflare WAF custom rule (firewall rule) matched the request and blocked it (error 1020).',
    remedies: [
      'Look up the Ray ID under Security > Events in the Cloudflare dashboard to see which rule fired.',
      'Narrow that rule, or add a skip rule for this client (IP, ASN, path or a verified token header).',
      'For API clients, use a custom rule that skips WAF for authenticated API paths rather than disabling the WAF.',
    ],
    match: [
      ...edge,
      { body: ['error code: 1020', 'error 1020', 'cf-error-code">1020'], weight: 12, required: true },
      { body: 'used cloudflare to restrict access', weight: 3 },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'cloudflare.browser-signature',
    producer: 'cloudflare',
    layer: 'waf',
    cause: "Cloudflare's Browser Integrity Check rejected the client's signature (error 1010): the User-Agent or other headers look like a bot or a headless tool.",
    remedies: [
      'Send a real User-Agent header; default library agents (curl, python-requests, Go-http-client) are often refused.',
      'Zone owner: turn off Browser Integrity Check for the API path with a configuration rule, or add a skip rule for the client.',
    ],
    match: [
      ...edge,
      { body: ['error code: 1010', 'error 1010', 'cf-error-code">1010', "banned your access based on your browser's signature"], weight: 12, required: true },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'cloudflare.ip-banned',
    producer: 'cloudflare',
    layer: 'ip-filter',
    cause: 'The site owner blocked the client IP address or its network in Cloudflare IP Access Rules (errors 1005-1008).',
    remedies: [
      'Zone owner: check Security > WAF > Tools (IP Access Rules) and Zone Lockdown for the client IP, range or ASN.',
      'Client: call from an allowed network, or ask the owner to allow your egress IP.',
    ],
    match: [
      ...edge,
      {
        body: ['error code: 1005', 'error code: 1006', 'error code: 1007', 'error code: 1008', 'error 1005', 'error 1006', 'error 1007', 'error 1008',
          'cf-error-code">1006', 'has banned your ip address', 'has banned the autonomous system number'],
        weight: 12,
        required: true,
      },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'cloudflare.country-banned',
    producer: 'cloudflare',
    layer: 'geo',
    cause: 'The site owner blocks the country or region the client IP is in (Cloudflare error 1009).',
    remedies: [
      'Zone owner: review country rules in IP Access Rules or custom rules using ip.src.country.',
      'Client: the block is by geolocation of your egress IP; call from an allowed region.',
    ],
    match: [
      ...edge,
      { body: ['error code: 1009', 'error 1009', 'cf-error-code">1009', 'banned the country or region your ip address is in'], weight: 12, required: true },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'cloudflare.rate-limited',
    producer: 'cloudflare',
    minScore: 12,
    layer: 'rate-limit',
    cause: 'A Cloudflare rate limiting rule throttled the client (error 1015).',
    remedies: [
      'Slow down and retry after the period in Retry-After; batch or cache calls.',
      'Zone owner: raise the threshold of the rate limiting rule under Security > WAF > Rate limiting rules, or count by API key instead of IP.',
    ],
    match: [
      ...edge,
      { body: ['error code: 1015', 'error 1015', 'cf-error-code">1015'], weight: 12 },
      { body: 'you are being rate limited', weight: 4 },
      { status: [429, 403], weight: 1 },
    ],
  },
  {
    id: 'cloudflare.challenge',
    producer: 'cloudflare',
    layer: 'waf',
    cause: 'Cloudflare answered with a managed/JavaScript challenge (bot protection); a non-browser client cannot solve it, so the call fails.',
    remedies: [
      'Zone owner: skip Bot Fight Mode / Super Bot Fight Mode and challenge rules for API paths, or exempt verified clients with a custom rule.',
      'Use an API hostname without challenges for machine clients; browsers must allow JavaScript and cookies (cf_clearance).',
    ],
    match: [
      ...edge,
      { header: 'cf-mitigated', contains: 'challenge', weight: 12 },
      { title: 'just a moment', weight: 6 },
      { body: ['challenges.cloudflare.com', '_cf_chl_opt', 'cdn-cgi/challenge-platform', 'enable javascript and cookies to continue'], weight: 8 },
      { status: [403, 503], weight: 1 },
    ],
    minScore: 10,
  },
  {
    id: 'cloudflare.waf-block',
    producer: 'cloudflare',
    layer: 'waf',
    cause: 'Cloudflare WAF (managed rules, security level or DDoS protection) blocked the request as an attack.',
    remedies: [
      'Find the Ray ID under Security > Events to see the rule id (OWASP / Cloudflare Managed Ruleset) that matched.',
      'Add a WAF exception (skip rule) for the false positive on this path or parameter instead of lowering protection zone-wide.',
      'Check the request body and query for strings that look like SQL, script or path traversal.',
    ],
    match: [
      ...edge,
      { body: ['sorry, you have been blocked', 'this website is using a security service to protect itself', 'the action you just performed triggered the security solution'], weight: 10, required: true },
      { title: 'attention required! | cloudflare', weight: 4 },
      { body: 'cloudflare ray id', weight: 3 },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'cloudflare.access',
    producer: 'cloudflare',
    layer: 'authn',
    cause: 'Cloudflare Access (Zero Trust) protects this application and the request carried no valid Access identity or service token.',
    remedies: [
      'Browsers: sign in through the Access login page; API clients: send CF-Access-Client-Id and CF-Access-Client-Secret of a service token.',
      'Owner: check the Access application policy includes this user, group or service token (Zero Trust > Access > Applications).',
    ],
    match: [
      { header: 'cf-ray', weight: 3 },
      { body: ['cloudflareaccess.com', 'cf_authorization'], weight: 10 },
      { cookie: 'CF_Authorization', weight: 4 },
      { header: 'www-authenticate', contains: 'cloudflare-access', weight: 10 },
      { status: [401, 403, 302], weight: 1 },
    ],
    minScore: 8,
  },
  {
    id: 'cloudflare.access-denied-rule',
    producer: 'cloudflare',
    layer: 'waf',
    cause: 'Cloudflare denied access by a site-owner rule (error 1012), or hotlink protection refused a cross-site image request (error 1011).',
    remedies: [
      'Zone owner: look up the Ray ID in Security > Events to find the rule; for 1011, allow the referring site in Hotlink Protection or serve the asset from your own page.',
    ],
    match: [...edge, { body: ['error code: 1012', 'error code: 1011', 'cf-error-code">1012', 'cf-error-code">1011'], weight: 12, required: true }, { status: 403, weight: 1 }],
  },
  {
    id: 'cloudflare.origin-dns',
    producer: 'cloudflare',
    layer: 'upstream',
    cause: 'Cloudflare could not resolve the origin host name (error 1016 Origin DNS error).',
    remedies: ['Fix the DNS record the zone points at (CNAME target or A record) so it resolves publicly.'],
    match: [...edge, { body: ['error code: 1016', 'cf-error-code">1016', 'origin dns error'], weight: 12, required: true }],
  },
  {
    id: 'cloudflare.direct-ip',
    producer: 'cloudflare',
    layer: 'cdn',
    cause: 'The request reached Cloudflare by IP address or with a Host that no zone serves (errors 1000-1003, 1034).',
    remedies: [
      'Call the site by its hostname, not by a Cloudflare IP, and make sure the Host header and SNI name match.',
      'Owner: check the DNS record points to the origin, not to another Cloudflare IP.',
    ],
    match: [
      ...edge,
      { body: ['error code: 1003', 'error code: 1000', 'error code: 1001', 'error code: 1034', 'direct ip access not allowed', 'dns points to prohibited ip'], weight: 12, required: true },
    ],
  },
  {
    id: 'cloudflare.origin-error',
    producer: 'cloudflare',
    layer: 'upstream',
    cause: 'Cloudflare could not get a valid answer from the origin server (52x: down, timeout, TLS error).',
    remedies: [
      'Check the origin is up and reachable from Cloudflare IP ranges (firewalls often block them).',
      'For 525/526, fix the origin certificate or the SSL/TLS mode; for 524, make the origin answer within 100 s.',
    ],
    match: [
      ...edge,
      { status: [520, 521, 522, 523, 524, 525, 526, 530], weight: 3, required: true },
      { body: ['web server is down', 'connection timed out', 'origin is unreachable', 'a timeout occurred', 'ssl handshake failed', 'invalid ssl certificate', 'web server is returning an unknown error', 'error code: 52'], weight: 6 },
    ],
  },
  {
    id: 'cloudflare.api-auth',
    producer: 'cloudflare',
    layer: 'authn',
    cause: 'The Cloudflare API rejected the credentials (bad or missing API token, or a token without the needed permission).',
    remedies: [
      'Send Authorization: Bearer <API token>; legacy global keys need X-Auth-Email and X-Auth-Key instead.',
      'Check the token permissions and zone/account resources in My Profile > API Tokens.',
    ],
    match: [
      { header: 'cf-ray', weight: 3 },
      { host: 'api.cloudflare.com', weight: 4 },
      { json: 'success', equals: false, weight: 2 },
      { json: 'errors.0.message', contains: 'authentication error', weight: 8, required: 'message' },
      { json: 'errors.0.message', contains: 'invalid access token', weight: 8, required: 'message' },
      { json: 'errors.0.message', contains: 'invalid request headers', weight: 6, required: 'message' },
      { status: [400, 401, 403], weight: 1 },
    ],
    minScore: 9,
  },
  {
    id: 'cloudflare.plain-page',
    producer: 'cloudflare',
    layer: 'cdn',
    cause: "Cloudflare's edge answered with its bare nginx-style page (\"<center>cloudflare</center>\"): the host is not served by this zone, SNI and Host disagree, or a Worker/R2 bucket refused it.",
    remedies: [
      'Call the hostname exactly as configured in the zone and make sure SNI and Host match (no IP or other-domain Host).',
      'If a Worker or R2 bucket serves the route, check its code/bucket permissions.',
    ],
    match: [...edge, { body: ['<center>cloudflare</center>', '<center>cloudflare-nginx</center>'], weight: 10, required: true }, { status: [400, 403, 404, 409], weight: 1 }],
  },
  {
    id: 'cloudflare.edge',
    producer: 'cloudflare',
    layer: 'cdn',
    cause: 'The response passed through Cloudflare but carries no Cloudflare block page: the origin (or a Worker) most likely produced the denial and Cloudflare relayed it.',
    remedies: [
      'Look past the CDN: check the origin server and application logs for this request (match the cf-ray value).',
      "If the origin blocks Cloudflare's IPs or expects the real client IP, restore it with CF-Connecting-IP and allow Cloudflare ranges.",
    ],
    match: [...edge, { status: [401, 403, 405, 429], weight: 1 }],
  },
]
