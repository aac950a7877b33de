import { resolve } from 'node:path'
import type { Io } from './io.js'

/** The config file a command reads: `-c/--config`, else `$GATEHOUSE_CONFIG`, else ./gatehouse.yaml. */
export function configPath(value: string | undefined, io: Io): string {
  return resolve(io.cwd, value ?? io.env.GATEHOUSE_CONFIG ?? 'gatehouse.yaml')
}

/** The `-c` option shared by commands that read the config. */
export const configOption = { config: { type: 'string', short: 'c' } } as const
