/**
 * Deterministic synthetic cough recordings with exact ground truth. Pure: numbers in, samples out.
 *
 * A cough is modelled on its three phases: an explosive broadband burst (30-50 ms, fast attack,
 * fast decay), a decaying noisy intermediate phase (100-300 ms, lower and band-limited), and an
 * optional voiced tail (a decaying harmonic series, as when the glottis closes with phonation).
 */

import { mulberry32 } from '../../algos/random.js';

/** The samples' seeded PRNG (mulberry32). */
export const rng = mulberry32;

function gauss(r: () => number): number {
  const u = Math.max(1e-12, r());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export interface CoughSpec {
  /** Onset, in s. */
  start: number;
  burst: number;
  middle: number;
  /** Voiced tail duration in s, 0 for none. */
  tail: number;
  /** Peak amplitude (full scale = 1). */
  amplitude: number;
  /** Voiced tail fundamental, in Hz. */
  f0: number;
}

/** Add one cough into `out` at its onset; returns its [start, end] in seconds. */
export function addCough(out: Float32Array, sr: number, c: CoughSpec, r: () => number): [number, number] {
  const s0 = Math.round(c.start * sr);
  const nBurst = Math.round(c.burst * sr);
  const nMid = Math.round(c.middle * sr);
  const nTail = Math.round(c.tail * sr);
  const total = nBurst + nMid + nTail;
  // one-pole low-pass state for the middle phase (breathy, darker than the burst)
  let lp = 0;
  const alpha = Math.exp((-2 * Math.PI * 1500) / sr);
  let phase = 0;
  for (let i = 0; i < total && s0 + i < out.length; i++) {
    let v = 0;
    if (i < nBurst) {
      const attack = Math.min(1, i / (0.003 * sr));
      const decay = Math.exp(-i / (0.35 * nBurst));
      v = gauss(r) * 0.45 * attack * (0.35 + 0.65 * decay);
    }
    const m = i - nBurst;
    if (i >= nBurst * 0.6 && m < nMid) {
      const env = Math.exp(-Math.max(0, m) / (0.45 * nMid)) * Math.min(1, (i - nBurst * 0.6) / (0.4 * nBurst + 1));
      lp = alpha * lp + (1 - alpha) * gauss(r);
      v += (lp * 2.2 + 0.25 * gauss(r)) * 0.3 * env;
    }
    const tIdx = i - nBurst - nMid;
    if (nTail > 0 && i >= nBurst + nMid * 0.5) {
      const k = i - nBurst - Math.round(nMid * 0.5);
      const env = Math.min(1, k / (0.02 * sr)) * Math.exp(-Math.max(0, tIdx) / (0.4 * nTail));
      phase += (2 * Math.PI * c.f0 * (1 - 0.1 * (k / (nTail + nMid)))) / sr;
      let h = 0;
      for (let n = 1; n <= 6; n++) if (n * c.f0 < sr / 2) h += Math.sin(n * phase) / n;
      v += 0.12 * h * env;
    }
    out[s0 + i]! += v * c.amplitude;
  }
  return [s0 / sr, Math.min(out.length, s0 + total) / sr];
}

export type Background = 'white' | 'pink' | 'babble' | 'silence';

/** Background noise of unit RMS (0 for silence). */
export function background(n: number, sr: number, kind: Background, r: () => number): Float32Array {
  const out = new Float32Array(n);
  if (kind === 'silence') return out;
  if (kind === 'white') for (let i = 0; i < n; i++) out[i] = gauss(r);
  else if (kind === 'pink') {
    // Paul Kellet's economy pink filter
    let b0 = 0, b1 = 0, b2 = 0;
    for (let i = 0; i < n; i++) {
      const w = gauss(r);
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      out[i] = b0 + b1 + b2 + w * 0.1848;
    }
  } else {
    // speech-like babble: several voices, each a glottal pulse train with a syllabic envelope
    for (let v = 0; v < 5; v++) {
      const f0 = 100 + 120 * r();
      const syl = 3 + 2 * r();
      const ph0 = r() * 2 * Math.PI;
      let phase = 0;
      for (let i = 0; i < n; i++) {
        const t = i / sr;
        phase += (2 * Math.PI * f0 * (1 + 0.05 * Math.sin(2 * Math.PI * 0.7 * t + ph0))) / sr;
        const env = Math.max(0, Math.sin(2 * Math.PI * syl * t + ph0)) ** 2;
        let h = 0;
        for (let k = 1; k <= 8; k++) if (k * f0 < sr / 2) h += Math.sin(k * phase) / k;
        out[i]! += h * env;
      }
    }
  }
  let sq = 0;
  for (let i = 0; i < n; i++) sq += out[i]! * out[i]!;
  const rms = Math.sqrt(sq / Math.max(1, n)) || 1;
  for (let i = 0; i < n; i++) out[i] = out[i]! / rms;
  return out;
}

export type Distractor = 'none' | 'clicks' | 'bangs' | 'hum';

export interface RecordingSpec {
  seed: number;
  sampleRate: number;
  duration: number;
  coughs: number;
  /** Gap between coughs in a bout, in s (end of one to start of the next); null spreads them out. */
  boutGap: number | null;
  voiced: boolean;
  background: Background;
  /** Cough-to-background power ratio in dB, measured over the coughs. */
  snrDb: number;
  /** Non-cough sounds added on top: clicks (1-3 ms), bangs (door slams), mains hum. Default none. */
  distractor?: Distractor;
  /** 'quiet' peaks at -45 dBFS; 'clipped' is driven 4x past full scale. Default normal (peak -0.9 dBFS). */
  level?: 'normal' | 'quiet' | 'clipped';
  /** 'telephone' band-passes 300-3400 Hz, as a phone line. Default full. */
  band?: 'full' | 'telephone';
  /** Coughs per bout when boutGap is set; several bouts are spread out. Default: all in one bout. */
  boutSize?: number;
}

/** RBJ biquad, in place. */
function biquad(x: Float32Array, sr: number, kind: 'lowpass' | 'highpass', f0: number, q = Math.SQRT1_2): void {
  const w = (2 * Math.PI * f0) / sr, cos = Math.cos(w), alpha = Math.sin(w) / (2 * q);
  const b0 = kind === 'lowpass' ? (1 - cos) / 2 : (1 + cos) / 2, b1 = kind === 'lowpass' ? 1 - cos : -(1 + cos), b2 = b0;
  const a0 = 1 + alpha, a1 = -2 * cos, a2 = 1 - alpha;
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const y = (b0 * x[i]! + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
    x2 = x1; x1 = x[i]!; y2 = y1; y1 = y;
    x[i] = y;
  }
}

/** Add distractor sounds at `level` (linear peak) into `out`. */
function addDistractor(out: Float32Array, sr: number, kind: Distractor, level: number, r: () => number): void {
  const n = out.length, secs = n / sr;
  if (kind === 'clicks') {
    for (let c = 0; c < Math.round(secs * 1.5); c++) {
      const at = Math.floor(r() * (n - sr * 0.004)), len = Math.max(2, Math.round(sr * (0.001 + 0.002 * r())));
      for (let i = 0; i < len; i++) out[at + i]! += level * (r() < 0.5 ? -1 : 1) * (1 - i / len);
    }
  } else if (kind === 'bangs') {
    for (let c = 0; c < Math.max(1, Math.round(secs / 3)); c++) {
      const at = Math.floor(r() * n * 0.9), tau = sr * (0.01 + 0.02 * r());
      for (let i = 0; at + i < n && i < tau * 8; i++) out[at + i]! += level * gauss(r) * Math.exp(-i / tau);
    }
  } else if (kind === 'hum') {
    const f = r() < 0.5 ? 50 : 60;
    for (let i = 0; i < n; i++) {
      const t = i / sr;
      out[i]! += level * 0.5 * (Math.sin(2 * Math.PI * f * t) + 0.5 * Math.sin(2 * Math.PI * 3 * f * t) + 0.25 * Math.sin(2 * Math.PI * 5 * f * t));
    }
  }
}

export interface SynthRecording {
  samples: Float32Array;
  truth: { start: number; end: number }[];
}

export function synthesize(spec: RecordingSpec): SynthRecording {
  const r = rng(spec.seed);
  const sr = spec.sampleRate;
  const n = Math.round(spec.duration * sr);
  const clean = new Float32Array(n);
  const truth: { start: number; end: number }[] = [];
  let t = 0.4 + 0.3 * r();
  for (let i = 0; i < spec.coughs; i++) {
    const c: CoughSpec = {
      start: t,
      burst: 0.03 + 0.02 * r(),
      middle: 0.1 + 0.2 * r(),
      tail: spec.voiced ? 0.08 + 0.1 * r() : 0,
      amplitude: 0.55 + 0.4 * r(),
      f0: 180 + 120 * r(),
    };
    const [a, b] = addCough(clean, sr, c, r);
    truth.push({ start: a, end: b });
    const endOfBout = spec.boutSize !== undefined && (i + 1) % spec.boutSize === 0;
    t = b + (spec.boutGap !== null && !endOfBout ? spec.boutGap : 0.45 + 0.5 * r());
  }
  // scale the background to the requested SNR over the cough samples
  let sq = 0, count = 0;
  for (const s of truth) for (let i = Math.round(s.start * sr); i < Math.round(s.end * sr); i++) { sq += clean[i]! * clean[i]!; count++; }
  const coughRms = count > 0 ? Math.sqrt(sq / count) : 0.1;
  const bg = background(n, sr, spec.background, r);
  const bgGain = coughRms / 10 ** (spec.snrDb / 20);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = clean[i]! + bg[i]! * bgGain;
  // distractors at about a cough's loudness; for cough-free recordings, a typical cough level
  if (spec.distractor && spec.distractor !== 'none') addDistractor(out, sr, spec.distractor, spec.distractor === 'hum' ? coughRms * 0.3 + 0.01 : 0.6, r);
  if (spec.band === 'telephone') {
    biquad(out, sr, 'highpass', 300);
    biquad(out, sr, 'lowpass', Math.min(3400, sr * 0.45));
  }
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(out[i]!));
  const target = spec.level === 'quiet' ? 10 ** (-45 / 20) : spec.level === 'clipped' ? 3.6 : 0.9;
  const norm = spec.level === 'quiet' || spec.level === 'clipped' ? (peak > 0 ? target / peak : 1) : peak > 0.9 ? 0.9 / peak : 1;
  for (let i = 0; i < n; i++) out[i] = Math.max(-1, Math.min(1, out[i]! * norm));
  return { samples: out, truth };
}
