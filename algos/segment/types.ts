import type { SegmentFeatures } from './descriptors.js';

/** A found cough. */
export interface Segment {
  /** Start, in s, padding included. */
  start: number;
  /** End, in s, padding included. */
  end: number;
  /** Time of the envelope's maximum, in s. */
  peak: number;
  features: SegmentFeatures;
  /**
   * How likely this is one cough as the annotated recordings define it, 0..1, with the main
   * reason when it is low. Set by the methods that score their own candidates (onset); the
   * others leave it to the descriptor-based cough-likeness.
   */
  score?: { value: number; reason: string };
}

export interface Segmentation {
  segments: Segment[];
  /** Estimated noise floor of the recording, in dBFS. */
  noiseFloorDb: number;
  /** Loudest envelope value, in dBFS. */
  peakDb: number;
}

/** Frame indices: [a, b). */
export interface Span { a: number; b: number }
