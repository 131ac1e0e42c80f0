import { TosiaError } from '../errors.js';
import { RealFFT } from '../fft/fft.js';
import { makeKernel, powerFromOrdered, type RealFftFactory, type RealFftKernel } from '../fft/kernel.js';
import { buildFilterBank, type FilterBank } from './filterbank.js';
import { MEL_DEFAULTS, type MelOptions } from './options.js';
import { hannWindow } from './window.js';

export interface MelSpectrogram {
  /** Row-major nMels × nFrames: data[m * nFrames + t], librosa's orientation. */
  data: Float32Array;
  nMels: number;
  nFrames: number;
}

/** Fill in defaults that depend on other options (hop and window length depend on nFft). */
export function resolveMelOptions(options: Partial<MelOptions> = {}): MelOptions {
  const nFft = options.nFft ?? MEL_DEFAULTS.nFft;
  const o: MelOptions = {
    ...MEL_DEFAULTS,
    hopLength: Math.floor(nFft / 4),
    winLength: nFft,
    ...stripUndefined(options),
  };
  checkMelOptions(o);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function checkMelOptions(o: MelOptions): void {
  const fail = (msg: string) => { throw new TosiaError('E_CONFIG', msg, { stage: 'mel' }); };
  if (!Number.isInteger(o.nFft) || o.nFft < 16) fail(`nFft=${o.nFft} must be an integer >= 16`);
  if (!Number.isInteger(o.hopLength) || o.hopLength < 1) fail(`hopLength=${o.hopLength} must be an integer >= 1`);
  if (!Number.isInteger(o.winLength) || o.winLength < 1 || o.winLength > o.nFft) {
    fail(`winLength=${o.winLength} must be an integer in 1..nFft (${o.nFft})`);
  }
  if (o.window !== 'hann') fail(`window=${String(o.window)} is not supported; use 'hann'`);
  if (o.padMode !== 'constant' && o.padMode !== 'reflect') fail(`padMode=${String(o.padMode)} must be 'constant' or 'reflect'`);
  if (!(o.power > 0)) fail(`power=${o.power} must be > 0`);
}

/** Mirror an out-of-range index back into [0, n) as numpy's 'reflect' pad does (edge not repeated). */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - j;
}

/**
 * A reusable mel spectrogram plan: the window, the FFT tables and the sparse filter bank are
 * built once; `run` allocates only its output (or none, given `out`).
 */
export class MelPlan {
  readonly options: MelOptions;
  readonly filterBank: FilterBank;
  /** The FFT for even sizes; odd sizes (no Nyquist bin) use `odd` with a time-domain window. */
  private readonly kernel: RealFftKernel | null;
  private readonly odd: { fft: RealFFT; frame: Float64Array; re: Float64Array; im: Float64Array } | null;
  private readonly window: Float64Array;
  private readonly spec: Float64Array;
  private readonly acc: Float64Array;

  /**
   * @param options librosa's options in camelCase.
   * @param fft a factory for a faster FFT kernel (the runtime passes a WASM one); the pure
   *   TypeScript FFT is used when it is absent or declines the size.
   */
  constructor(options: Partial<MelOptions> = {}, fft?: RealFftFactory) {
    this.options = resolveMelOptions(options);
    const o = this.options;
    this.filterBank = buildFilterBank(o);
    if (o.nFft % 2 === 0) {
      this.kernel = makeKernel(o.nFft, fft);
      this.odd = null;
    } else {
      const f = new RealFFT(o.nFft);
      this.kernel = null;
      this.odd = { fft: f, frame: new Float64Array(o.nFft), re: new Float64Array(f.bins), im: new Float64Array(f.bins) };
    }
    this.window = hannWindow(o.winLength, o.nFft);
    this.spec = new Float64Array((o.nFft >> 1) + 1);
    // one spare slot: the last band's upper neighbour receives w1 = 0
    this.acc = new Float64Array(this.filterBank.nMels + 1);
  }

  /** Mel bands of one frame's power spectrum into column t of `data`. */
  private applyFilters(spec: Float64Array, data: Float32Array, t: number, nFrames: number): void {
    const { nMels, nBins, start, end, weights, byBin } = this.filterBank;
    if (byBin) {
      const { band, w0, w1 } = byBin;
      const acc = this.acc;
      acc.fill(0);
      for (let k = 0; k < nBins; k++) {
        const b = band[k]!;
        if (b < 0) continue;
        const p = spec[k]!;
        acc[b] = acc[b]! + w0[k]! * p;
        acc[b + 1] = acc[b + 1]! + w1[k]! * p;
      }
      for (let m = 0; m < nMels; m++) data[m * nFrames + t] = acc[m]!;
      return;
    }
    for (let m = 0; m < nMels; m++) {
      let sum = 0;
      const row = m * nBins;
      for (let k = start[m]!, e = end[m]!; k < e; k++) sum += weights[row + k]! * spec[k]!;
      data[m * nFrames + t] = sum;
    }
  }

  /** Odd n_fft: time-domain window, TypeScript FFT. */
  private runOdd(samples: ArrayLike<number>, data: Float32Array, nFrames: number): MelSpectrogram {
    const o = this.options, odd = this.odd!, n = samples.length;
    const pad = o.center ? Math.floor(o.nFft / 2) : 0;
    const reflect = o.padMode === 'reflect';
    const { fft, frame, re, im } = odd;
    for (let t = 0; t < nFrames; t++) {
      const origin = t * o.hopLength - pad;
      for (let i = 0; i < o.nFft; i++) frame[i] = this.sampleAt(samples, origin + i, n, reflect) * this.window[i]!;
      fft.transform(frame, re, im);
      for (let k = 0; k < fft.bins; k++) {
        const p = re[k]! * re[k]! + im[k]! * im[k]!;
        this.spec[k] = o.power === 2 ? p : o.power === 1 ? Math.sqrt(p) : Math.pow(p, o.power / 2);
      }
      this.applyFilters(this.spec, data, t, nFrames);
    }
    return { data, nMels: this.filterBank.nMels, nFrames };
  }

  private sampleAt(samples: ArrayLike<number>, j: number, n: number, reflect: boolean): number {
    if (j >= 0 && j < n) return samples[j]!;
    if (reflect && n > 0) return samples[reflectIndex(j, n)]!;
    return 0;
  }

  /** The FFT implementation this plan runs. */
  get fftName(): string {
    return this.kernel?.name ?? 'typescript';
  }

  /** Band indices whose filters are all zero (librosa warns "Empty filters detected"). */
  get emptyBands(): number[] {
    return this.filterBank.emptyBands;
  }

  /** Number of frames this plan produces for `length` samples. */
  frameCount(length: number): number {
    const { nFft, hopLength, center } = this.options;
    const padded = center ? length + 2 * Math.floor(nFft / 2) : length;
    if (padded < nFft) return 0;
    return 1 + Math.floor((padded - nFft) / hopLength);
  }

  run(samples: ArrayLike<number>, out?: Float32Array): MelSpectrogram {
    const o = this.options;
    const n = samples.length;
    if (!o.center && n < o.nFft) {
      throw new TosiaError('E_INPUT', `signal of ${n} samples is shorter than nFft=${o.nFft} with center=false`, {
        stage: 'mel',
        hint: 'use center=true or a smaller n_fft',
      });
    }
    if (o.center && o.padMode === 'reflect' && n < 2 && n !== 0) {
      // numpy cannot reflect-pad a single sample either; treat it like librosa's error.
      throw new TosiaError('E_INPUT', `cannot reflect-pad a signal of ${n} sample`, { stage: 'mel' });
    }
    const nFrames = this.frameCount(n);
    const { nMels } = this.filterBank;
    const data = out ?? new Float32Array(nMels * nFrames);
    if (data.length < nMels * nFrames) throw new RangeError(`output buffer holds ${data.length}, needs ${nMels * nFrames}`);
    const nFft = o.nFft;
    const pad = o.center ? Math.floor(nFft / 2) : 0;
    const reflect = o.padMode === 'reflect';
    if (this.odd) return this.runOdd(samples, data, nFrames);
    const kernel = this.kernel!;
    const frame = kernel.input, win = this.window, spec = this.spec;
    const power = o.power;
    // The periodic Hann window over the whole FFT is applied in the frequency domain, so an
    // interior frame is a plain copy (memcpy when the input is a typed array).
    const hann = o.window === 'hann' && o.winLength === nFft;
    const typed = ArrayBuffer.isView(samples) ? (samples as unknown as Float32Array) : null;
    const byBin = this.filterBank.byBin;
    const acc = this.acc;
    const half = nFft >> 1;
    for (let t = 0; t < nFrames; t++) {
      const origin = t * o.hopLength - pad;
      const interior = origin >= 0 && origin + nFft <= n;
      if (hann) {
        if (interior && typed) frame.set(typed.subarray(origin, origin + nFft));
        else for (let i = 0; i < nFft; i++) frame[i] = this.sampleAt(samples, origin + i, n, reflect);
      } else if (interior) {
        for (let i = 0; i < nFft; i++) frame[i] = samples[origin + i]! * win[i]!;
      } else {
        for (let i = 0; i < nFft; i++) frame[i] = this.sampleAt(samples, origin + i, n, reflect) * win[i]!;
      }
      kernel.transform();
      const x = kernel.spectrum, xo = kernel.spectrumOffset;
      if (byBin && hann && power === 2) {
        // The hot path: Hann taps, power and both filter weights in one pass over the bins.
        // Band indices never decrease with frequency, so the two running sums stay in locals
        // and are flushed to acc only when the band changes.
        const { band, w0, w1 } = byBin;
        acc.fill(0);
        const xh = x[xo + 1]!;
        let pr = x[xo]!, pi = 0, cr = x[xo + 2]!, ci = x[xo + 3]!;
        let r = 0.5 * pr - 0.5 * cr;
        let p = r * r;
        let cur = band[0]!, s0 = 0, s1 = 0;
        if (cur >= 0) { s0 = w0[0]! * p; s1 = w1[0]! * p; }
        const lastK = half - 1;
        for (let k = 1; k < lastK; k++) {
          const j = xo + 2 * k + 2;
          const nr = x[j]!, ni = x[j + 1]!;
          r = 0.5 * cr - 0.25 * (pr + nr);
          const i = 0.5 * ci - 0.25 * (pi + ni);
          pr = cr; pi = ci; cr = nr; ci = ni;
          const bk = band[k]!;
          if (bk !== cur) {
            if (cur >= 0) { acc[cur] = acc[cur]! + s0; acc[cur + 1] = acc[cur + 1]! + s1; }
            cur = bk; s0 = 0; s1 = 0;
          }
          p = r * r + i * i;
          s0 += w0[k]! * p;
          s1 += w1[k]! * p;
        }
        if (cur >= 0) { acc[cur] = acc[cur]! + s0; acc[cur + 1] = acc[cur + 1]! + s1; }
        // the last two bins: k = n/2 - 1 (its upper neighbour is the real Nyquist bin) and k = n/2
        if (half >= 2) {
          const k = lastK;
          r = 0.5 * cr - 0.25 * (pr + xh);
          const i = 0.5 * ci - 0.25 * pi;
          const bk = band[k]!;
          if (bk >= 0) { p = r * r + i * i; acc[bk] = acc[bk]! + w0[k]! * p; acc[bk + 1] = acc[bk + 1]! + w1[k]! * p; }
          pr = cr;
        }
        r = 0.5 * xh - 0.5 * pr;
        p = r * r;
        const bh = band[half]!;
        if (bh >= 0) { acc[bh] = acc[bh]! + w0[half]! * p; acc[bh + 1] = acc[bh + 1]! + w1[half]! * p; }
        for (let m = 0; m < nMels; m++) data[m * nFrames + t] = acc[m]!;
        continue;
      }
      powerFromOrdered(x, xo, nFft, hann, power, spec);
      this.applyFilters(spec, data, t, nFrames);
    }
    return { data, nMels, nFrames };
  }
}

/**
 * Mel spectrogram with librosa 0.11 semantics (librosa.feature.melspectrogram).
 * For repeated calls with the same options, build a `MelPlan` once and call `run`.
 */
export function melSpectrogram(samples: ArrayLike<number>, options: Partial<MelOptions> = {}, fft?: RealFftFactory): MelSpectrogram {
  return new MelPlan(options, fft).run(samples);
}
