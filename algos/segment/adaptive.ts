import { TosiaError } from '../errors.js';
import { makeKernel, type RealFftFactory } from '../fft/kernel.js';
import { hannWindow } from '../melspec/window.js';
import { coughLikeness } from './cough-score.js';
import { assembleSegments } from './assemble.js';
import { percentile } from './envelope.js';
import type { Segmentation } from './segment-coughs.js';

/** Options of the adaptive segmenter. Times in seconds, levels in dB. */
export interface AdaptiveOptions {
  /** Hop between analysis frames (> 0). Default 0.01. */
  hopLength: number;
  /** Lowest and highest analysed frequency, in Hz; hum below and the codec edge above are left out. Default 250 / 3800. */
  fmin: number;
  fmax: number;
  /** Number of log-spaced bands between fmin and fmax (>= 4). Default 16. */
  bands: number;
  /** Percentile of each band's level over the recording taken as that band's noise floor. Default 20. */
  floorPercentile: number;
  /** Enter a cough when the mean band excess over the floors exceeds this (dB). Default 6. */
  highDb: number;
  /** Leave it when the excess stays below this (dB) for `hangover`. Default 3. */
  lowDb: number;
  /** Moving-average smoothing of the excess (s). Default 0.03. Hangover 0.04, lengths as the hysteresis segmenter. */
  smoothing: number;
  hangover: number;
  minLength: number;
  maxLength: number;
  padding: number;
  /** Segments whose peak excess is this far below the loudest one's are dropped (dB). Default 40. */
  maxBelowPeakDb: number;
  /** Segments with a cough-likeness score below this are rejected (0 keeps all). Default 0.3. */
  minCoughScore: number;
  /** Split a segment at a valley this far below the peaks on both sides (dB): a new cough of a bout. Default 8. */
  splitDb: number;
}

export const ADAPTIVE_DEFAULTS: Readonly<AdaptiveOptions> = Object.freeze({
  hopLength: 0.01, fmin: 250, fmax: 3800, bands: 16, floorPercentile: 20, highDb: 6, lowDb: 3, smoothing: 0.03,
  hangover: 0.04, minLength: 0.08, maxLength: 1.0, padding: 0.05, maxBelowPeakDb: 40, minCoughScore: 0.3, splitDb: 8,
});

/**
 * Find coughs by their excess over a per-band noise floor: the short-time spectrum is pooled into
 * log-spaced bands, each band's floor is a low percentile of its own level (so stationary noise,
 * hum and a band-limited channel cancel out band by band), and a hysteresis comparator runs on the
 * mean excess. Long segments split at their deepest dip; segments unlike a cough (too short,
 * tonal) are rejected by their cough-likeness score. `fft`: an optional faster FFT backend (the
 * TypeScript FFT otherwise).
 */
export function segmentCoughsAdaptive(samples: Float32Array, sampleRate: number, options: Partial<AdaptiveOptions> = {}, fftFactory?: RealFftFactory): Segmentation {
  const o = { ...ADAPTIVE_DEFAULTS, ...options };
  if (!(o.highDb > o.lowDb)) throw new TosiaError('E_CONFIG', `highDb=${o.highDb} must be > lowDb=${o.lowDb}`, { stage: 'segment' });
  if (!(o.bands >= 4)) throw new TosiaError('E_CONFIG', `bands=${o.bands} must be >= 4`, { stage: 'segment' });
  const hop = Math.max(1, Math.round(o.hopLength * sampleRate));
  let nfft = 64;
  while (nfft < sampleRate * 0.032) nfft *= 2;
  const n = samples.length;
  const frames = n < nfft ? (n > 0 ? 1 : 0) : 1 + Math.floor((n - nfft) / hop);
  if (frames === 0) return { segments: [], noiseFloorDb: -120, peakDb: -120 };
  const fmax = Math.min(o.fmax, sampleRate * 0.475);
  const edges = Array.from({ length: o.bands + 1 }, (_, b) => Math.round((o.fmin * (fmax / o.fmin) ** (b / o.bands) * nfft) / sampleRate));
  const fft = makeKernel(nfft, fftFactory);
  const bins = nfft / 2 + 1;
  const win = hannWindow(nfft);
  const power = new Float64Array(bins);
  const level = new Float32Array(frames * o.bands);
  const broadband = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    const s = t * hop;
    const frame = fft.input;
    if (s + nfft <= n) for (let i = 0; i < nfft; i++) frame[i] = samples[s + i]! * win[i]!;
    else for (let i = 0; i < nfft; i++) frame[i] = (s + i < n ? samples[s + i]! : 0) * win[i]!;
    fft.transform();
    const x = fft.spectrum, q = fft.spectrumOffset;
    power[0] = x[q]! * x[q]!;
    power[bins - 1] = x[q + 1]! * x[q + 1]!;
    for (let k = 1; k < bins - 1; k++) power[k] = x[q + 2 * k]! * x[q + 2 * k]! + x[q + 2 * k + 1]! * x[q + 2 * k + 1]!;
    let total = 0;
    for (let b = 0; b < o.bands; b++) {
      let e = 0;
      const lo = edges[b]!, hi = Math.max(edges[b + 1]!, lo + 1);
      for (let k = lo; k < hi && k < bins; k++) e += power[k]!;
      total += e;
      level[t * o.bands + b] = 10 * Math.log10(e / (hi - lo) + 1e-12);
    }
    broadband[t] = 10 * Math.log10(total / (nfft * nfft) + 1e-12);
  }
  const floors = new Float64Array(o.bands);
  const column = new Float64Array(frames);
  for (let b = 0; b < o.bands; b++) {
    for (let t = 0; t < frames; t++) column[t] = level[t * o.bands + b]!;
    floors[b] = percentile(column, o.floorPercentile);
  }
  const excessRaw = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let sum = 0;
    for (let b = 0; b < o.bands; b++) sum += Math.max(0, level[t * o.bands + b]! - floors[b]!);
    excessRaw[t] = sum / o.bands;
  }
  // digital silence has no floor to exceed: ignore frames below -90 dBFS
  for (let t = 0; t < frames; t++) if (broadband[t]! < -90) excessRaw[t] = 0;
  const half = Math.floor(Math.round(o.smoothing / o.hopLength) / 2);
  const excess = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let s = 0, c = 0;
    for (let k = Math.max(0, t - half); k <= Math.min(frames - 1, t + half); k++) { s += excessRaw[k]!; c++; }
    excess[t] = s / c;
  }
  const hang = Math.round(o.hangover / o.hopLength);
  const spans: { a: number; b: number }[] = [];
  let active = false, start = 0, below = 0, last = 0;
  for (let t = 0; t < frames; t++) {
    const v = excess[t]!;
    if (!active) {
      if (v > o.highDb) {
        active = true; start = t; below = 0; last = t;
        while (start > 0 && excess[start - 1]! > o.lowDb && (spans.length === 0 || start - 1 >= spans[spans.length - 1]!.b)) start--;
      }
    } else if (v < o.lowDb) {
      if (++below > hang) { spans.push({ a: start, b: last + 1 }); active = false; }
    } else { below = 0; last = t; }
  }
  if (active) spans.push({ a: start, b: last + 1 });

  const hopS = hop / sampleRate, frameS = nfft / sampleRate;
  const maxFrames = Math.max(2, Math.floor((o.maxLength - frameS) / hopS));
  const minFrames = Math.max(1, Math.ceil((o.minLength - frameS) / hopS));
  const split: { a: number; b: number }[] = [];
  const cut = (s: { a: number; b: number }) => {
    // a valley deep below the peaks on both sides starts a new cough (bouts whose gaps the
    // comparator bridged); then anything still too long splits at its deepest dip
    let valley = -1, depth = 0;
    for (let t = s.a + minFrames; t < s.b - minFrames; t++) {
      let left = 0, right = 0;
      for (let k = s.a; k < t; k++) left = Math.max(left, excess[k]!);
      for (let k = t + 1; k < s.b; k++) right = Math.max(right, excess[k]!);
      const d = Math.min(left, right) - excess[t]!;
      if (d > depth) { depth = d; valley = t; }
    }
    if (valley >= 0 && depth >= o.splitDb) { cut({ a: s.a, b: valley }); cut({ a: valley, b: s.b }); return; }
    if (s.b - s.a <= maxFrames) { split.push(s); return; }
    let best = -1;
    for (let t = s.a + minFrames; t < s.b - minFrames; t++) if (best < 0 || excess[t]! < excess[best]!) best = t;
    if (best < 0) { split.push(s); return; }
    cut({ a: s.a, b: best }); cut({ a: best, b: s.b });
  };
  spans.forEach(cut);

  let loudest = 0;
  const cands = split
    .map((s) => { let pk = s.a; for (let t = s.a; t < s.b; t++) if (excess[t]! > excess[pk]!) pk = t; return { ...s, pk }; })
    .filter((s) => (s.b - s.a - 1) * hopS + frameS >= o.minLength);
  for (const c of cands) loudest = Math.max(loudest, excess[c.pk]!);
  const kept = cands.filter((c) => excess[c.pk]! >= loudest - o.maxBelowPeakDb);

  const segments = assembleSegments(kept.map((k) => ({ a: k.a, b: k.b, peak: k.pk })), {
    samples, sampleRate, hopS, frameS, padding: o.padding, fft: fftFactory,
    // judge length on the core (unpadded) duration: padding would make a click look long enough
    accept: (features, core) => !(o.minCoughScore > 0 && coughLikeness({ ...features, duration: core }).score < o.minCoughScore),
  });
  let peakDb = -120;
  for (const v of broadband) peakDb = Math.max(peakDb, v);
  return { segments, noiseFloorDb: percentile(broadband, 10), peakDb };
}
