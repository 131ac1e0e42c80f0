import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../runtime/config/schema.js';
import { identityOf, ThreadPool, type Job } from '../runtime/index.js';
import { packageRoot } from '../runtime/paths.js';
import { NatsPool } from '../server/index.js';
import { stats, table, type Stats } from './stats.js';

/**
 * The queue's figures against a nats-server of the bench's own: covid19-cough through
 * `run --queue` on 1 and 2 worker processes against a local batch with the same total
 * concurrency, and the queue's own ceiling with a pipeline that does nothing on 32 workers.
 * Every child runs detached from this process's event loop (async spawn, output to files or
 * nowhere): a worker whose stdout pipe nobody reads stops at its first full pipe.
 */

const NATS_BIN = process.env.TOSIA_NATS_SERVER ?? '/usr/sbin/nats-server';
const bin = () => join(packageRoot(), 'dist/bin/tosia.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function startNats(): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'tosia-bench-nats-'));
  const log = join(store, 'nats.log');
  const proc = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store, '-l', log], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (existsSync(log) && /Server is ready/.test(readFileSync(log, 'utf8'))) break;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: proc.pid,
    stop: async () => {
      await stopChild(proc, 'SIGTERM');
      rmSync(store, { recursive: true, force: true });
    },
  };
}

function stopChild(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    p.once('exit', () => r());
    p.kill(signal);
  });
}

const TIME = '/usr/bin/time';

/** Wall seconds of one CLI run, and its CPU seconds (user + system) where /usr/bin/time exists. */
async function timed(args: string[]): Promise<{ wall: number; cpu: number }> {
  const cpuFile = join(tmpdir(), `tosia-bench-cpu-${process.pid}-${Date.now()}`);
  const argv = existsSync(TIME) ? [TIME, '-f', '%U %S', '-o', cpuFile, process.execPath] : [process.execPath];
  const t0 = performance.now();
  const p = spawn(argv[0]!, [...argv.slice(1), bin(), ...args], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0 && code !== 1) throw new Error(`tosia ${args.join(' ')} exited ${code}`);
  let cpu = NaN;
  try {
    cpu = readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').reduce((a, x) => a + Number(x), 0);
    rmSync(cpuFile, { force: true });
  } catch { /* no /usr/bin/time */ }
  return { wall, cpu };
}

function workers(url: string, n: number, concurrency: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, [bin(), 'worker', '--queue', url, '--concurrency', String(concurrency)], { stdio: 'ignore' }));
}

async function realFiles(raw: string, rounds: number): Promise<string> {
  const cores = availableParallelism();
  const files = readdirSync(raw).filter((f) => f.endsWith('.mp3')).length;
  const samples = join(packageRoot(), 'samples');
  const t: Record<'local' | 'one' | 'two', number[]> = { local: [], one: [], two: [] };
  // CPU ms per file of the last round: the submitter (the batch itself when local), the workers, nats-server
  const cpu: Record<'local' | 'one' | 'two', [number, number, number]> = { local: [NaN, 0, 0], one: [NaN, NaN, NaN], two: [NaN, NaN, NaN] };
  const ms = (s: number) => (s / files) * 1000;
  for (let round = 0; round < rounds; round++) {
    const out = mkdtempSync(join(tmpdir(), 'tosia-bench-queue-'));
    const local = await timed(['run', raw, '--out', join(out, 'local'), '--progress', 'none', '--concurrency', String(cores)]);
    t.local.push(local.wall);
    cpu.local = [ms(local.cpu), 0, 0];
    for (const [key, n] of [['one', 1], ['two', 2]] as const) {
      const nats = await startNats();
      const ws = workers(nats.url, n, Math.max(1, cores / n));
      // warm: every worker has its model loaded before the timed run
      await timed(['run', samples, '--out', join(out, `warm-${key}`), '--progress', 'none', '--queue', nats.url]);
      const before = { w: ws.reduce((a, w) => a + cpuSeconds(w.pid), 0), n: cpuSeconds(nats.pid) };
      const r = await timed(['run', raw, '--out', join(out, key), '--progress', 'none', '--queue', nats.url]);
      t[key].push(r.wall);
      cpu[key] = [ms(r.cpu), ms(ws.reduce((a, w) => a + cpuSeconds(w.pid), 0) - before.w), ms(cpuSeconds(nats.pid) - before.n)];
      await Promise.all(ws.map((w) => stopChild(w, 'SIGTERM')));
      await nats.stop();
    }
    rmSync(out, { recursive: true, force: true });
  }
  const local = stats(t.local).median;
  const span = (x: Stats) => (x.n > 1 ? `${x.median.toFixed(1)} (${x.min.toFixed(1)}–${x.max.toFixed(1)})` : x.median.toFixed(1));
  const row = (name: string, key: keyof typeof t) => {
    const m = stats(t[key]).median;
    const c = cpu[key];
    return [name, span(stats(t[key])), (files / m).toFixed(1), (files / m / cores).toFixed(1), `${(((m - local) / local) * 100).toFixed(0)} %`, c.map((x) => x.toFixed(1)).join(' / '), (c[0] + c[1] + c[2]).toFixed(1)];
  };
  return [
    `### Queue: covid19-cough (${files} files) through \`run --queue\`, ${cores} cores, median (min–max) of ${rounds}`,
    '',
    'The workers and nats-server run on this machine, beside the submitter, so the comparison is at equal cores. Each worker is warm (model loaded) before its timed run. CPU is of the last round: the submitter (for the local batch, the whole batch), the workers, nats-server.',
    '',
    table(['run', 'wall s', 'files/s', 'files/s per core', 'overhead vs local', 'CPU ms/file: submitter / workers / nats-server', 'CPU ms/file, all'], [
      row(`local batch, --concurrency ${cores}`, 'local'),
      row(`1 worker × ${cores} threads`, 'one'),
      row(`2 workers × ${Math.max(1, cores / 2)} thread`, 'two'),
    ]),
  ].join('\n');
}

async function ceiling(jobs: number, nWorkers: number): Promise<{ row: (string | number)[]; kb: number }> {
  const nats = await startNats();
  const dir = mkdtempSync(join(tmpdir(), 'tosia-bench-noop-'));
  try {
    const config = defaultConfig();
    // the no-op answers with a real result of the bundled sample, so result messages are their real size
    const sample = readFileSync(join(packageRoot(), 'samples/coughs-3_snr-25db_white_16k.wav'));
    const tp = new ThreadPool({ config, concurrency: 1 });
    await tp.start();
    const outcome = await tp.run({ id: 0, input: { bytes: sample, name: 'sample.wav' }, task: { kind: 'diagnose', images: false } });
    await tp.close();
    const outcomeFile = join(dir, 'outcome.json');
    writeFileSync(outcomeFile, JSON.stringify(outcome));
    const ws = Array.from({ length: nWorkers }, () => spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []), join(packageRoot(), 'dist/bench/queue-noop-worker.js'), nats.url, outcomeFile, '8'], { stdio: 'ignore' }));
    const identity = await identityOf(config);
    // 64 distinct 16 KB recordings: each job gets one from the object store
    const blobs = Array.from({ length: 64 }, (_, i) => createHash('sha512').update(String(i)).digest().subarray(0, 64).toString('hex').repeat(256)).map((s) => new TextEncoder().encode(s));
    const pool = new NatsPool({ url: nats.url, config, identity, submitter: 'bench-noop', capacity: 2048 });
    await pool.start();
    const runAll = async (prefix: string, n: number, inFlight: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < n) {
          const i = next++;
          const job: Job = { id: i, input: { bytes: blobs[i % blobs.length]!, name: `${prefix}-${i}.wav` }, task: { kind: 'diagnose', images: false } };
          const o = await pool.run(job);
          if (!o.ok) throw new Error(`no-op job failed: ${o.error.message}`);
          pool.stored(job);
        }
      }));
    };
    // warm: the workers connected, the blobs uploaded
    await runAll('warm', 512, 256);
    const cpu = () => ({ nats: cpuSeconds(nats.pid), workers: ws.reduce((a, w) => a + cpuSeconds(w.pid), 0), submitter: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 });
    const c0 = cpu();
    const t0 = performance.now();
    await runAll('timed', jobs, 1024);
    const s = (performance.now() - t0) / 1000;
    const c1 = cpu();
    const perJob = (k: keyof typeof c0) => (((c1[k] - c0[k]) / jobs) * 1000).toFixed(2);
    await pool.close();
    await Promise.all(ws.map((w) => stopChild(w, 'SIGTERM')));
    return { row: [nWorkers, jobs, s.toFixed(1), (jobs / s).toFixed(0), perJob('nats'), perJob('submitter'), perJob('workers')], kb: JSON.stringify(outcome).length / 1024 };
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchQueue(coughDir: string, quick: boolean): Promise<string> {
  if (!existsSync(NATS_BIN)) return `### Queue\n\nnot measured: ${NATS_BIN} is absent (Debian's nats-server package).`;
  const parts: string[] = [];
  const raw = join(coughDir, 'raw');
  if (process.env.BENCH_QUEUE !== 'ceiling') {
    if (existsSync(raw)) parts.push(await realFiles(raw, quick ? 1 : 2));
    else parts.push(`### Queue: covid19-cough\n\nnot measured: ${raw} is absent.`);
  }
  const jobs = quick ? 5000 : 20000;
  const runs = [];
  for (const n of process.env.BENCH_QUEUE_WORKERS ? [Number(process.env.BENCH_QUEUE_WORKERS)] : [4, 32]) runs.push(await ceiling(jobs, n));
  parts.push([
    `### Queue ceiling: ${jobs} jobs with a no-op pipeline, on loopback`,
    '',
    `Every job goes the whole path: published by a submitter (NatsPool), fetched by a worker, its audio (16 KB) got from the object store, a real result (${runs[0]!.kb.toFixed(1)} KB) published back, and that result consumed and acked. 1024 jobs in flight; each worker process holds 8. nats-server, the submitter and the workers share this machine's ${availableParallelism()} cores.`,
    '',
    table(['worker processes', 'jobs', 'seconds', 'jobs/s', 'CPU ms/job: nats-server', 'submitter', 'workers (sum)'], runs.map((r) => r.row)),
  ].join('\n'));
  return parts.join('\n\n');
}
