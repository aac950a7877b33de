import type { Fingerprint } from '../fingerprint.js'

// Akamai's edge error page reads "Access Denied ... You don't have permission to access
// "http://host/path" on this server. Reference #18.xxxx" (entity-encoded on the wire, decoded
// before matching) and links errors.edgesuite.net. Bot Manager sets _abck / bm_sz / ak_bmsc cookies.
const edge = [
  { header: 'server', contains: 'akamaighost', weight: 6 },
  { header: 'server', contains: 'akamainetstorage', weight: 6 },
  { header: 'akamai-grn', weight: 6 },
  { header: 'x-akamai-transformed', weight: 4 },
  { header: 'akamai-cache-status', weight: 4 },
] as const

/** Akamai: edge deny (App & API Protector / Kona), Bot Manager, rate controls. */
export const akamaiFingerprints: Fingerprint[] = [
  {
    id: 'akamai.edge-deny',
    producer: 'akamai',
    layer: 'waf',
    cause: "Akamai's edge refused the request (App & API Protector / Kona Site Defender WAF rule, IP/geo block, or a property deny rule).",
    remedies: [
      'Give the site owner the Reference # from the page: it finds the exact rule in Security Center / Web Security Analytics.',
      'Owner: add an exception for the matched rule and path, or put the client in an allow-listed network list.',
      'Check the User-Agent and request body for patterns WAF rules flag.',
    ],
    match: [
      ...edge,
      { body: ['errors.edgesuite.net', 'reference #18.', 'reference #'], weight: 7, required: 'page' },
      { body: ['permission to access "http://', 'permission to access "https://'], weight: 4, required: 'page' },
      { body: "you don't have permission to access", weight: 3, required: 'page' },
      { title: 'access denied', weight: 3, required: 'page' },
      { status: 403, weight: 1 },
    ],
    minScore: 9,
  },
  {
    id: 'akamai.bot-manager',
    producer: 'akamai',
    layer: 'waf',
    cause: 'Akamai Bot Manager classified the client as a bot (no valid _abck sensor data) and denied or challenged it.',
    remedies: [
      'Owner: add the client to a bot allow list or a transactional endpoint exception for API paths.',
      'Clients must run the Bot Manager script (browser) — plain HTTP libraries cannot produce valid sensor data.',
    ],
    match: [
      ...edge,
      { cookie: '_abck', weight: 6 },
      { cookie: 'bm_sz', weight: 4 },
      { cookie: 'ak_bmsc', weight: 4 },
      { cookie: 'bm_sv', weight: 3 },
      // The cookies are set on every page of a protected site; only the deny page means a block.
      { title: 'access denied', weight: 2, required: 'page' },
      { body: ['reference #', 'errors.edgesuite.net'], weight: 2, required: 'page' },
      { status: [403, 428], weight: 1 },
    ],
    minScore: 12,
  },
  {
    id: 'akamai.rate-control',
    producer: 'akamai',
    layer: 'rate-limit',
    cause: 'An Akamai rate control policy throttled the client.',
    remedies: ['Slow down; owner: raise the rate policy threshold or exclude trusted API clients.'],
    match: [...edge, { status: 429, weight: 3, required: true }],
    minScore: 6,
  },
  {
    id: 'akamai.edge',
    producer: 'akamai',
    layer: 'cdn',
    cause: 'The response passed through Akamai without an Akamai deny page: the origin most likely produced it.',
    remedies: ['Check the origin logs; use the Akamai-GRN / request id to trace it, and confirm the origin allows Akamai (SiteShield) IPs.'],
    match: [...edge, { status: [401, 403, 405], weight: 1 }],
  },
]
