import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../runtime/paths.js';
import { serve } from './serve.js';
import { table } from './stats.js';

/**
 * A page of the record list, as an integrator's dashboard asks for it: 50 finished records,
 * GET /v1/diagnoses?limit=50 from 4 connections for 10 s against a real `tosia serve` (SQLite),
 * compact (each item's outcome) and with ?include=result (each item's whole result).
 */

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (o: Record<string, unknown>) => Promise<{ requests: { average: number; total: number }; throughput: { average: number }; non2xx: number; errors: number; latency: { p50: number } }>;
const KEY = 'bench-key-0123456789abcdef';

export async function benchApiList(quick: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tosia-bench-list-'));
  const s = await serve(dir);
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
      const r = await autocannon({ url: s.url + path, connections: 4, duration: quick ? 3 : 10, headers: { authorization: `Bearer ${KEY}` } });
      if (r.non2xx || r.errors) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      rows.push([name, (bytes / 1024).toFixed(1), r.requests.average.toFixed(0), r.latency.p50.toFixed(1)]);
    }
    return `### A page of 50 records (GET /v1/diagnoses?limit=50, 4 connections, ${quick ? 3 : 10} s, SQLite)\n\n${table(['list', 'page KB', 'requests/s', 'p50 ms'], rows)}`;
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
