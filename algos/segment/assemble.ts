import type { RealFftFactory } from '../fft/kernel.js';
import { DescriptorPlan, type SegmentFeatures } from './descriptors.js';
import type { Segment } from './types.js';

/** A detected cough in frame indices: [a, b) and its peak frame. */
export interface CoreSpan { a: number; b: number; peak: number }

export interface AssembleOptions {
  samples: Float32Array;
  sampleRate: number;
  /** Hop and analysis frame, in seconds. */
  hopS: number;
  frameS: number;
  /** Padding added on each side, never past the midpoint to a neighbour. */
  padding: number;
  /** Keep a segment? Given its descriptors and its core (unpadded) duration. Default: keep all. */
  accept?: (features: SegmentFeatures, coreDuration: number) => boolean;
  /** An optional faster FFT backend for the descriptors. */
  fft?: RealFftFactory;
}

/**
 * Turn ordered frame spans into padded segments with descriptors: the step both segmenters
 * share. Padding stops halfway to the neighbouring span and at the recording's ends.
 */
export function assembleSegments(spans: readonly CoreSpan[], o: AssembleOptions): Segment[] {
  const duration = o.samples.length / o.sampleRate;
  const describer = new DescriptorPlan(o.sampleRate, o.fft);
  const coreEnd = (s: CoreSpan) => Math.min(duration, (s.b - 1) * o.hopS + o.frameS);
  const out: Segment[] = [];
  spans.forEach((s, i) => {
    const start0 = s.a * o.hopS, end0 = coreEnd(s);
    const prev = spans[i - 1], next = spans[i + 1];
    const start = Math.max(0, start0 - o.padding, prev ? (coreEnd(prev) + start0) / 2 : 0);
    const end = Math.min(duration, end0 + o.padding, next ? (end0 + next.a * o.hopS) / 2 : duration);
    const features = describer.describe(o.samples, Math.round(start * o.sampleRate), Math.round(end * o.sampleRate));
    if (o.accept && !o.accept(features, end0 - start0)) return;
    out.push({ start, end, peak: Math.min(duration, s.peak * o.hopS + o.frameS / 2), features });
  });
  return out;
}
