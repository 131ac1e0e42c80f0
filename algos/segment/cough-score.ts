import type { SegmentFeatures } from './descriptors.js';

/** Why a segment looks unlike a cough, when it does. */
export interface CoughLikeness {
  /** 0..1: 1 for a typical cough (broadband, noisy, 0.15-0.8 s), toward 0 for clicks or voiced sounds. */
  score: number;
  /** The weakest factor, named for the result ("too short (click?)", ...). */
  reason: string;
}

const ramp = (x: number, lo: number, hi: number) => Math.max(0, Math.min(1, (x - lo) / (hi - lo)));

/**
 * A transparent cough-likeness score from a segment's descriptors: the product of three factors,
 * each 1 inside the range typical of coughs and falling off outside it.
 * - duration: coughs last 0.15-0.8 s (padding included); a click or crackle is much shorter.
 * - spectral flatness: the explosive and intermediate phases are noise-like; voiced speech and
 *   hum are harmonic (low flatness).
 * - spectral centroid: cough energy spreads above 500 Hz; rumble and hum sit below.
 */
export function coughLikeness(f: SegmentFeatures): CoughLikeness {
  const factors: [string, number][] = [
    ['too short (a click?)', ramp(f.duration, 0.06, 0.15)],
    ['too long (not a single cough)', 1 - ramp(f.duration, 1.2, 2.0)],
    ['tonal or voiced (speech or hum?)', ramp(f.spectralFlatness, 0.02, 0.12)],
    ['low-frequency only (rumble or hum?)', ramp(f.spectralCentroid, 250, 600)],
  ];
  let score = 1, worst = factors[0]!;
  for (const fac of factors) {
    score *= fac[1];
    if (fac[1] < worst[1]) worst = fac;
  }
  return { score, reason: worst[1] < 1 ? worst[0] : 'cough-like' };
}
