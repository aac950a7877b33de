import type { PolicyDeps } from '../policies/define.js'
import { fakeClock } from './fake-clock.js'

/** Policy deps for tests: a fake clock, no consumers, an empty env; override what matters. */
export function makeDeps<T extends Partial<PolicyDeps>>(overrides: T = {} as T): PolicyDeps & T {
  return { clock: fakeClock(), consumers: [], routeName: 'orders-create', shared: new Map(), env: {}, ...overrides }
}
