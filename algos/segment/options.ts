/** Options of the hysteresis cough segmenter. Times in seconds, levels in dB. */
export interface SegmentOptions {
  /** Analysis frame for the energy envelope, in s (> 0). Default 0.025. */
  frameLength: number;
  /** Hop between envelope frames, in s (> 0, <= frameLength). Default 0.010. */
  hopLength: number;
  /** Moving-average smoothing of the frame energy, in s (>= 0). Default 0.03. */
  smoothing: number;
  /** Percentile of the frame energies taken as the noise floor, 0..100. Default 10. */
  noisePercentile: number;
  /** Lowest noise floor assumed, in dBFS: quieter frames count as this (digital silence). Default -75. */
  floorDb: number;
  /** Enter a cough when the envelope rises this far above the noise floor, in dB (> lowDb). Default 12. */
  highDb: number;
  /** Leave a cough when the envelope stays below this level over the floor, in dB (>= 0). Default 6. */
  lowDb: number;
  /** Ignore segments whose peak is more than this far below the loudest one, in dB (> 0). Default 40. */
  maxBelowPeakDb: number;
  /** The envelope must stay below the low threshold this long before a cough ends, in s (>= 0). Default 0.04. */
  hangover: number;
  /** Shortest segment kept, before padding, in s (>= 0). Default 0.08. */
  minLength: number;
  /** Longest segment, before padding, in s; longer ones are split at their deepest energy dip. Default 1.0. */
  maxLength: number;
  /** Padding added before and after each segment, in s (>= 0), never into a neighbour. Default 0.05. */
  padding: number;
}

export const SEGMENT_DEFAULTS: Readonly<SegmentOptions> = Object.freeze({
  frameLength: 0.025,
  hopLength: 0.01,
  smoothing: 0.03,
  noisePercentile: 10,
  floorDb: -75,
  highDb: 12,
  lowDb: 6,
  maxBelowPeakDb: 40,
  hangover: 0.04,
  minLength: 0.08,
  maxLength: 1.0,
  padding: 0.05,
});
