import Meyda from 'meyda';
import { makeKernel, type RealFftFactory, type RealFftKernel } from '../fft/kernel.js';
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

/** Mean power below which a frame is digital silence: -90 dBFS. */
const SILENT_POWER = 1e-9;
/** Samples smaller than this (-160 dBFS, below 24-bit resolution) are zero for the descriptors. */
const SILENT_AMPLITUDE = 1e-8;

type Extractor = (args: { signal?: Float32Array; ampSpectrum?: Float32Array }) => number;
const extractors = (Meyda as unknown as { featureExtractors: Record<string, Extractor> }).featureExtractors;

/**
 * A reusable descriptor plan: meyda's extractors are called directly with spectra from our own
 * FFT, so meyda's global settings object is never mutated.
 */
export class DescriptorPlan {
  readonly frameSize: number;
  private readonly fft: RealFftKernel;
  private readonly bins: number;
  private readonly window: Float64Array;
  private readonly frame: Float32Array;
  private readonly amp: Float32Array;

  /** `fft`: an optional faster FFT backend (the TypeScript FFT otherwise). */
  constructor(readonly sampleRate: number, fft?: RealFftFactory) {
    // about 32 ms, a power of two as meyda's conventions expect
    let size = 64;
    while (size * 2 <= sampleRate * 0.032) size *= 2;
    this.frameSize = size;
    this.fft = makeKernel(size, fft);
    this.bins = size / 2 + 1;
    this.window = hannWindow(size);
    this.frame = new Float32Array(size);
    this.amp = new Float32Array(this.bins);
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
      // a frame below -90 dBFS is digital silence (as the segmenter treats it): its zero
      // crossings and spectrum are rounding noise, and would differ between exact zeros and
      // 1e-10, so it adds nothing to the averages
      let power = 0;
      for (let i = 0; i < len; i++) {
        const v = this.frame[i]!;
        // samples below -160 dBFS (under a 24-bit step) count as zero: rounding noise makes no zero crossings
        if (v < SILENT_AMPLITUDE && v > -SILENT_AMPLITUDE) this.frame[i] = 0;
        else power += v * v;
      }
      if (power / Math.max(1, len) < SILENT_POWER) {
        if (s + size >= seg.length) break;
        continue;
      }
      zcrSum += extractors.zcr!({ signal: this.frame.subarray(0, len) }) / Math.max(1, len - 1);
      zcrFrames++;
      const input = this.fft.input;
      for (let i = 0; i < size; i++) input[i] = this.frame[i]! * this.window[i]!;
      this.fft.transform();
      const x = this.fft.spectrum, q = this.fft.spectrumOffset, last = this.bins - 1;
      let energy = 0;
      let zeros = false;
      for (let k = 0; k <= last; k++) {
        const re = k === 0 ? x[q]! : k === last ? x[q + 1]! : x[q + 2 * k]!;
        const im = k === 0 || k === last ? 0 : x[q + 2 * k + 1]!;
        const a = Math.sqrt(re * re + im * im);
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
