/** What a command may touch of the outside world; tests pass an in-memory one. */
export interface Io {
  stdout(text: string): void
  stderr(text: string): void
  /** Colour only on a TTY without NO_COLOR. */
  color: boolean
  env: Record<string, string | undefined>
  cwd: string
}

/** One CLI command. `run` returns the exit code; only main.ts exits. */
export interface Command {
  name: string
  summary: string
  usage: string
  examples: string[]
  run(args: string[], io: Io): Promise<number>
}

/** Exit codes shared by all commands (STYLE.md). */
export const exitCodes = { ok: 0, problems: 1, usage: 2, denied: 3 } as const

/** An Io that records output, for tests. */
export function createMemoryIo(env: Record<string, string | undefined> = {}, cwd = process.cwd()): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    color: false,
    env,
    cwd,
    stdout(text: string) { io.out += text },
    stderr(text: string) { io.err += text },
  }
  return io
}
