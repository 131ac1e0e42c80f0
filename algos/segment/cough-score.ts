import { COUGH_SCORE_MODEL } from './cough-score-model.js';
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

/** What the onset segmenter measures on each candidate event; the score is a function of these. */
export interface CandidateFeatures {
  /** Peak spectral flux at its onset, over all bands and over the bands above 1.5 kHz (dB). */
  onset: number;
  onsetHigh: number;
  /** Its loudest mean band excess (dB), and how far that is below the recording's loudest event. */
  peak: number;
  belowLoudest: number;
  /** Length before padding (s). */
  duration: number;
  /** Descriptors of the padded event: spectral centroid (Hz), zero-crossing rate, spectral flatness. */
  centroid: number;
  zcr: number;
  flatness: number;
  /** From the onset to the loudest frame (s). */
  riseTime: number;
  /** How far the level fell before it, from the previous event's peak (its own peak when it follows silence), dB. */
  dipBefore: number;
  /** Its high-band onset against the previous event's, as a log ratio (0 after silence). */
  onsetVsPrevious: number;
  /** 1 when it starts within 0.35 s of the previous event's start with no gap: where a voiced tail would be. */
  inTail: number;
  /** Its high-band onset below the recording's strongest, as a log ratio. */
  onsetBelowStrongest: number;
  /** Its peak over its starting level (dB). */
  peakOverStart: number;
  /** The onset's high-band share of the flux. */
  highShare: number;
  /** Its peak against the previous event's (dB; 0 after silence). */
  peakVsPrevious: number;
}

/** The feature order of the fitted model. */
export const CANDIDATE_FEATURES: readonly (keyof CandidateFeatures)[] = Object.freeze([
  'onset', 'onsetHigh', 'peak', 'belowLoudest', 'duration', 'centroid', 'zcr', 'flatness', 'riseTime',
  'dipBefore', 'onsetVsPrevious', 'inTail', 'onsetBelowStrongest', 'peakOverStart', 'highShare', 'peakVsPrevious',
]);

/**
 * The probability that a candidate event is one cough, from boosted decision trees fitted by
 * `make fit-cough-score` (bench/fit-cough-score.ts) on half of the annotated covid19-cough
 * recordings and a synthetic training draw disjoint from the evaluation set; the reason names the
 * most telling way it is unlike a cough, when it is.
 */
export function coughProbability(f: CandidateFeatures): { value: number; reason: string } {
  let z = COUGH_SCORE_MODEL.base;
  for (const tree of COUGH_SCORE_MODEL.trees) {
    let node = 0;
    // nodes are [feature, threshold, left, right] or [-1, value]
    for (;;) {
      const n = tree[node]!;
      if (n[0]! < 0) { z += COUGH_SCORE_MODEL.rate * n[1]!; break; }
      node = f[CANDIDATE_FEATURES[n[0]!]!] <= n[1]! ? n[2]! : n[3]!;
    }
  }
  const value = 1 / (1 + Math.exp(-z));
  return { value, reason: value >= 0.5 ? 'cough-like' : unlikeness(f) };
}

function unlikeness(f: CandidateFeatures): string {
  if (f.onsetHigh < 6) return 'no explosive broadband onset (speech, a breath or noise?)';
  if (f.inTail === 1 && f.peakVsPrevious < 0) return 'the tail of the cough before it';
  if (f.duration < 0.12) return 'too short (a click?)';
  if (f.belowLoudest > 20) return 'far quieter than the loudest cough';
  if (f.flatness < 0.1) return 'tonal or voiced (speech or hum?)';
  return 'unlike the annotated coughs';
}
