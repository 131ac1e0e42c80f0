import { MelPlan, type RealFftFactory } from '../algos/index.js';
import { loadPffft } from '../runtime/dsp/pffft.js';
import { fmtStats, table, timeIt } from './stats.js';

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

export async function benchMel(): Promise<{ text: string; ok: boolean }> {
  const fft = await loadPffft();
  const rows: (string | number)[][] = [];
  let ok = true;
  for (const [secs, sr, librosa, target] of [[10, 16000, 7.5, 3.5], [60, 44100, 250, 100], [600, 16000, 920, 420]] as const) {
    const fast = await timePlan(secs, sr, 2048, 512, fft);
    const ts = await timePlan(secs, sr, 2048, 512, undefined);
    const met = fast.s.median <= target;
    ok &&= met;
    rows.push([`${secs} s at ${sr / 1000} kHz`, fmtStats(fast.s), `${target}`, met ? 'met' : `MISSED by ${(fast.s.median / target).toFixed(2)}×`, `${librosa}`, fmtStats(ts.s)]);
  }
  const head = ['input (n_fft 2048, hop 512, 128 mels)', 'tosia ms median (min–max)', 'target ms', '', 'librosa 0.11 ms', 'TypeScript FFT only ms'];
  let text = '### Mel spectrogram, single thread (PFFFT WASM SIMD kernel)\n\n' + table(head, rows);
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
