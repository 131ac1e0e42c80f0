import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.js';
import { variant } from './harness.js';

export const NATS_BIN = process.env.TOSIA_NATS_SERVER ?? '/usr/sbin/nats-server';

/** Queue tests start their own nats-server; without the binary they skip, except under CI=true. */
export function natsMissing(): string | null {
  if (existsSync(NATS_BIN)) return null;
  const why = `${NATS_BIN} is absent (Debian's nats-server package)`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI=true requires it`);
  console.warn(`skipping queue tests: ${why}`);
  return why;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A nats-server with JetStream on file storage, which a test may kill and start again on the same port and store. */
export class Nats {
  proc: ChildProcess | null = null;
  readonly store = mkdtempSync(join(tmpdir(), 'tosia-nats-'));
  /** `monitorPort`: nats-server's HTTP monitoring (/jsz), which KEDA's nats-jetstream scaler reads. */
  constructor(readonly port: number, readonly monitorPort?: number) {}
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const monitor = this.monitorPort === undefined ? [] : ['-m', String(this.monitorPort)];
    this.proc = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.store, ...monitor], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      this.proc!.stderr!.on('data', (c) => {
        err += c;
        if (/Server is ready/.test(err)) resolve();
      });
      this.proc!.once('exit', (code) => reject(new Error(`nats-server exited ${code}: ${err}`)));
    });
  }
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => {
      p.once('exit', r);
      p.kill('SIGKILL');
    });
  }
}

/** A `tosia worker` process; restart() brings it back after it dies, as a supervisor would. */
export class Worker {
  proc: ChildProcess | null = null;
  log = '';
  stopped = false;
  deaths = 0;
  constructor(private readonly args: string[], private readonly env: NodeJS.ProcessEnv = {}, private readonly supervise = false) {}
  start(): this {
    const proc = spawn(process.execPath, [BIN, 'worker', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc = proc;
    proc.stdout!.on('data', (c) => (this.log += c));
    proc.stderr!.on('data', (c) => (this.log += c));
    proc.once('exit', () => {
      if (this.stopped || !this.supervise) return;
      this.deaths++;
      setTimeout(() => !this.stopped && this.start(), 100);
    });
    return this;
  }
  exited(): Promise<number | null> {
    const p = this.proc!;
    return p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (c) => r(c)));
  }
  /** Lines the worker logged for finished jobs. */
  jobs(): { job: string; file: string; ok: boolean }[] {
    return this.log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((l) => l.job);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => {
      p.once('exit', r);
      p.kill('SIGTERM');
    });
  }
}

/** n distinct short recordings (3.5 s each) in a fresh folder. */
export function recordings(n: number, extra: Record<string, Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tosia-queue-in-'));
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `rec-${String(i).padStart(4, '0')}.wav`), variant(5000 + i));
  for (const [name, bytes] of Object.entries(extra)) writeFileSync(join(dir, name), bytes);
  return dir;
}
