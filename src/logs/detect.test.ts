import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { detectFormat } from './detect.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').split(/\r?\n/)

describe('format detection', () => {
  it.each([
    ['nginx-combined.log', 'nginx'],
    ['apache-access.log', 'apache'],
    ['apache-error.log', 'apache-error'],
    ['nginx-error.log', 'nginx-error'],
    ['iis-w3c.log', 'iis'],
    ['modsec-audit-native.log', 'modsec-native'],
    ['modsec-audit.json', 'modsec-json'],
    ['gatehouse.jsonl', 'gatehouse'],
  ])('recognises %s as %s', (file, format) => {
    expect(detectFormat(fixture(file))).toEqual({ format })
  })

  it('calls combined lines with "-" body sizes Apache', () => {
    expect(detectFormat(['1.2.3.4 - - [19/Mar/2024:09:42:10 +0000] "GET / HTTP/1.1" 304 - "-" "curl/8"'])).toEqual({ format: 'apache' })
  })

  it('explains why nothing matched', () => {
    const result = detectFormat(['hello world', 'another line'])
    expect(result.format).toBeNull()
    expect(result).toMatchObject({ reason: expect.stringContaining('first line: "hello world"') })
    expect(detectFormat(['{"a":1}'])).toMatchObject({ format: null, reason: expect.stringContaining('JSON') })
  })
})
