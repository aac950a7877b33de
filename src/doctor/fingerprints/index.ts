import type { Fingerprint } from '../fingerprint.js'
import { akamaiFingerprints } from './akamai.js'
import { appFingerprints, developerApiFingerprints } from './apps.js'
import { awsFingerprints } from './aws.js'
import { azureFingerprints } from './azure.js'
import { cloudflareFingerprints } from './cloudflare.js'
import { frameworkFingerprints } from './frameworks.js'
import { gatewayFingerprints } from './gateways.js'
import { googleFingerprints } from './google.js'
import { platformFingerprints, registryAndAppFingerprints } from './platforms.js'
import { wafVendorFingerprints } from './waf-vendors.js'
import { webServerFingerprints } from './web-servers.js'

export { readGatehouseDecision } from './gatehouse.js'

/** Every known denial fingerprint, all families. Order only breaks exact score ties. */
export const fingerprints: readonly Fingerprint[] = [
  ...cloudflareFingerprints,
  ...awsFingerprints,
  ...azureFingerprints,
  ...googleFingerprints,
  ...akamaiFingerprints,
  ...wafVendorFingerprints,
  ...gatewayFingerprints,
  ...frameworkFingerprints,
  ...platformFingerprints,
  ...registryAndAppFingerprints,
  ...appFingerprints,
  ...developerApiFingerprints,
  ...webServerFingerprints,
]
