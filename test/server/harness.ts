import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import { defaultConfig } from '../../runtime/index.js';
import { createKey, createServer, type ServerOptions, type TosiaServer } from '../../server/index.js';
import { BIN } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

export const SAMPLE = join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav');
export const SAMPLE_BYTES = readFileSync(SAMPLE);

/** The sample with one data byte changed: different bytes (sha256), the same recording to the ear. */
export function variant(n: number): Buffer {
  const b = Buffer.from(SAMPLE_BYTES);
  b.writeUInt32LE(n, b.length - 4);
  return b;
}

export type Role = 'read' | 'write' | 'admin';

export interface Harness {
  srv: TosiaServer;
  url: string;
  dir: string;
  keys: Record<Role, string>;
  /** fetch against the server with a role's key. */
  call(path: string, init?: RequestInit & { role?: Role | null }): Promise<Response>;
  close(): Promise<void>;
}

/** Start a real server on a free loopback port, with one key of each role. */
export async function startServer(opts: Partial<ServerOptions> & { db?: string } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tosia-serve-'));
  const where = { dataDir: opts.dataDir ?? dir, db: opts.db };
  const keys = {} as Record<Role, string>;
  for (const role of ['read', 'write', 'admin'] as const) keys[role] = (await createKey(where, `${role}-${Math.random().toString(36).slice(2, 8)}`, role)).key;
  // the suites try every route with bad keys: the failed-authentication limit is tested on its own
  const srv = await createServer({ config: defaultConfig(), concurrency: 1, failedAuthPerMinute: 100_000, ...opts, dataDir: where.dataDir });
  const url = await srv.listen('127.0.0.1', 0);
  const call = (path: string, init: RequestInit & { role?: Role | null } = {}) => {
    const { role = 'admin', ...rest } = init;
    const headers = new Headers(rest.headers);
    if (role) headers.set('authorization', `Bearer ${keys[role]}`);
    return fetch(url + path, { ...rest, headers });
  };
  return {
    srv, url, dir, keys, call,
    async close() {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A multipart form with the recording and any fields. */
export function form(bytes: Uint8Array, fields: Record<string, string> = {}, name = 'cough.wav', type = 'audio/wav'): FormData {
  const fd = new FormData();
  fd.set('file', new Blob([bytes], { type }), name);
  for (const [k, v] of Object.entries(fields)) fd.set(k, v);
  return fd;
}

export const PG_ADMIN_URL = process.env.TOSIA_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether the PostgreSQL the tests use answers; the reason when not. */
export async function postgresReachable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return null;
  } catch (e) {
    return `PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(e as Error).message})`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A database of this test run's own; drop it with the returned function. */
export async function scratchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tosia_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** PostgreSQL-backed tests skip with this message where none is reachable, except under CI=true, where they fail. */
export async function requirePostgres(): Promise<string | null> {
  const why = await postgresReachable();
  if (why && process.env.CI === 'true') throw new Error(`${why}; CI=true requires it (README: Development)`);
  if (why) console.warn(`skipping PostgreSQL tests: ${why}`);
  return why;
}

/** A `tosia serve` process (a real one, to kill) on a free port of loopback. */
export interface Served { proc: ChildProcess; url: string; exited: Promise<number | null>; stderr: () => string; stdout: () => string }

export async function serve(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--port', '0', '--concurrency', '2', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  let out = '';
  proc.stdout!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (c) => {
      err += c;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`tosia serve exited ${code}: ${err}`)));
  });
  return { proc, url, exited, stderr: () => err, stdout: () => out };
}

/** The answer is an RFC 9457 problem with this status and code, its detail worth reading; the problem. */
export async function problem(res: Response, status: number, code: string): Promise<Record<string, any>> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const p = JSON.parse(body);
  expect(p).toMatchObject({ status, code, type: 'about:blank' });
  expect(typeof p.title).toBe('string');
  expect(p.detail.length).toBeGreaterThan(10);
  return p;
}
