import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './object-stores.js';

const BIN = process.env.TOSIA_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL of the test's own (initdb on a free port, run as the postgres user), which a
 * fault test may restart, stop and freeze (SIGSTOP) freely. Where it cannot be made (no
 * PostgreSQL binaries, not root) the reason is returned; under CI=true that is a failure.
 */
export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'tosia-pg-'));
  port = 0;

  static missing(): string | null {
    const why = !existsSync(join(BIN, 'initdb')) ? `${BIN}/initdb is absent (Debian's postgresql)` : process.getuid?.() !== 0 ? 'a private PostgreSQL needs root (to run it as the postgres user)' : null;
    if (why && process.env.CI === 'true') throw new Error(`${why}; CI=true requires it`);
    if (why) console.warn(`skipping the PostgreSQL fault tests: ${why}`);
    return why;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private pg(tool: string, ...args: string[]): void {
    // no pipes: a server pg_ctl starts would inherit them and hold them open, and this call would
    // wait for their end for ever (the log file says what went wrong)
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args], { stdio: 'ignore', timeout: 60_000 });
    } catch (e) {
      const log = existsSync(join(this.dir, 'log')) ? readFileSync(join(this.dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${tool} ${args.join(' ')} failed: ${(e as Error).message}\n${log}`);
    }
  }

  async start(): Promise<this> {
    this.port ||= await freePort();
    chownSync(this.dir, 101, 104);
    execFileSync('chown', ['-R', 'postgres:postgres', this.dir]);
    if (!existsSync(join(this.dir, 'data'))) this.pg('initdb', '-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync');
    this.pg('pg_ctl', '-D', join(this.dir, 'data'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(this.dir, 'log'), '-w', 'start');
    return this;
  }

  /** pg_ctl restart -m fast: every connection is cut (57P01), the server back within a second or two. */
  restart(): void {
    this.pg('pg_ctl', '-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'restart');
  }

  stop(): void {
    this.pg('pg_ctl', '-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop');
  }

  private pids(): number[] {
    const main = Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('pgrep', ['-P', String(main)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    return [main, ...children];
  }

  /** SIGSTOP the server and its backends: connections stay open, nothing answers. */
  freeze(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGSTOP');
  }

  thaw(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGCONT');
  }

  async destroy(): Promise<void> {
    try {
      this.thaw();
    } catch {
      // not running: nothing to wake
    }
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
