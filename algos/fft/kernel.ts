import { RealFFT } from './fft.js';

/**
 * One real FFT size's worth of work, as the mel plan needs it. The caller writes a frame into
 * `input` and calls `transform`; the spectrum is then in `spectrum` from `spectrumOffset` in the
 * ordered real layout [X0, X(n/2), re1, im1, re2, im2, ..., re(n/2-1), im(n/2-1)] (PFFFT's
 * order). Backends other than the TypeScript one (a WASM FFT, say) are built outside algos/
 * and passed in as a factory. Sizes are even.
 */
export interface RealFftKernel {
  readonly size: number;
  readonly input: Float32Array | Float64Array;
  /** Which implementation runs, for benchmarks and diagnostics. */
  readonly name: string;
  transform(): void;
  readonly spectrum: Float32Array | Float64Array;
  readonly spectrumOffset: number;
  /**
   * Optional: the inverse transform of the ordered spectrum now in `spectrum` (from
   * `spectrumOffset`), written into `input`, unnormalised (size × the original frame). Fast
   * convolution (the resampler's) uses it where a backend provides it.
   */
  inverse?(): void;
}

/** Makes a kernel for an even `size`, or returns null when it cannot (the caller then uses TypeScript). */
export type RealFftFactory = (size: number) => RealFftKernel | null;

/** The pure TypeScript kernel: radix-2/4 for powers of two, Bluestein otherwise. */
export class TsRealFftKernel implements RealFftKernel {
  readonly name = 'typescript';
  readonly input: Float64Array;
  readonly spectrum: Float64Array;
  readonly spectrumOffset = 0;
  private readonly fft: RealFFT;

  constructor(readonly size: number) {
    if (size % 2 !== 0) throw new RangeError(`FFT kernel size ${size} must be even`);
    this.fft = new RealFFT(size);
    this.input = new Float64Array(size);
    this.spectrum = new Float64Array(size);
  }

  transform(): void {
    this.fft.transformOrdered(this.input, this.spectrum);
  }
}

export function makeKernel(size: number, factory?: RealFftFactory): RealFftKernel {
  return factory?.(size) ?? new TsRealFftKernel(size);
}

/**
 * Power spectrum |Y_k|^power for k = 0..n/2 from an ordered real spectrum, where Y = X, or,
 * with `hann`, the spectrum of the frame times a periodic Hann window of length n, applied in
 * the frequency domain: Y[k] = X[k]/2 − (X[k−1] + X[k+1])/4, with X[−1] = conj(X[1]) and
 * X[n/2+1] = conj(X[n/2−1]) for a real frame.
 */
export function powerFromOrdered(x: Float32Array | Float64Array, o: number, n: number, hann: boolean, power: number, out: Float64Array): void {
  const half = n >> 1;
  const re = (k: number) => (k === 0 ? x[o]! : k === half ? x[o + 1]! : x[o + 2 * k]!);
  const im = (k: number) => (k === 0 || k === half ? 0 : x[o + 2 * k + 1]!);
  for (let k = 0; k <= half; k++) {
    let r = re(k), i = im(k);
    if (hann) {
      const km = k === 0 ? 1 : k - 1, kp = k === half ? half - 1 : k + 1;
      // conj for the mirrored neighbours at both ends
      const imm = k === 0 ? -im(1) : im(km), ipp = k === half ? -im(half - 1) : im(kp);
      r = 0.5 * r - 0.25 * (re(km) + re(kp));
      i = 0.5 * i - 0.25 * (imm + ipp);
    }
    const p = r * r + i * i;
    out[k] = power === 2 ? p : power === 1 ? Math.sqrt(p) : Math.pow(p, power / 2);
  }
}
