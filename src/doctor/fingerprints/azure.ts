import type { Fingerprint } from '../fingerprint.js'

const frontDoor = [
  { header: 'x-azure-ref', weight: 6 },
  { header: 'x-fd-int-roxy-purgeid', weight: 3 },
  { header: 'x-msedge-ref', weight: 4 },
] as const

const storage = [
  { host: ['.blob.core.', '.file.core.', '.queue.core.', '.table.core.', '.dfs.core.'], weight: 3 },
  { header: 'server', contains: 'windows-azure-', weight: 6 },
  { header: 'x-ms-request-id', weight: 2 },
] as const

const apim = [
  { host: 'azure-api.net', weight: 3 },
  { header: 'ocp-apim-trace-location', weight: 6 },
  { header: 'apim-request-id', weight: 4 },
] as const

/** Microsoft Azure: Front Door, Application Gateway, Storage, API Management, App Service, Entra ID, Azure OpenAI. */
export const azureFingerprints: Fingerprint[] = [
  {
    id: 'azure-front-door.waf-blocked',
    producer: 'azure-front-door',
    layer: 'waf',
    cause: 'The Azure Front Door WAF policy (managed rule set, bot rules or a custom rule) blocked the request.',
    remedies: [
      'Search FrontDoorWebApplicationFirewallLog for the x-azure-ref value (TrackingReference) to find the rule id.',
      'Add an exclusion for the matched field or a custom Allow rule for the path, or switch the rule to Log while tuning.',
    ],
    match: [
      ...frontDoor,
      { body: 'the request is blocked', weight: 7, required: true },
      { status: [403, 429], weight: 1 },
    ],
    // The phrase alone is ordinary English; with Front Door's x-azure-ref it is the WAF's default page.
    minScore: 12,
  },
  {
    id: 'azure-front-door.edge',
    producer: 'azure-front-door',
    layer: 'cdn',
    cause: 'The response passed through Azure Front Door / Azure CDN without a WAF block page: the origin most likely produced the denial.',
    remedies: ['Check the origin app logs for the request; make sure the origin allows the AzureFrontDoor.Backend service tag and checks X-Azure-FDID.'],
    match: [...frontDoor, { status: [401, 403, 405, 429], weight: 1 }],
  },
  {
    id: 'azure-front-door.no-route',
    producer: 'azure-front-door',
    layer: 'cdn',
    cause: 'Azure Front Door has no route for this host or path, or the origin is unreachable.',
    remedies: ['Check the endpoint route and domain association; verify the origin host name and health probes.'],
    match: [...frontDoor, { body: ['our services aren\'t available right now', 'page not found'], weight: 6 }],
    minScore: 10,
  },
  {
    id: 'azure-app-gateway.waf-blocked',
    producer: 'azure-app-gateway',
    layer: 'waf',
    cause: 'Azure Application Gateway answered 403 itself: its WAF (OWASP CRS / DRS rules) blocked the request.',
    remedies: [
      'Query ApplicationGatewayFirewallLog (AzureDiagnostics) for the request to see ruleId and the matched field.',
      'Add a per-rule exclusion for the matched request attribute, or disable the single false-positive rule in the WAF policy.',
      'Check the WAF request body size limits for large JSON uploads.',
    ],
    match: [
      { body: 'microsoft-azure-application-gateway', weight: 10, required: true },
      { status: 403, weight: 3, required: true },
      { header: 'server', contains: 'microsoft-azure-application-gateway', weight: 4 },
    ],
  },
  {
    id: 'azure-app-gateway.upstream',
    producer: 'azure-app-gateway',
    layer: 'upstream',
    cause: 'Azure Application Gateway could not reach a healthy backend (502/504).',
    remedies: ['Check Backend health in the portal: probe path, NSG rules and certificate trust for HTTPS backends.'],
    match: [
      { body: 'microsoft-azure-application-gateway', weight: 10, required: true },
      { status: [502, 503, 504], weight: 3, required: true },
    ],
  },
  {
    id: 'azure-storage.authorization-failure',
    producer: 'azure-storage',
    layer: 'ip-filter',
    cause: 'Azure Storage refused the request (AuthorizationFailure): the storage firewall / virtual network rules do not include the client network, or the account disallows this access.',
    remedies: [
      'Add the client IP or subnet under Networking > Firewalls and virtual networks, or use a private endpoint.',
      'If network access is fine, check that shared key or SAS access is allowed on the account.',
    ],
    match: [...storage, { body: ['<code>authorizationfailure</code>', 'authorizationfailure'], weight: 11, required: true }, { status: 403, weight: 1 }],
  },
  {
    id: 'azure-storage.source-ip-mismatch',
    producer: 'azure-storage',
    layer: 'ip-filter',
    cause: 'The SAS token is restricted to IP addresses that do not include the caller (AuthorizationSourceIPMismatch).',
    remedies: ['Issue a SAS with the right sip= range or without the IP restriction.'],
    match: [...storage, { body: 'authorizationsourceipmismatch', weight: 12, required: true }],
  },
  {
    id: 'azure-storage.permission-mismatch',
    producer: 'azure-storage',
    layer: 'authz',
    cause: 'The caller authenticated with Entra ID but lacks a data-plane role (AuthorizationPermissionMismatch).',
    remedies: [
      "Assign 'Storage Blob Data Reader/Contributor' (not just Owner/Contributor) on the account or container; role assignments take a few minutes.",
      'For SAS tokens, include the needed permissions (sp=r, w, c...).',
    ],
    match: [...storage, { body: ['authorizationpermissionmismatch', 'authorizationresourcetypemismatch', 'authorizationservicemismatch', 'insufficientaccountpermissions'], weight: 12, required: true }],
  },
  {
    id: 'azure-storage.authentication-failed',
    producer: 'azure-storage',
    layer: 'authn',
    cause: 'Azure Storage could not authenticate the request (AuthenticationFailed): bad shared-key signature, expired or malformed SAS, or clock skew.',
    remedies: [
      'Check the SAS start/expiry (se=, st=) and the server clock; regenerate the SAS with the current account key.',
      'For shared key auth, sign the exact canonical headers sent (x-ms-date, x-ms-version).',
    ],
    match: [...storage, { body: ['<code>authenticationfailed</code>', 'server failed to authenticate the request', 'noauthenticationinformation', 'keybasedauthenticationnotpermitted'], weight: 12, required: true }],
  },
  {
    id: 'azure-storage.public-access',
    producer: 'azure-storage',
    layer: 'authz',
    cause: 'Anonymous access is off for this account or container (PublicAccessNotPermitted / ResourceNotFound for anonymous reads).',
    remedies: ['Use a SAS or Entra ID token, or enable anonymous blob access on the account and the container access level.'],
    match: [...storage, { body: ['publicaccessnotpermitted', 'public access is not permitted'], weight: 12, required: true }],
  },
  {
    id: 'azure-apim.missing-subscription-key',
    producer: 'azure-apim',
    layer: 'authn',
    cause: 'Azure API Management requires a subscription key and none (or an invalid one) was sent.',
    remedies: [
      'Send Ocp-Apim-Subscription-Key (or the subscription-key query parameter) with an active subscription key for a product that contains this API.',
      'Check the key is for the right APIM instance and the subscription is not suspended.',
    ],
    match: [
      ...apim,
      { body: ['access denied due to missing subscription key', 'access denied due to invalid subscription key.'], weight: 12, required: 'signal' },
      { header: 'www-authenticate', contains: 'azureapimanagementkey', weight: 10, required: 'signal' },
      { status: 401, weight: 1 },
    ],
  },
  {
    id: 'azure-apim.jwt-invalid',
    producer: 'azure-apim',
    layer: 'authn',
    cause: 'An APIM validate-jwt policy rejected the token (missing, expired, wrong audience or issuer).',
    remedies: ['Decode the token and compare aud/iss/exp with the validate-jwt policy; send it as Authorization: Bearer.'],
    match: [...apim, { body: ['invalid jwt.', 'jwt not present', 'unauthorized. access token is missing or invalid'], weight: 7, required: true }],
    minScore: 10,
  },
  {
    id: 'azure-apim.rate-limited',
    producer: 'azure-apim',
    layer: 'rate-limit',
    cause: 'An APIM rate-limit or quota policy throttled the subscription or key.',
    remedies: ['Back off for the seconds given; raise the rate-limit-by-key / quota in the product policy.'],
    match: [...apim, { body: ['rate limit is exceeded', 'out of call volume quota'], weight: 10, required: true }, { status: [429, 403], weight: 1 }],
  },
  {
    id: 'azure-apim.ip-filter',
    producer: 'azure-apim',
    layer: 'ip-filter',
    cause: 'An APIM ip-filter policy refused the caller IP.',
    remedies: ['Add the client egress IP to the ip-filter allow list of the API or product policy.'],
    match: [...apim, { body: ['caller ip address', 'ip address', 'ip-filter'], weight: 4, required: true }, { json: 'statusCode', equals: 403, weight: 4 }],
    minScore: 12,
  },
  {
    id: 'azure-app-service.access-restriction',
    producer: 'azure-app-service',
    layer: 'ip-filter',
    cause: 'Azure App Service access restrictions refused the client IP (or the site only accepts traffic from Front Door / a VNet).',
    remedies: ['Add an Allow rule for the client IP or service tag under Networking > Access restrictions (main site and SCM site are separate).'],
    match: [
      { body: 'the web app you have attempted to reach has blocked your access', weight: 11, required: true },
      { body: 'error 403 - forbidden', weight: 2 },
      { cookie: 'ARRAffinity', weight: 2 },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'azure-app-service.stopped',
    producer: 'azure-app-service',
    layer: 'server-config',
    cause: 'The Azure web app is stopped (or its quota is exceeded), so App Service serves a 403 page.',
    remedies: ['Start the app in the portal; check the plan quota (Free/Shared tiers stop the app when CPU time is used up).'],
    match: [{ body: ['this web app is stopped', 'error 403 - this web app is stopped'], weight: 12, required: true }],
  },
  {
    id: 'azure-ad.sts-error',
    producer: 'azure-ad',
    layer: 'authn',
    cause: 'Microsoft Entra ID (Azure AD) refused the token request; the AADSTS code names the reason (bad secret, consent missing, user not assigned, conditional access).',
    remedies: [
      'Look up the AADSTS code: 7000215 bad client secret, 65001 consent missing, 50105 user not assigned to the app, 53003 conditional access.',
      'Check the tenant, client id and scope (use api://<app>/.default for client credentials).',
    ],
    match: [{ body: 'aadsts', weight: 11, required: true }, { header: 'x-ms-request-id', weight: 1 }, { host: 'login.microsoftonline.com', weight: 3 }, { status: [400, 401, 403], weight: 1 }],
  },
  {
    id: 'azure-ad.invalid-token',
    producer: 'azure-ad',
    layer: 'authn',
    cause: 'A Microsoft API (Graph, ARM) rejected the bearer token: expired, wrong audience, or issued by another tenant.',
    remedies: ['Request the token for the right resource (https://graph.microsoft.com/.default or https://management.azure.com/.default) and tenant.'],
    match: [
      { body: ['invalidauthenticationtoken', 'expiredauthenticationtoken', 'access token has expired or is not yet valid', 'the access token is invalid'], weight: 10, required: true },
      { status: 401, weight: 1 },
    ],
  },
  {
    id: 'azure-ad.authorization-failed',
    producer: 'azure-ad',
    layer: 'authz',
    cause: 'Azure RBAC or Graph permissions do not allow the call (AuthorizationFailed / Authorization_RequestDenied).',
    remedies: ['Assign the role named in the message at the right scope, or grant and admin-consent the Graph application permission.'],
    match: [{ body: ['"code":"authorizationfailed"', 'authorization_requestdenied', 'insufficient privileges to complete the operation', 'does not have authorization to perform action'], weight: 11, required: true }, { status: 403, weight: 1 }],
  },
  {
    id: 'azure-openai.invalid-key',
    producer: 'azure-openai',
    layer: 'authn',
    cause: 'Azure OpenAI rejected the key or endpoint: wrong api-key, a key for another resource, or the wrong regional endpoint.',
    remedies: ['Send the resource key in the api-key header (not Authorization: Bearer unless using Entra ID) and use https://<resource>.openai.azure.com.'],
    match: [
      { body: ['invalid subscription key or wrong api endpoint', 'use a correct regional api endpoint'], weight: 14, required: true },
      { host: ['openai.azure.com', 'cognitiveservices.azure.com'], weight: 3 },
      { header: 'apim-request-id', weight: 2 },
      { status: 401, weight: 1 },
    ],
  },
  {
    id: 'azure-openai.network',
    producer: 'azure-openai',
    layer: 'ip-filter',
    cause: 'The Azure AI / OpenAI resource restricts network access (private endpoint or selected networks) and the caller is outside it.',
    remedies: ['Add the caller IP or VNet under Networking of the resource, or call through its private endpoint.'],
    match: [
      { body: ['traffic is not from an approved private endpoint', 'public access is disabled', 'virtual network/firewall rules'], weight: 11, required: true },
      { status: 403, weight: 1 },
    ],
  },
  {
    id: 'azure-openai.rate-limited',
    producer: 'azure-openai',
    layer: 'rate-limit',
    cause: "The Azure OpenAI deployment's tokens-per-minute or requests-per-minute quota was exceeded.",
    remedies: ['Retry after the Retry-After seconds; raise the deployment TPM quota or spread load over deployments.'],
    match: [
      { body: ['azure openai api version', 'exceeded token rate limit', 'exceeded call rate limit'], weight: 10, required: true },
      { header: 'x-ratelimit-remaining-tokens', weight: 2 },
      { status: 429, weight: 2 },
    ],
  },
]
