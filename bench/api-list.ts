import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../runtime/paths.js';
import { serve } from './serve.js';
import { table } from './stats.js';

/**
 * A page of the record list, as an integrator's dashboard asks for it: 50 finished records,
 * GET /v1/diagnoses?limit=50 from 4 connections for 10 s against a real `tosia serve`, compact
 * (each item's outcome) and with ?include=result (each item's whole result), on SQLite and, when
 * one answers at TOSIA_BENCH_PG (the local one by default), on PostgreSQL in a scratch database.
 * Besides requests/s, the server process's own CPU time a page (user + system, from /proc): on
 * 2 cores the load generator, and PostgreSQL, share the machine with it.
 */

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (o: Record<string, unknown>) => Promise<{ requests: { average: number; total: number }; throughput: { average: number }; non2xx: number; errors: number; latency: { p50: number } }>;
const KEY = 'bench-key-0123456789abcdef';

const PG_ADMIN = process.env.TOSIA_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Ticks of user + system CPU a process has used, in ms. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

export async function benchApiList(quick: boolean): Promise<string> {
  const out = [await listOn('SQLite', [], quick)];
  const pg = require('pg') as typeof import('pg');
  const name = `tosia_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (e) {
    await admin.end().catch(() => undefined);
    return `${out[0]}\n\nPostgreSQL: not measured, none answered at ${PG_ADMIN} (${(e as Error).message}); set TOSIA_BENCH_PG to an admin URL.`;
  }
  try {
    const url = new URL(PG_ADMIN);
    url.pathname = `/${name}`;
    out.push(await listOn('PostgreSQL', ['--db', url.toString()], quick));
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  }
  return out.join('\n\n');
}

async function listOn(store: string, flags: string[], quick: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tosia-bench-list-'));
  const s = await serve(dir, flags);
  try {
    const sample = readFileSync(join(packageRoot(), 'samples/coughs-3_snr-25db_white_16k.wav'));
    for (let i = 0; i < 50; i++) {
      const b = Buffer.from(sample);
      b.writeUInt32LE(i + 1, b.length - 4);
      const res = await fetch(`${s.url}/v1/diagnoses?wait=120`, { method: 'POST', body: b, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'audio/wav' } });
      if (res.status !== 201) throw new Error(`upload ${i}: ${res.status} ${await res.text()}`);
    }
    const rows: (string | number)[][] = [];
    for (const [name, path] of [['compact (default)', '/v1/diagnoses?limit=50'], ['?include=result', '/v1/diagnoses?limit=50&include=result']] as const) {
      const page = await fetch(s.url + path, { headers: { authorization: `Bearer ${KEY}` } });
      const bytes = Buffer.byteLength(await page.text());
      const before = cpuMs(s.proc.pid!);
      const r = await autocannon({ url: s.url + path, connections: 4, duration: quick ? 3 : 10, headers: { authorization: `Bearer ${KEY}` } });
      if (r.non2xx || r.errors) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      rows.push([name, (bytes / 1024).toFixed(1), r.requests.average.toFixed(0), r.latency.p50 < 1 ? '< 1' : r.latency.p50.toFixed(0), ((cpuMs(s.proc.pid!) - before) / r.requests.total).toFixed(2)]);
    }
    return `### A page of 50 records on ${store} (GET /v1/diagnoses?limit=50, 4 connections, ${quick ? 3 : 10} s)\n\n${table(['list', 'page KB', 'requests/s', 'p50 ms', 'server CPU ms a page'], rows)}`;
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
