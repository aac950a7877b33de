import { describe, expect, it } from 'vitest'
import { compilePathPattern, matchesPath } from './permissions.js'

describe('permission path patterns', () => {
  it.each([
    ['/orders', '/orders', true],
    ['/orders', '/orders/', false],
    ['/orders', '/order', false],
    ['/orders', '/orders-old', false],
    ['/orders/:id', '/orders/12', true],
    ['/orders/:id', '/orders/', false],
    ['/orders/:id', '/orders/12/items', false],
    ['/orders/*', '/orders/12/items', true],
    ['/orders/*', '/orders/', true],
    ['/orders/*', '/orders', false],
    ['/orders/*', '/ordersx/1', false],
    ['/t/:t/orders/*', '/t/acme/orders/1', true],
    ['/t/:t/orders/*', '/t//orders/1', false],
    ['/', '/', true],
    ['/', '/orders', false],
    ['/*', '/anything/at/all', true],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(matchesPath(compilePathPattern(pattern), path)).toBe(expected)
  })
})
