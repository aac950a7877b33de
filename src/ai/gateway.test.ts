import { describe, expect, it } from 'vitest'
import type { CompiledRoute } from '../gateway/compile.js'
import { aiEndpointOf } from './gateway.js'

const routeAt = (path: string) => ({ config: { match: { path } } }) as unknown as CompiledRoute

describe('aiEndpointOf', () => {
  it.each([
    ['/v1/*', '/v1/chat/completions', { kind: 'chat' }],
    ['/v1/*', '/v1/embeddings', { kind: 'embeddings' }],
    ['/v1/*', '/v1/models', { kind: 'list' }],
    ['/v1/*', '/v1/models/claude/claude-3-5-haiku', { kind: 'retrieve', id: 'claude/claude-3-5-haiku' }],
    ['/ai/*', '/ai/v1/chat/completions', { kind: 'chat' }],
    ['/ai/*', '/ai/chat/completions', { kind: 'chat' }],
    ['/ai/*', '/ai/v1/models/', { kind: 'list' }],
    ['/v1/chat/completions', '/v1/chat/completions', { kind: 'chat' }],
    ['/v1/*', '/v1/completions', { kind: 'unknown' }],
    ['/v1/*', '/v1/models/%E0%A4%A', { kind: 'unknown' }],
  ])('route %s: %s is %j', (pattern, path, expected) => {
    expect(aiEndpointOf(routeAt(pattern), path)).toEqual(expected)
  })
})
