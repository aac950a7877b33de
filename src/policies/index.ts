import { authnPolicy } from './authn/index.js'
import { authzPolicy, authzRulesPolicy } from './authz/index.js'
import { bodyPolicy } from './body/index.js'
import { corsPolicy } from './cors/index.js'
import { csrfPolicy } from './csrf/index.js'
import type { PolicyDefinition } from './define.js'
import { ipPolicy } from './ip/index.js'
import { modelsPolicy } from './models/index.js'
import { budgetPolicy } from './budget/index.js'
import { rateLimitPolicy } from './rate-limit/index.js'
import { subscriptionPolicy } from './subscription/index.js'
import { transformPolicy } from './transform/index.js'
import { wafPolicy } from './waf/index.js'

/**
 * Every policy, in pipeline order (SPEC §1): ip → cors → body → waf → authn →
 * subscription → authz → csrf → models → rate-limit → budget → transform. The order is pinned
 * by a test. `models` and `budget` guard ai routes (issue 7).
 */
export const policies: readonly PolicyDefinition[] = [ipPolicy, corsPolicy, bodyPolicy, wafPolicy, authnPolicy, subscriptionPolicy, authzPolicy, authzRulesPolicy, csrfPolicy, modelsPolicy, rateLimitPolicy, budgetPolicy, transformPolicy] as PolicyDefinition[]
