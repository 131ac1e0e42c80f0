import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MelPlan, melSpectrogram as pureMelSpectrogram, type RealFftFactory } from '../algos/index.js';
import { loadPffft } from '../runtime/dsp/pffft.js';
import { melSpectrogram } from '../runtime/dsp/mel.js';
import { packageRoot } from '../runtime/paths.js';
import { fmtStats, stats, table, timeIt, type Stats } from './stats.js';

/** 16-bit-noise-like test signal, deterministic. */
function noise16(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 16807) % 2147483647; x[i] = Math.round((s / 2147483647 - 0.5) * 65535) / 32768; }
  return x;
}

async function timePlan(seconds: number, sr: number, nFft: number, hop: number, fft: RealFftFactory | undefined) {
  const x = noise16(Math.round(seconds * sr));
  const plan = new MelPlan({ sampleRate: sr, nFft, hopLength: hop, nMels: 128 }, fft);
  const out = new Float32Array(128 * plan.frameCount(x.length));
  const repeats = seconds >= 600 ? 7 : seconds >= 60 ? 15 : 50;
  return { s: await timeIt(() => plan.run(x, out), repeats), name: plan.fftName };
}

/**
 * librosa timed in this run: the Python named by TOSIA_BENCH_PYTHON, else the venv `make bench`
 * prepares in .cache/bench-venv (librosa from pip), else none.
 */
function librosaTimes(): { version: string; cases: Record<string, Stats> } | { error: string } {
  const venv = join(packageRoot(), '.cache/bench-venv/bin/python');
  const python = process.env.TOSIA_BENCH_PYTHON ?? (existsSync(venv) ? venv : null);
  if (!python) return { error: 'no Python with librosa (make bench prepares .cache/bench-venv; or set TOSIA_BENCH_PYTHON)' };
  const r = spawnSync(python, [join(packageRoot(), 'bench/librosa-mel.py')], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { error: `librosa did not run: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  const j = JSON.parse(r.stdout) as { version: string; numpy: string; cases: Record<string, number[]> };
  return { version: `librosa ${j.version}, numpy ${j.numpy}`, cases: Object.fromEntries(Object.entries(j.cases).map(([k, v]) => [k, stats(v)])) };
}

export async function benchMel(): Promise<{ text: string; ok: boolean }> {
  const fft = await loadPffft();
  const librosa = librosaTimes();
  const rows: (string | number)[][] = [];
  let ok = true;
  for (const [secs, sr] of [[10, 16000], [60, 44100], [600, 16000]] as const) {
    const x = noise16(secs * sr);
    const opts = { sampleRate: sr, nFft: 2048, hopLength: 512, nMels: 128 };
    const repeats = secs >= 600 ? 7 : secs >= 60 ? 15 : 50;
    // the README's path: tosia's melSpectrogram, one call at a time, as a notebook makes them
    const readme = await timeIt(() => melSpectrogram(x, opts), repeats);
    const plan = await timePlan(secs, sr, 2048, 512, fft);
    const pure = await timeIt(() => pureMelSpectrogram(x, opts), repeats);
    const lib = 'cases' in librosa ? librosa.cases[`${secs}@${sr}`] : undefined;
    const speedup = lib ? lib.median / readme.median : null;
    const tsRatio = lib ? pure.median / lib.median : null;
    if (speedup !== null) ok &&= speedup >= 3 && tsRatio! <= 1;
    rows.push([
      `${secs} s at ${sr / 1000} kHz`, lib ? fmtStats(lib) : 'n/a', fmtStats(readme), speedup === null ? '' : `${speedup.toFixed(1)}× ${speedup >= 3 ? '(≥ 3: met)' : '(< 3: MISSED)'}`,
      `${fmtStats(plan.s)}`, fmtStats(pure), tsRatio === null ? '' : `${tsRatio.toFixed(2)} ${tsRatio <= 1 ? '(≤ 1: met)' : '(> 1: MISSED)'}`,
    ]);
  }
  const head = ['input (n_fft 2048, hop 512, 128 mels)', 'librosa ms', "tosia's melSpectrogram ms (README path)", 'speed vs librosa', 'MelPlan + PFFFT ms', "tosia/algos melSpectrogram, TypeScript FFT ms", 'time vs librosa'];
  let text = `### Mel spectrogram, single thread, against ${'version' in librosa ? librosa.version : `librosa (${librosa.error})`} in the same run\n\n` + table(head, rows);
  text += "\n\nTargets (issue 10): the README's path at ≥ 3× librosa's speed; the pure TypeScript one-shot call no slower than librosa. Medians (min–max).";
  const np: (string | number)[][] = [];
  for (const [n, p2, hop] of [[400, 512, 160], [960, 1024, 240]] as const) {
    const a = await timePlan(60, 16000, n, hop, fft);
    const b = await timePlan(60, 16000, p2, hop, fft);
    const ratio = a.s.median / b.s.median;
    ok &&= ratio <= 2;
    np.push([`${n} vs ${p2}`, `${fmtStats(a.s)} [${a.name}]`, `${fmtStats(b.s)} [${b.name}]`, ratio.toFixed(2), ratio <= 2 ? 'met (≤ 2)' : 'MISSED (> 2)']);
  }
  text += '\n\nNon-power-of-two n_fft, 60 s at 16 kHz, same hop for both:\n\n' + table(['n_fft', 'ms', 'next power of two ms', 'ratio', 'target'], np);
  return { text, ok };
}
