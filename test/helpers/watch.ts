import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';

/** A `tosia watch` process with its NDJSON events collected. */
export class Watch {
  readonly proc: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  stderr = '';
  private partial = '';
  constructor(dir: string, out: string, extra: string[] = []) {
    this.proc = spawn(process.execPath, [BIN, 'watch', dir, '--out', out, '--progress', 'json', '--stable', '600', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (c) => {
      this.partial += c;
      const lines = this.partial.split('\n');
      this.partial = lines.pop()!;
      for (const l of lines) if (l.trim()) this.events.push(JSON.parse(l) as Record<string, unknown>);
    });
    this.proc.stderr!.on('data', (c) => (this.stderr += c));
  }
  /** Files reported (done or failed) so far, each time it was reported. */
  reported(skipped?: boolean): string[] {
    return this.events.filter((e) => (e.type === 'file-done' || e.type === 'file-failed') && (skipped === undefined || e.skipped === skipped)).map((e) => e.file as string);
  }
  async until(what: () => boolean, timeoutMs = 240_000): Promise<void> {
    const t0 = Date.now();
    while (!what()) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`tosia watch exited ${this.proc.exitCode ?? this.proc.signalCode}: ${this.stderr}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out; ${this.reported().length} reported; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
    const code = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    p.kill(signal);
    return code;
  }
}
