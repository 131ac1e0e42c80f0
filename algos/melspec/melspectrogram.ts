import { TosiaError } from '../errors.js';
import { makeKernel, type RealFftFactory, type RealFftKernel } from '../fft/kernel.js';
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
  private readonly kernel: RealFftKernel;
  private readonly window: Float64Array;
  private readonly spec: Float64Array;

  /**
   * @param options librosa's options in camelCase.
   * @param fft a factory for a faster FFT kernel (the runtime passes a WASM one); the pure
   *   TypeScript FFT is used when it is absent or declines the size.
   */
  constructor(options: Partial<MelOptions> = {}, fft?: RealFftFactory) {
    this.options = resolveMelOptions(options);
    const o = this.options;
    this.filterBank = buildFilterBank(o);
    this.kernel = makeKernel(o.nFft, fft);
    this.window = hannWindow(o.winLength, o.nFft);
    this.spec = new Float64Array((o.nFft >> 1) + 1);
  }

  /** The FFT implementation this plan runs. */
  get fftName(): string {
    return this.kernel.name;
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
    const { nMels, nBins, start, end, weights } = this.filterBank;
    const data = out ?? new Float32Array(nMels * nFrames);
    if (data.length < nMels * nFrames) throw new RangeError(`output buffer holds ${data.length}, needs ${nMels * nFrames}`);
    const nFft = o.nFft;
    const pad = o.center ? Math.floor(nFft / 2) : 0;
    const reflect = o.padMode === 'reflect';
    const frame = this.kernel.input, win = this.window, spec = this.spec;
    const power = o.power;
    for (let t = 0; t < nFrames; t++) {
      const origin = t * o.hopLength - pad;
      if (origin >= 0 && origin + nFft <= n) {
        for (let i = 0; i < nFft; i++) frame[i] = samples[origin + i]! * win[i]!;
      } else {
        for (let i = 0; i < nFft; i++) {
          const j = origin + i;
          let v: number;
          if (j >= 0 && j < n) v = samples[j]!;
          else if (reflect && n > 0) v = samples[reflectIndex(j, n)]!;
          else v = 0;
          frame[i] = v * win[i]!;
        }
      }
      this.kernel.powerSpectrum(spec);
      if (power === 1) for (let k = 0; k < nBins; k++) spec[k] = Math.sqrt(spec[k]!);
      else if (power !== 2) for (let k = 0; k < nBins; k++) spec[k] = Math.pow(spec[k]!, power / 2);
      for (let m = 0; m < nMels; m++) {
        let acc = 0;
        const row = m * nBins;
        for (let k = start[m]!, e = end[m]!; k < e; k++) acc += weights[row + k]! * spec[k]!;
        data[m * nFrames + t] = acc;
      }
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
