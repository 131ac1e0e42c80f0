import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export const BIN = join(REPO_ROOT, 'dist/bin/tosia.js');

export interface CliResult { code: number | null; stdout: string; stderr: string; signal?: string | null }
export interface RunOptions { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; input?: string | Buffer }

/**
 * Run a program to its end and collect what it printed. Never spawnSync in a test for anything
 * that may take long: vitest's worker answers its runner's calls only between tasks of its event
 * loop, and a child that holds the loop for a minute on a loaded machine (a batch, a notebook)
 * makes that call time out and fails the run with "Timeout calling onTaskUpdate". A run past the
 * timeout is killed with SIGKILL, so a hang fails its test, even one that ignores SIGTERM.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    if (opts.input !== undefined) p.stdin!.end(opts.input);
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 60_000);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, signal });
    });
  });
}

/** Run the built CLI (make test builds it first). */
export function tosia(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run 'make build' (make test does it) before the CLI tests`);
  return run(process.execPath, [BIN, ...args], opts);
}
