import { makeKernel, type RealFftFactory } from '../fft/kernel.js';
import { hannWindow } from '../melspec/window.js';
import { percentile } from './envelope.js';
import type { Span } from './types.js';

/** Centred moving average over `width` frames (an odd width; shrinks at the edges). */
export function movingAverage(x: ArrayLike<number>, width: number): Float64Array {
  const n = x.length, half = Math.floor(width / 2), out = new Float64Array(n);
  if (half <= 0) { for (let t = 0; t < n; t++) out[t] = x[t]!; return out; }
  const prefix = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) prefix[t + 1] = prefix[t]! + x[t]!;
  for (let t = 0; t < n; t++) {
    const a = Math.max(0, t - half), b = Math.min(n, t + half + 1);
    out[t] = (prefix[b]! - prefix[a]!) / (b - a);
  }
  return out;
}

/**
 * The hysteresis comparator every method uses: a span starts where `x` exceeds `high` (extended
 * back while it stays above `low`, never into the previous span) and ends once it has stayed
 * below `low` for more than `hangFrames` frames; its end is the last frame at or above `low`.
 */
export function hysteresis(x: ArrayLike<number>, high: number, low: number, hangFrames: number): Span[] {
  const spans: Span[] = [];
  let active = false, start = 0, below = 0, last = 0;
  for (let t = 0; t < x.length; t++) {
    const v = x[t]!;
    if (!active) {
      if (v > high) {
        active = true; start = t; below = 0; last = t;
        while (start > 0 && x[start - 1]! > low && (spans.length === 0 || start - 1 >= spans[spans.length - 1]!.b)) start--;
      }
    } else if (v < low) {
      if (++below > hangFrames) { spans.push({ a: start, b: last + 1 }); active = false; }
    } else { below = 0; last = t; }
  }
  if (active) spans.push({ a: start, b: last + 1 });
  return spans;
}

/** The frame of `span` where `x` is lowest, keeping `minFrames` (>= 1) on each side; -1 when the span is too short. */
export function deepestDip(span: Span, x: ArrayLike<number>, minFrames: number): number {
  let cut = -1;
  for (let t = span.a + Math.max(1, minFrames); t < span.b - Math.max(1, minFrames); t++) if (cut < 0 || x[t]! < x[cut]!) cut = t;
  return cut;
}

/** Split `span` at its deepest dip of `x` until no part is longer than `maxFrames`. */
export function splitLong(span: Span, x: ArrayLike<number>, maxFrames: number, minFrames: number, out: Span[] = []): Span[] {
  if (span.b - span.a <= maxFrames) { out.push(span); return out; }
  const cut = deepestDip(span, x, minFrames);
  if (cut < 0) { out.push(span); return out; }
  splitLong({ a: span.a, b: cut }, x, maxFrames, minFrames, out);
  splitLong({ a: cut, b: span.b }, x, maxFrames, minFrames, out);
  return out;
}

/** The deepest valley of `x` inside `span` below the maxima on both sides: its frame and depth (-1, 0 when none). */
export function deepestValley(span: Span, x: ArrayLike<number>, minFrames: number): { at: number; depth: number } {
  let at = -1, depth = 0;
  // running maxima from the left and from the right make this linear in the span's length
  const len = span.b - span.a, right = new Float64Array(len + 1);
  for (let t = span.b - 1; t >= span.a; t--) right[t - span.a] = Math.max(right[t - span.a + 1]!, x[t]!);
  let left = 0;
  for (let t = span.a; t < span.b - minFrames; t++) {
    if (t >= span.a + minFrames) {
      const d = Math.min(left, right[t - span.a + 1]!) - x[t]!;
      if (d > depth) { depth = d; at = t; }
    }
    left = Math.max(left, x[t]!);
  }
  return { at, depth };
}

/** What the band-excess methods (onset, adaptive) share: the analysis and the sound comparator. Times in s, levels in dB. */
export interface BandLevelOptions {
  /** Hop between analysis frames (> 0). Default 0.01. */
  hopLength: number;
  /** Lowest and highest analysed frequency, in Hz; hum below and the codec edge above are left out. Default 250 / 3800. */
  fmin: number;
  fmax: number;
  /** Number of log-spaced bands between fmin and fmax (>= 4). Default 16. */
  bands: number;
  /** Percentile of each band's level over the recording taken as that band's noise floor. Default 20. */
  floorPercentile: number;
  /** A sound starts when the mean band excess over the floors exceeds highDb. Default 6. */
  highDb: number;
  /** It ends when the excess stays below lowDb for `hangover` (s). Default 3, 0.04. */
  lowDb: number;
  hangover: number;
  /** Moving-average smoothing of the excess (s). Default 0.03. */
  smoothing: number;
}

export interface BandAnalysisOptions {
  /** Hop, in s. */
  hopLength: number;
  /** Analysed band, in Hz (fmax is capped below the Nyquist frequency). */
  fmin: number;
  fmax: number;
  /** Log-spaced bands between fmin and fmax. */
  bands: number;
  /** Percentile of each band's level over the recording taken as its floor. */
  floorPercentile: number;
  /** The spectral flux, when wanted: its lag in frames, and where the high bands start (bands centred at or above highHz, in Hz). */
  flux?: { lag: number; highHz: number };
}

/** The short-time spectrum pooled into log bands and measured against each band's own floor. */
export interface BandAnalysis {
  frames: number;
  /** Hop and analysis frame, in samples and in s. */
  hop: number;
  nfft: number;
  hopS: number;
  frameS: number;
  /** Mean excess over the band floors (dB), per frame. */
  excess: Float64Array;
  /** Positive spectral flux of the excess over the flux lag (dB), over all bands and over the high bands; empty unless asked for. */
  flux: Float64Array;
  fluxHigh: Float64Array;
  /** Broadband level, in dBFS. */
  broadband: Float64Array;
}

/**
 * Pool each frame's power spectrum into log-spaced bands and take each band's level above its
 * own floor (a low percentile of that band over the recording), so stationary noise, hum and a
 * band-limited channel cancel out band by band. Frames of digital silence (< -90 dBFS) have no
 * excess. The flux is the rise of those excesses over a few frames: the explosive phase of a
 * cough raises every band at once within tens of ms.
 */
export function analyseBands(samples: Float32Array, sampleRate: number, o: BandAnalysisOptions, fftFactory?: RealFftFactory): BandAnalysis {
  const hop = Math.max(1, Math.round(o.hopLength * sampleRate));
  let nfft = 64;
  while (nfft < sampleRate * 0.032) nfft *= 2;
  const n = samples.length, B = o.bands;
  const frames = n === 0 ? 0 : n < nfft ? 1 : 1 + Math.floor((n - nfft) / hop);
  const fmax = Math.min(o.fmax, sampleRate * 0.475);
  const edges = Array.from({ length: B + 1 }, (_, b) => Math.round((o.fmin * (fmax / o.fmin) ** (b / B) * nfft) / sampleRate));
  const fft = makeKernel(nfft, fftFactory), win = hannWindow(nfft), bins = nfft / 2 + 1;
  const power = new Float64Array(bins), level = new Float32Array(frames * B), broadband = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    const s = t * hop, frame = fft.input;
    if (s + nfft <= n) for (let i = 0; i < nfft; i++) frame[i] = samples[s + i]! * win[i]!;
    else for (let i = 0; i < nfft; i++) frame[i] = (s + i < n ? samples[s + i]! : 0) * win[i]!;
    fft.transform();
    const x = fft.spectrum, q = fft.spectrumOffset;
    power[0] = x[q]! * x[q]!;
    power[bins - 1] = x[q + 1]! * x[q + 1]!;
    for (let k = 1; k < bins - 1; k++) power[k] = x[q + 2 * k]! * x[q + 2 * k]! + x[q + 2 * k + 1]! * x[q + 2 * k + 1]!;
    let total = 0;
    for (let b = 0; b < B; b++) {
      let e = 0;
      const lo = edges[b]!, hi = Math.max(edges[b + 1]!, lo + 1);
      for (let k = lo; k < hi && k < bins; k++) e += power[k]!;
      total += e;
      level[t * B + b] = 10 * Math.log10(e / (hi - lo) + 1e-12);
    }
    broadband[t] = 10 * Math.log10(total / (nfft * nfft) + 1e-12);
  }
  const floors = new Float64Array(B), column = new Float64Array(frames);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < frames; t++) column[t] = level[t * B + b]!;
    floors[b] = frames > 0 ? percentile(column, o.floorPercentile) : 0;
  }
  const ex = new Float32Array(frames * B);
  for (let t = 0; t < frames; t++) {
    if (broadband[t]! < -90) continue;
    for (let b = 0; b < B; b++) ex[t * B + b] = Math.max(0, level[t * B + b]! - floors[b]!);
  }
  const excess = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let sum = 0;
    for (let b = 0; b < B; b++) sum += ex[t * B + b]!;
    excess[t] = sum / B;
  }
  const wanted = o.flux !== undefined;
  const flux = new Float64Array(wanted ? frames : 0), fluxHigh = new Float64Array(wanted ? frames : 0);
  if (o.flux) {
    const lag = o.flux.lag;
    let highFrom = B;
    for (let b = B - 1; b >= 0 && o.fmin * (fmax / o.fmin) ** ((b + 0.5) / B) >= o.flux.highHz; b--) highFrom = b;
    highFrom = Math.min(highFrom, B - 1);
    const nHigh = B - highFrom;
    for (let t = lag; t < frames; t++) {
      let fl = 0, fh = 0;
      for (let b = 0; b < B; b++) {
        const d = Math.max(0, ex[t * B + b]! - ex[(t - lag) * B + b]!);
        fl += d;
        if (b >= highFrom) fh += d;
      }
      flux[t] = fl / B; fluxHigh[t] = fh / nHigh;
    }
  }
  return { frames, hop, nfft, hopS: hop / sampleRate, frameS: nfft / sampleRate, excess, flux, fluxHigh, broadband };
}
