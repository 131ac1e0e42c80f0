import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { defaultConfig } from '../runtime/config/schema.js';
import { packageRoot } from '../runtime/paths.js';
import { stats, table } from './stats.js';

const bin = () => join(packageRoot(), 'dist/bin/tosia.js');
const hasTime = existsSync('/usr/bin/time');

/** Run the CLI, returning wall seconds and peak RSS in MB (when /usr/bin/time exists). */
function timedRun(args: string[]): { wall: number; rssMb: number | null; run: Record<string, number> | null; status: number | null } {
  const t0 = performance.now();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin(), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(process.execPath, [bin(), ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  const rssMb = hasTime ? Number(r.stderr.trim().split('\n').pop()) / 1024 : null;
  const out = args[args.indexOf('--out') + 1];
  let run = null;
  try { run = out ? JSON.parse(readFileSync(join(out!, 'run.json'), 'utf8')) : null; } catch { /* none */ }
  return { wall, rssMb, run, status: r.status };
}

async function decodeOnly(files: string[], workers: number): Promise<{ wall: number; audio: number }> {
  const cfg = defaultConfig();
  const chunks = Array.from({ length: workers }, (_, w) => files.filter((_, i) => i % workers === w));
  const workerFile = join(packageRoot(), 'dist/bench/decode-worker.js');
  const t0 = performance.now();
  const audio = await Promise.all(chunks.map((c) => new Promise<number>((res, rej) => {
    const w = new Worker(workerFile, { workerData: { files: c, config: cfg } });
    w.once('message', (m: { audio: number }) => { res(m.audio); void w.terminate(); });
    w.once('error', rej);
  })));
  return { wall: (performance.now() - t0) / 1000, audio: audio.reduce((a, b) => a + b, 0) };
}

const mb = (x: number | null) => (x === null ? 'n/a' : x.toFixed(0));

export async function benchBatch(coughDir: string, quick: boolean): Promise<string> {
  const sections: string[] = [];
  const workers = availableParallelism();
  const raw = join(coughDir, 'raw');
  if (existsSync(raw)) {
    const files = readdirSync(raw).filter((f) => f.endsWith('.mp3')).sort().map((f) => join(raw, f));
    // several rounds, each pass once per round, so that the shared machine's drift touches every
    // pass alike; medians are reported, with min–max
    const rounds = quick ? 1 : 3;
    const r: Record<'dec' | 'full' | 'again' | 'shared', number[]> = { dec: [], full: [], again: [], shared: [] };
    const rss: Record<'full' | 'again' | 'shared', number[]> = { full: [], again: [], shared: [] };
    let audio = 0;
    for (let i = 0; i < rounds; i++) {
      const dec = await decodeOnly(files, workers);
      r.dec.push(dec.wall);
      const out = mkdtempSync(join(tmpdir(), 'tosia-bench-batch-'));
      const first = timedRun(['run', raw, '--out', out, '--progress', 'none']);
      const again = timedRun(['run', raw, '--out', out, '--progress', 'none']);
      rmSync(out, { recursive: true, force: true });
      const sharedRun = timedRun(['run', raw, '--out', out, '--progress', 'none', '--inference', 'shared']);
      rmSync(out, { recursive: true, force: true });
      audio = first.run?.audio_s ?? dec.audio;
      r.full.push(first.wall); r.again.push(again.wall); r.shared.push(sharedRun.wall);
      for (const [k, v] of [['full', first], ['again', again], ['shared', sharedRun]] as const) if (v.rssMb !== null) rss[k].push(v.rssMb);
    }
    const med = (x: number[]) => stats(x).median;
    const cell = (x: number[]) => (x.length > 1 ? `${med(x).toFixed(2)} (${stats(x).min.toFixed(2)}–${stats(x).max.toFixed(2)})` : x[0]!.toFixed(2));
    const peak = (x: number[]) => (x.length ? Math.max(...x) : null);
    const full = med(r.full), dec = med(r.dec), again = med(r.again), shared = med(r.shared);
    const rtf = audio / full;
    sections.push(`### Batch: the ${files.length} covid19-cough recordings (${(audio / 60).toFixed(1)} min of audio), ${workers} worker threads, median of ${rounds} rounds\n\n` + table(
      ['pass', 'wall s', '× real time', 'peak RSS MB', 'target'],
      [
        ['decode only (same decode stage, same thread count)', cell(r.dec), (audio / dec).toFixed(0), 'n/a', ''],
        ['full pipeline: decode, segment, mel, colour, classify, JSON + CSV (a model per worker, the default)', cell(r.full), rtf.toFixed(0), mb(peak(rss.full)), rtf >= 400 ? '≥ 400×: met' : `≥ 400×: MISSED (${(400 / rtf).toFixed(2)}× short)`],
        ['full / decode-only', (full / dec).toFixed(2), '', '', full / dec <= 1.5 ? '≤ 1.5: met' : '≤ 1.5: MISSED'],
        ['full pipeline, one shared inference thread batching across files (--inference shared)', cell(r.shared), (audio / shared).toFixed(0), mb(peak(rss.shared)), shared < full ? 'faster than per-worker' : `per-worker is faster (${((100 * (shared - full)) / full).toFixed(0)} %)`],
        ['re-run, nothing changed', cell(r.again), '', mb(peak(rss.again)), again / full < 0.1 ? `< 10 % of first: met (${((100 * again) / full).toFixed(1)} %)` : `< 10 %: MISSED (${((100 * again) / full).toFixed(1)} %)`],
      ],
    ) + '\n\nWall times include process start (about 0.2 s) and writing every output.');
  } else {
    sections.push(`### Batch\n\nskipped: ${raw} is absent.`);
  }

  // synthetic many-file runs: how throughput and memory scale with the number of files
  const sizes = quick ? [200, 1000] : [1000, 10000, 20000];
  const rows: (string | number)[][] = [];
  const src = join(packageRoot(), 'samples/coughs-1_snr-20db_pink_8k.wav');
  for (const n of sizes) {
    const root = mkdtempSync(join(tmpdir(), 'tosia-bench-many-'));
    mkdirSync(join(root, 'in'));
    for (let i = 0; i < n; i++) {
      const sub = join(root, 'in', `d${Math.floor(i / 500)}`);
      if (i % 500 === 0) mkdirSync(sub);
      copyFileSync(src, join(sub, `c${i}.wav`));
    }
    const r = timedRun(['run', join(root, 'in'), '--out', join(root, 'out'), '--progress', 'none']);
    rows.push([n, r.wall.toFixed(1), (n / r.wall).toFixed(0), r.run?.realtime_factor !== undefined ? r.run.realtime_factor.toFixed(0) : 'n/a', mb(r.rssMb)]);
    rmSync(root, { recursive: true, force: true });
  }
  sections.push(`### Many files (copies of a 2 s, 8 kHz wav sample, 500 per folder)\n\n` + table(['files', 'wall s', 'files/s', '× real time', 'peak RSS MB'], rows));

  // one 1-hour recording
  const root = mkdtempSync(join(tmpdir(), 'tosia-bench-hour-'));
  const hour = join(root, 'hour.wav');
  const sr = 8000, n = sr * 3600, b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sr, 24); b.writeUInt32LE(2 * sr, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  let s = 1;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    const t = (i / sr) % 20;
    b.writeInt16LE(Math.round((s / 2147483647 - 0.5) * (t > 0.3 && t < 0.6 ? 20000 : 60)), 44 + 2 * i);
  }
  writeFileSync(hour, b);
  const h = timedRun(['run', '--json', hour]);
  rmSync(root, { recursive: true, force: true });
  sections.push('### One 1-hour recording (8 kHz wav)\n\n' + table(['wall s', 'peak RSS MB', 'target'], [[h.wall.toFixed(1), mb(h.rssMb), h.rssMb !== null && h.rssMb < 1536 ? '< 1.5 GB: met' : '< 1.5 GB']]));

  // one 2-hour 44.1 kHz stereo wav (1.27 GB): it streams through ffmpeg (issue 11, D11)
  if (!quick) {
    const root2 = mkdtempSync(join(tmpdir(), 'tosia-bench-2h-'));
    const two = join(root2, 'two-hours-44k-stereo.wav');
    const rate = 44100, frames = rate * 7200, bytes = frames * 4;
    const fd = openSync(two, 'w');
    const head = Buffer.alloc(44);
    head.write('RIFF', 0); head.writeUInt32LE(36 + bytes, 4); head.write('WAVEfmt ', 8); head.writeUInt32LE(16, 16); head.writeUInt16LE(1, 20); head.writeUInt16LE(2, 22);
    head.writeUInt32LE(rate, 24); head.writeUInt32LE(4 * rate, 28); head.writeUInt16LE(4, 32); head.writeUInt16LE(16, 34); head.write('data', 36); head.writeUInt32LE(bytes, 40);
    writeSync(fd, head);
    const block = Buffer.alloc(4 * rate * 60);
    let seed = 1;
    for (let at = 0; at < frames; at += rate * 60) {
      for (let i = 0; i < rate * 60; i++) {
        const t = ((at + i) / rate) % 20;
        const amp = t > 0.3 && t < 0.6 ? 20000 : 60;
        seed = (seed * 16807) % 2147483647;
        const v = Math.round((seed / 2147483647 - 0.5) * amp);
        block.writeInt16LE(v, 4 * i); block.writeInt16LE(v, 4 * i + 2);
      }
      writeSync(fd, block);
    }
    closeSync(fd);
    const t2 = timedRun(['run', '--json', two]);
    rmSync(root2, { recursive: true, force: true });
    sections.push('### One 2-hour recording (44.1 kHz stereo wav, 1.27 GB: decoded, downmixed and resampled as a stream)\n\n' + table(['wall s', 'peak RSS MB', 'target'], [[t2.wall.toFixed(1), mb(t2.rssMb), t2.rssMb !== null && t2.rssMb <= 600 ? '≤ 600 MB: met' : '≤ 600 MB: MISSED']]));
  }
  return sections.join('\n\n');
}
