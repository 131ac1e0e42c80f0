import Meyda from 'meyda';
import { RealFFT } from '../fft/fft.js';
import { hannWindow } from '../melspec/window.js';

/** Per-segment descriptors, computed with meyda's feature extractors. */
export interface SegmentFeatures {
  /** Root mean square of the segment's samples (full scale = 1). */
  rms: number;
  /** Zero-crossing rate: crossings per sample, averaged over frames. */
  zcr: number;
  /** Spectral centroid, in Hz, averaged over frames with energy. */
  spectralCentroid: number;
  /** Spectral flatness (geometric / arithmetic mean of the magnitude spectrum), 0..1, averaged over frames. */
  spectralFlatness: number;
  /** Segment duration, in s. */
  duration: number;
}

type Extractor = (args: { signal?: Float32Array; ampSpectrum?: Float32Array }) => number;
const extractors = (Meyda as unknown as { featureExtractors: Record<string, Extractor> }).featureExtractors;

/**
 * A reusable descriptor plan: meyda's extractors are called directly with spectra from our own
 * FFT, so meyda's global settings object is never mutated.
 */
export class DescriptorPlan {
  readonly frameSize: number;
  private readonly fft: RealFFT;
  private readonly window: Float64Array;
  private readonly frame: Float32Array;
  private readonly windowed: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly amp: Float32Array;

  constructor(readonly sampleRate: number) {
    // about 32 ms, a power of two as meyda's conventions expect
    let size = 64;
    while (size * 2 <= sampleRate * 0.032) size *= 2;
    this.frameSize = size;
    this.fft = new RealFFT(size);
    this.window = hannWindow(size);
    this.frame = new Float32Array(size);
    this.windowed = new Float64Array(size);
    this.re = new Float64Array(this.fft.bins);
    this.im = new Float64Array(this.fft.bins);
    this.amp = new Float32Array(this.fft.bins);
  }

  describe(samples: Float32Array, start: number, end: number): SegmentFeatures {
    const seg = samples.subarray(start, end);
    const size = this.frameSize;
    const hop = size >> 1;
    let zcrSum = 0, zcrFrames = 0, centroidSum = 0, flatSum = 0, specFrames = 0;
    for (let s = 0; s + size <= seg.length || (s === 0 && seg.length > 0); s += hop) {
      this.frame.fill(0);
      this.frame.set(seg.subarray(s, Math.min(seg.length, s + size)));
      const len = Math.min(size, seg.length - s);
      zcrSum += extractors.zcr!({ signal: this.frame.subarray(0, len) }) / Math.max(1, len - 1);
      zcrFrames++;
      for (let i = 0; i < size; i++) this.windowed[i] = this.frame[i]! * this.window[i]!;
      this.fft.transform(this.windowed, this.re, this.im);
      let energy = 0;
      let zeros = false;
      for (let k = 0; k < this.fft.bins; k++) {
        const a = Math.sqrt(this.re[k]! * this.re[k]! + this.im[k]! * this.im[k]!);
        this.amp[k] = a;
        energy += a;
        if (a === 0) zeros = true;
      }
      if (energy > 1e-9) {
        centroidSum += (extractors.spectralCentroid!({ ampSpectrum: this.amp }) * this.sampleRate) / size;
        specFrames++;
        if (!zeros) flatSum += extractors.spectralFlatness!({ ampSpectrum: this.amp });
      }
      if (s + size >= seg.length) break;
    }
    return {
      rms: seg.length > 0 ? extractors.rms!({ signal: seg }) : 0,
      zcr: zcrFrames > 0 ? zcrSum / zcrFrames : 0,
      spectralCentroid: specFrames > 0 ? centroidSum / specFrames : 0,
      spectralFlatness: specFrames > 0 ? flatSum / specFrames : 0,
      duration: seg.length / this.sampleRate,
    };
  }
}
