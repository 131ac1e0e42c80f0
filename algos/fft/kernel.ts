import { RealFFT } from './fft.js';

/**
 * One real FFT size's worth of work, as the mel plan needs it: the caller writes a frame into
 * `input`, then `powerSpectrum` writes |X_k|² for k = 0..size/2. Backends other than the
 * TypeScript one (a WASM FFT, say) are built outside algos/ and passed in as a factory.
 */
export interface RealFftKernel {
  readonly size: number;
  readonly input: Float32Array | Float64Array;
  /** Which implementation runs, for benchmarks and diagnostics. */
  readonly name: string;
  powerSpectrum(power: Float64Array): void;
}

/** Makes a kernel for `size`, or returns null when it cannot (the caller then uses TypeScript). */
export type RealFftFactory = (size: number) => RealFftKernel | null;

/** The pure TypeScript kernel: radix-2 for powers of two, Bluestein otherwise. */
export class TsRealFftKernel implements RealFftKernel {
  readonly name = 'typescript';
  readonly input: Float64Array;
  private readonly fft: RealFFT;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(readonly size: number) {
    this.fft = new RealFFT(size);
    this.input = new Float64Array(size);
    this.re = new Float64Array(this.fft.bins);
    this.im = new Float64Array(this.fft.bins);
  }

  powerSpectrum(power: Float64Array): void {
    this.fft.transform(this.input, this.re, this.im);
    const re = this.re, im = this.im;
    for (let k = 0; k < this.fft.bins; k++) power[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  }
}

export function makeKernel(size: number, factory?: RealFftFactory): RealFftKernel {
  return factory?.(size) ?? new TsRealFftKernel(size);
}
