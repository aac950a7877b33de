import type { Rule } from '../../core/denial.js'

/**
 * Rules of the `transform` layer: none. A transform only edits what goes upstream and back;
 * it never refuses a request. Its mistakes surface as config warnings (see `lint`).
 */
export const rules = {} as const satisfies Record<string, Rule>
