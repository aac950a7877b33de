import { authnPolicy } from './authn/index.js'
import { authzPolicy } from './authz/index.js'
import { bodyPolicy } from './body/index.js'
import { corsPolicy } from './cors/index.js'
import type { PolicyDefinition } from './define.js'
import { ipPolicy } from './ip/index.js'

/**
 * Every policy, in pipeline order (SPEC §1): ip → cors → body → waf → authn →
 * subscription → authz → csrf → rate-limit → transform. The order is pinned by a test.
 */
export const policies: readonly PolicyDefinition[] = [ipPolicy, corsPolicy, bodyPolicy, authnPolicy, authzPolicy] as PolicyDefinition[]
