import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { defaultConfig } from '../runtime/config/schema.js';
import { execute } from '../runtime/pipeline/execute.js';
import { WorkUnit } from '../runtime/pipeline/work-unit.js';
import { packageRoot } from '../runtime/paths.js';
import { stats, table } from './stats.js';

/**
 * The server's figures, against a real `tosia serve` process on loopback, loaded with
 * autocannon (an HTTP load generator from npm): the overhead of a synchronous POST over an
 * in-process execute() of the same recording, throughput against the batch engine on the same
 * files and cores, and the server's RSS after 1,000 and 10,000 requests.
 */

const require = createRequire(import.meta.url);
type Autocannon = (opts: Record<string, unknown>) => Promise<{ non2xx: number; errors: number; duration: number; requests: { total: number } }>;
const autocannon = require('autocannon') as Autocannon;

const bin = () => join(packageRoot(), 'dist/bin/tosia.js');
const KEY = 'bench-key-0123456789abcdef';

export interface Served { proc: ChildProcess; url: string; stop(): Promise<void> }

/** A real `tosia serve` on a free loopback port, with every core, no rate limit and room to queue; `extra` flags and `env` on top. */
export async function serve(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const proc = spawn(process.execPath, [bin(), 'serve', '--data', dir, '--port', '0', '--concurrency', String(availableParallelism()), '--rate-limit', '100000000', '--max-queue', '100000', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env, TOSIA_API_KEY: KEY },
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (c) => {
      err += c;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`tosia serve exited ${code}: ${err}`)));
  });
  return {
    proc, url,
    stop: () => new Promise<void>((r) => {
      proc.once('exit', () => r());
      proc.kill('SIGTERM');
    }),
  };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** POST bodies round-robin from `connections` clients, `amount` requests; each request's latency in ms. */
export async function load(url: string, bodies: { body: Buffer; type: string }[], connections: number, amount: number): Promise<{ latencies: number[]; seconds: number; bad: number }> {
  let next = 0;
  const latencies: number[] = [];
  const r = await autocannon({
    url, connections, amount, timeout: 180, pipelining: 1,
    requests: [{
      method: 'POST',
      setupRequest: (req: Record<string, unknown>) => {
        const b = bodies[next++ % bodies.length]!;
        return { ...req, path: '/v1/diagnoses?wait=120&force=true', headers: { authorization: `Bearer ${KEY}`, 'content-type': b.type }, body: b.body };
      },
    }],
    setupClient: (client: { on: (e: string, f: (status: number, bytes: number, ms: number) => void) => void }) => {
      client.on('response', (_status, _bytes, ms) => latencies.push(ms));
    },
  });
  return { latencies, seconds: r.duration, bad: r.non2xx + r.errors };
}

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export async function benchServe(coughDir: string, quick: boolean): Promise<string> {
  const out: string[] = ['### Server (`tosia serve` on loopback, autocannon)'];
  const sample = join(packageRoot(), 'samples/coughs-3_snr-25db_white_16k.wav');
  const sampleBody = { body: readFileSync(sample), type: 'audio/wav' };

  // overhead: one client, synchronous POSTs, against execute() in this process
  const cfg = defaultConfig();
  const inProc: number[] = [];
  for (let i = 0; i < 230; i++) {
    const t0 = performance.now();
    await execute(new WorkUnit({ sourceFile: sample, ...cfg }));
    if (i >= 30) inProc.push(performance.now() - t0);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tosia-bench-serve-'));
  let srv = await serve(dir);
  await load(srv.url, [sampleBody], 1, 30);
  const one = await load(srv.url, [sampleBody], 1, 200);
  const exec = stats(inProc).median;
  const post = pct(one.latencies, 50);
  out.push(table(['measure', 'p50 ms', 'p95 ms', 'p99 ms'], [
    ['in-process execute() of the 3.5 s sample', exec.toFixed(1), pct(inProc, 95).toFixed(1), pct(inProc, 99).toFixed(1)],
    ['synchronous POST of the same file (1 client)', post.toFixed(1), pct(one.latencies, 95).toFixed(1), pct(one.latencies, 99).toFixed(1)],
    ['overhead (POST p50 − execute p50; target ≤ 10 ms)', (post - exec).toFixed(1), '', ''],
  ]));

  // throughput: 16 clients posting covid19-cough, against the batch engine on the same files
  const raw = join(coughDir, 'raw');
  if (existsSync(raw)) {
    const files = readdirSync(raw).filter((f) => f.endsWith('.mp3')).sort().map((f) => join(raw, f));
    const bodies = files.map((f) => ({ body: readFileSync(f), type: 'audio/mpeg' }));
    const batchOut = mkdtempSync(join(tmpdir(), 'tosia-bench-serve-batch-'));
    const t0 = performance.now();
    spawnSync(process.execPath, [bin(), 'run', raw, '--out', batchOut, '--progress', 'none']);
    const batchS = (performance.now() - t0) / 1000;
    rmSync(batchOut, { recursive: true, force: true });
    await load(srv.url, bodies, 16, 100);
    const t1 = performance.now();
    const many = await load(srv.url, bodies, 16, files.length);
    const serveS = (performance.now() - t1) / 1000;
    const fps = files.length / serveS;
    const batchFps = files.length / batchS;
    out.push(table(['covid19-cough, 1077 mp3', 'files/s', 'p50 ms', 'p95 ms', 'p99 ms', 'failed'], [
      ['tosia run --out (batch engine, every output written)', batchFps.toFixed(0), '', '', '', ''],
      [`16 clients, synchronous POSTs (${(100 * fps / batchFps).toFixed(0)} % of the batch; target ≥ 90 %)`, fps.toFixed(0), pct(many.latencies, 50).toFixed(0), pct(many.latencies, 95).toFixed(0), pct(many.latencies, 99).toFixed(0), String(many.bad)],
    ]));
  } else {
    out.push(`throughput: ${raw} is absent; skipped`);
  }
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });

  // memory: a fresh server, RSS after 1,000 and after 10,000 requests
  const dir2 = mkdtempSync(join(tmpdir(), 'tosia-bench-serve-rss-'));
  srv = await serve(dir2);
  const total = quick ? 3000 : 10_000;
  await load(srv.url, [sampleBody], 16, 1000);
  const at1k = rssMb(srv.proc.pid!);
  await load(srv.url, [sampleBody], 16, total - 1000);
  const at10k = rssMb(srv.proc.pid!);
  await srv.stop();
  rmSync(dir2, { recursive: true, force: true });
  out.push(table(['server RSS', 'MB'], [
    ['after 1,000 POSTs', at1k.toFixed(0)],
    [`after ${total.toLocaleString('en')} POSTs (${(100 * (at10k / at1k - 1)).toFixed(1)} %; target within 10 %)`, at10k.toFixed(0)],
  ]));
  return out.join('\n\n');
}
