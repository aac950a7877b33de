import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGateway, type Gateway, type GatewayOptions } from '../gateway/server.js'

export interface TestGateway extends Gateway {
  dir: string
  configFile: string
  /** Rewrites the config file (hot reload picks it up when `watch` is on). */
  writeConfig(yaml: string): void
}

/**
 * Starts a real gateway on 127.0.0.1:0 from YAML text, with its SQLite call log in a fresh
 * temp dir. Writes fast (10 ms batches) so tests can read the log right after a flush.
 */
export async function startTestGateway(yaml: string, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'))
  const configFile = join(dir, 'gatehouse.yaml')
  writeFileSync(configFile, yaml)
  const gateway = await startGateway({
    configFile,
    listen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    watch: false,
    storeOptions: { batchMs: 10 },
    env: { ...process.env, ...options.env },
    ...options,
  })
  return Object.assign(gateway, { dir, configFile, writeConfig: (text: string) => writeFileSync(configFile, text) })
}
