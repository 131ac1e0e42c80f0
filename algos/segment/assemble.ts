import type { RealFftFactory } from '../fft/kernel.js';
import { DescriptorPlan, type SegmentFeatures } from './descriptors.js';
import type { Segment, Span } from './types.js';

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
  /** Descriptors already computed for span `i` over exactly these samples, if any (saves describing twice). */
  known?: (i: number, startSample: number, endSample: number) => SegmentFeatures | undefined;
}

/** Each span's padded start and end, in s: padding stops halfway to the neighbouring span and at the recording's ends. */
export function paddedSpans(spans: readonly Span[], o: { duration: number; hopS: number; frameS: number; padding: number }): { start: number; end: number }[] {
  const coreEnd = (s: Span) => Math.min(o.duration, (s.b - 1) * o.hopS + o.frameS);
  return spans.map((s, i) => {
    const start0 = s.a * o.hopS, end0 = coreEnd(s);
    const prev = spans[i - 1], next = spans[i + 1];
    return {
      start: Math.max(0, start0 - o.padding, prev ? (coreEnd(prev) + start0) / 2 : 0),
      end: Math.min(o.duration, end0 + o.padding, next ? (end0 + next.a * o.hopS) / 2 : o.duration),
    };
  });
}

/**
 * Turn ordered frame spans into padded segments with descriptors: the step both segmenters
 * share. Padding stops halfway to the neighbouring span and at the recording's ends.
 */
export function assembleSegments(spans: readonly CoreSpan[], o: AssembleOptions): Segment[] {
  const duration = o.samples.length / o.sampleRate;
  const describer = new DescriptorPlan(o.sampleRate, o.fft);
  const padded = paddedSpans(spans, { duration, hopS: o.hopS, frameS: o.frameS, padding: o.padding });
  const out: Segment[] = [];
  spans.forEach((s, i) => {
    const { start, end } = padded[i]!;
    const from = Math.round(start * o.sampleRate), to = Math.round(end * o.sampleRate);
    const features = o.known?.(i, from, to) ?? describer.describe(o.samples, from, to);
    if (o.accept && !o.accept(features, Math.min(duration, (s.b - 1) * o.hopS + o.frameS) - s.a * o.hopS)) return;
    out.push({ start, end, peak: Math.min(duration, s.peak * o.hopS + o.frameS / 2), features });
  });
  return out;
}
