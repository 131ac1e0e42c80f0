import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export const BIN = join(REPO_ROOT, 'dist/bin/tosia.js');

export interface CliResult { code: number | null; stdout: string; stderr: string; signal?: string | null }

/** Spawn the built CLI (make test builds it first). A run past the timeout is killed with SIGKILL: a hang fails its test, even one that ignores SIGTERM. */
export function tosia(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): CliResult {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run 'make build' (make test does it) before the CLI tests`);
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, encoding: 'utf8', timeout: opts.timeout ?? 60_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}
