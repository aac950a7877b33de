import type { AdminEndpoint } from '../types.js'

/** AI usage and cost endpoints (issue 7). */
export const aiUsageEndpoints: AdminEndpoint[] = []
