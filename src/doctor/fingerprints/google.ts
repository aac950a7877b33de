import type { Fingerprint } from '../fingerprint.js'

// Google APIs use the AIP-193 JSON error: {"error":{"code","message","status","details":[ErrorInfo]}}.
const googleJson = [
  { host: 'googleapis.com', weight: 2 },
  { json: 'error.status', weight: 3 },
  { body: 'type.googleapis.com/google.rpc', weight: 4 },
  { header: 'server', contains: 'esf', weight: 2 },
] as const

// S3-compatible XML is shared with AWS and MinIO, so one Google-only signal is required.
const gcsHeaders = [
  { host: 'storage.googleapis.com', weight: 3, required: 'google' },
  { header: 'x-guploader-uploadid', weight: 6, required: 'google' },
  { header: 'server', contains: 'uploadserver', weight: 4, required: 'google' },
] as const

/** Google Cloud: Cloud Armor, Google APIs, Cloud Storage, IAP, Cloud Run / Google Front End. */
export const googleFingerprints: Fingerprint[] = [
  {
    id: 'google-cloud-armor.denied',
    producer: 'google-cloud-armor',
    layer: 'waf',
    cause: 'A Cloud Armor security policy on the Google load balancer denied the request (deny rule, preconfigured WAF rule or IP/geo rule).',
    remedies: [
      'In Logs Explorer filter resource.type="http_load_balancer" and jsonPayload.enforcedSecurityPolicy.outcome="DENY" to see the rule priority and name.',
      'Tune the preconfigured WAF rule (sensitivity, opt-out rule ids) or add a higher-priority allow rule for the client.',
    ],
    match: [
      { body: '<title>403</title>403 forbidden', weight: 10, required: true },
      { header: 'via', contains: 'google', weight: 3 },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'google-cloud-armor.rate-limited',
    producer: 'google-cloud-armor',
    layer: 'rate-limit',
    cause: 'A Cloud Armor throttle or rate-based-ban rule limited the client.',
    remedies: ['Back off; raise the rate limit threshold or key it by a header/API key instead of IP.'],
    match: [
      { body: '<title>429</title>429 too many requests', weight: 10, required: true },
      { header: 'via', contains: 'google', weight: 3 },
      { status: 429, weight: 1 },
    ],
  },
  {
    id: 'google-iap.denied',
    producer: 'google-iap',
    layer: 'authz',
    cause: 'Identity-Aware Proxy answered: the caller is not signed in, or lacks the IAP-secured Web App User role.',
    remedies: [
      "Grant 'IAP-secured Web App User' to the user or service account on the backend service.",
      'Programmatic callers must send an OIDC ID token with the IAP client id as audience.',
    ],
    match: [
      { header: 'x-goog-iap-generated-response', weight: 12, required: true },
      { body: ["you don't have access", 'invalid iap credentials', 'empty google account oauth token'], weight: 4 },
      { status: [401, 403], weight: 1 },
    ],
  },
  {
    id: 'google-apis.api-key-invalid',
    producer: 'google-apis',
    layer: 'authn',
    cause: 'The Google API key is invalid, deleted or for another project.',
    remedies: ['Create or copy a valid key in APIs & Services > Credentials and send it as key= or x-goog-api-key.'],
    match: [
      ...googleJson,
      { body: ['api key not valid', 'api_key_invalid'], weight: 12, required: true },
    ],
  },
  {
    id: 'google-apis.key-restricted',
    producer: 'google-apis',
    layer: 'authz',
    cause: 'The API key restrictions refuse this caller (HTTP referrer, IP address, app, or API not in the key\'s allowed list).',
    remedies: ['Edit the key restrictions: add the referrer or server IP, or add this API to the key\'s API restrictions.'],
    match: [
      ...googleJson,
      { body: ['api_key_http_referrer_blocked', 'api_key_ip_address_blocked', 'api_key_service_blocked', 'api_key_android_app_blocked', 'api_key_ios_app_blocked', 'requests from referer'], weight: 11, required: true },
    ],
  },
  {
    id: 'google-apis.service-disabled',
    producer: 'google-apis',
    layer: 'server-config',
    cause: 'The API is not enabled in the Google Cloud project that owns the credentials (SERVICE_DISABLED).',
    remedies: ['Enable the API in APIs & Services > Library for that project (the message links to it) and wait a few minutes.', 'Check which project the credentials or quota project point to.'],
    match: [...googleJson, { body: ['service_disabled', 'has not been used in project', 'it is disabled. enable it'], weight: 12, required: true }],
  },
  {
    id: 'google-apis.scope-insufficient',
    producer: 'google-apis',
    layer: 'authz',
    cause: 'The OAuth access token lacks the scope this API needs (ACCESS_TOKEN_SCOPE_INSUFFICIENT).',
    remedies: ['Request the scope listed in the API docs when obtaining the token and ask the user to consent again.'],
    match: [...googleJson, { body: ['access_token_scope_insufficient', 'insufficient authentication scopes', 'insufficientpermissions'], weight: 12, required: true }],
  },
  {
    id: 'google-apis.rate-limited',
    producer: 'google-apis',
    layer: 'rate-limit',
    cause: 'A Google API quota or rate limit was exceeded (RESOURCE_EXHAUSTED / rateLimitExceeded).',
    remedies: ['Back off exponentially; request a quota increase in IAM & Admin > Quotas for the metric named in the message.'],
    match: [
      ...googleJson,
      { body: ['resource_exhausted', 'ratelimitexceeded', 'userratelimitexceeded', 'quota exceeded for quota metric', 'dailylimitexceeded', 'rate_limit_exceeded'], weight: 11, required: true },
      { status: [403, 429], weight: 1 },
    ],
  },
  {
    id: 'google-apis.location-unsupported',
    producer: 'google-apis',
    layer: 'geo',
    cause: 'The Google API is not available in the caller\'s country or region.',
    remedies: ['Call from a supported region (or use the Vertex AI endpoint in a supported location).'],
    match: [...googleJson, { body: ['user location is not supported', 'not available in your country'], weight: 12, required: true }],
  },
  {
    id: 'google-apis.request-denied',
    producer: 'google-apis',
    layer: 'authz',
    cause: 'Google Maps Platform refused the request (REQUEST_DENIED): the key is missing, restricted, billing is off, or the API is not enabled for the project.',
    remedies: ['Read error_message: enable the API and billing for the key\'s project, and allow this API, referrer or IP in the key restrictions.'],
    match: [{ json: 'status', equals: 'REQUEST_DENIED', weight: 10, required: true }, { json: 'error_message', weight: 3 }],
  },
  {
    id: 'google-apis.unauthenticated',
    producer: 'google-apis',
    layer: 'authn',
    cause: 'The Google API received no valid credentials (UNAUTHENTICATED): missing or expired OAuth token.',
    remedies: ['Send Authorization: Bearer with a fresh token (gcloud auth print-access-token) or an API key where the API accepts one.'],
    match: [
      ...googleJson,
      { json: 'error.status', equals: 'UNAUTHENTICATED', weight: 9, required: 'signal' },
      { body: ['request had invalid authentication credentials', 'request is missing required authentication credential'], weight: 9, required: 'signal' },
      { body: ["method doesn't allow unregistered callers", 'jwt validation failed'], weight: 10, required: 'signal' },
      { status: 401, weight: 1, required: 'signal' },
    ],
    minScore: 9,
  },
  {
    id: 'google-apis.permission-denied',
    producer: 'google-apis',
    layer: 'authz',
    cause: 'The Google Cloud caller is authenticated but lacks the IAM permission for this resource (PERMISSION_DENIED).',
    remedies: ['Grant the role that contains the permission named in the message to the principal on the project or resource.', 'Check the request targets the intended project.'],
    match: [
      ...googleJson,
      { json: 'error.status', equals: 'PERMISSION_DENIED', weight: 9, required: 'signal' },
      { body: ['the caller does not have permission', 'permission denied on resource'], weight: 6, required: 'signal' },
      { status: 403, weight: 1, required: 'signal' },
    ],
    minScore: 9,
  },
  {
    id: 'gcs.access-denied',
    producer: 'gcs',
    layer: 'authz',
    cause: 'Google Cloud Storage refused access: the principal lacks storage.objects.* permission on the bucket or object (or uniform access / public access prevention is on).',
    remedies: [
      "Grant 'Storage Object Viewer/Creator' on the bucket to the principal named in the message.",
      'For public reads, check Public access prevention and grant allUsers only if intended.',
    ],
    match: [
      ...gcsHeaders,
      { body: ['does not have storage.', 'access denied.</message>', '<code>accessdenied</code>'], weight: 10, required: true },
      { body: ['does not have storage.', 'google cloud storage'], weight: 3, required: 'google' },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'gcs.signature',
    producer: 'gcs',
    layer: 'authn',
    cause: 'The Cloud Storage signed URL is invalid or expired (SignatureDoesNotMatch / ExpiredToken).',
    remedies: ['Regenerate the signed URL; send exactly the signed headers (Content-Type on PUT) and check the expiry.'],
    match: [
      ...gcsHeaders,
      { body: ['<code>signaturedoesnotmatch</code>', '<code>expiredtoken</code>', 'request has expired'], weight: 10, required: true },
    ],
    minScore: 14,
  },
  {
    id: 'google.automated-queries',
    producer: 'google',
    layer: 'rate-limit',
    cause: "Google's abuse protection flagged traffic from this IP as automated queries (the \"sorry\" page).",
    remedies: ['Slow down and use the official API with a key instead of scraping; shared egress IPs (NAT, VPN) trigger it for everyone behind them.'],
    match: [{ body: ['our systems have detected unusual traffic from your computer network', 'your computer or network may be sending automated queries'], weight: 12, required: true }, { status: [429, 403, 503], weight: 1 }],
  },
  {
    id: 'google.frontend-forbidden',
    producer: 'google',
    layer: 'authz',
    cause: "Google's front end refused the request: for Cloud Run / Cloud Functions the service requires authentication and the caller lacks the Invoker role (or ingress settings block the source).",
    remedies: [
      'Send an ID token (gcloud auth print-identity-token) whose audience is the service URL, and grant roles/run.invoker.',
      'Or allow unauthenticated invocations if the service is public; check ingress (internal / load balancer only).',
    ],
    match: [
      { body: 'your client does not have permission to get url', weight: 9 },
      { body: 'error: forbidden', weight: 2 },
      { title: ['error 403 (forbidden)', '403 forbidden'], weight: 3 },
      { body: "that’s an error", weight: 3 },
      { header: 'server', contains: 'google frontend', weight: 3 },
      { host: ['.run.app', 'cloudfunctions.net'], weight: 3 },
      { status: 403, weight: 1 },
    ],
    minScore: 10,
  },
]
