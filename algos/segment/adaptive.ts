import { TosiaError } from '../errors.js';
import type { RealFftFactory } from '../fft/kernel.js';
import { assembleSegments } from './assemble.js';
import { analyseBands, deepestDip, deepestValley, hysteresis, movingAverage, type BandLevelOptions } from './core.js';
import { coughLikeness } from './cough-score.js';
import { percentile } from './envelope.js';
import type { Segmentation, Span } from './types.js';

/** Options of the adaptive segmenter. Times in seconds, levels in dB. */
export interface AdaptiveOptions extends BandLevelOptions {
  /** Lengths as the hysteresis segmenter. */
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
  const A = analyseBands(samples, sampleRate, { hopLength: o.hopLength, fmin: o.fmin, fmax: o.fmax, bands: o.bands, floorPercentile: o.floorPercentile }, fftFactory);
  if (A.frames === 0) return { segments: [], noiseFloorDb: -120, peakDb: -120 };
  const excess = movingAverage(A.excess, 2 * Math.floor(Math.round(o.smoothing / o.hopLength) / 2) + 1);
  const spans = hysteresis(excess, o.highDb, o.lowDb, Math.round(o.hangover / o.hopLength));
  const { hopS, frameS } = A;
  const maxFrames = Math.max(2, Math.floor((o.maxLength - frameS) / hopS));
  const minFrames = Math.max(1, Math.ceil((o.minLength - frameS) / hopS));
  const split: Span[] = [];
  const cut = (s: Span) => {
    // a valley deep below the peaks on both sides starts a new cough (bouts whose gaps the
    // comparator bridged); then anything still too long splits at its deepest dip
    const valley = deepestValley(s, excess, minFrames);
    if (valley.at >= 0 && valley.depth >= o.splitDb) { cut({ a: s.a, b: valley.at }); cut({ a: valley.at, b: s.b }); return; }
    if (s.b - s.a <= maxFrames) { split.push(s); return; }
    const best = deepestDip(s, excess, minFrames);
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
  for (const v of A.broadband) peakDb = Math.max(peakDb, v);
  return { segments, noiseFloorDb: percentile(A.broadband, 10), peakDb };
}
