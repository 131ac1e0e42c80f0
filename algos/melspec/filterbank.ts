import { TosiaError } from '../errors.js';
import { melFrequencies } from './mel-scale.js';
import { MEL_DEFAULTS, type FilterBankOptions } from './options.js';

/** A mel filter bank stored densely and, for the hot path, as one non-zero run per band. */
export interface FilterBank {
  /** Dense weights, shape nMels × (1 + nFft/2), row-major (librosa.filters.mel). */
  weights: Float32Array;
  nMels: number;
  nBins: number;
  /** First non-zero bin of each band. */
  start: Uint32Array;
  /** One past the last non-zero bin of each band. */
  end: Uint32Array;
  /** Indices of bands with no non-zero weight (librosa warns about these). */
  emptyBands: number[];
  /**
   * Bin-major form, when every bin feeds at most two consecutive bands (true of triangular
   * filters on consecutive mel points): bin k adds w0[k]·P to band b[k] and w1[k]·P to b[k]+1.
   * b[k] is -1 for bins in no band. null when the property does not hold.
   */
  byBin: { band: Int32Array; w0: Float64Array; w1: Float64Array } | null;
}

function binMajor(weights: Float32Array, nMels: number, nBins: number): FilterBank['byBin'] {
  const band = new Int32Array(nBins).fill(-1);
  const w0 = new Float64Array(nBins);
  const w1 = new Float64Array(nBins);
  for (let k = 0; k < nBins; k++) {
    let first = -1, count = 0;
    for (let m = 0; m < nMels; m++) {
      const w = weights[m * nBins + k]!;
      if (w === 0) continue;
      if (first < 0) first = m;
      else if (m !== first + 1) return null;
      count++;
    }
    if (count > 2) return null;
    if (first < 0) continue;
    band[k] = first;
    w0[k] = weights[first * nBins + k]!;
    if (first + 1 < nMels) w1[k] = weights[(first + 1) * nBins + k]!;
  }
  return { band, w0, w1 };
}

export function resolveFilterBankOptions(options: Partial<FilterBankOptions> = {}): FilterBankOptions {
  const o = { ...MEL_DEFAULTS, ...options } as FilterBankOptions;
  checkFilterBankOptions(o);
  return o;
}

function checkFilterBankOptions(o: FilterBankOptions): void {
  const fail = (msg: string) => { throw new TosiaError('E_CONFIG', msg, { stage: 'mel' }); };
  if (!(o.sampleRate > 0)) fail(`sampleRate=${o.sampleRate} must be > 0`);
  if (!Number.isInteger(o.nFft) || o.nFft < 16) fail(`nFft=${o.nFft} must be an integer >= 16`);
  if (!Number.isInteger(o.nMels) || o.nMels < 1) fail(`nMels=${o.nMels} must be an integer >= 1`);
  const fmax = o.fmax ?? o.sampleRate / 2;
  if (!(o.fmin >= 0)) fail(`fmin=${o.fmin} must be >= 0`);
  if (!(fmax <= o.sampleRate / 2)) fail(`fmax=${fmax} must be <= sampleRate/2 = ${o.sampleRate / 2}`);
  if (!(fmax > o.fmin)) fail(`fmax=${fmax} must be greater than fmin=${o.fmin}`);
  if (o.norm !== null && o.norm !== 'slaney') fail(`norm=${String(o.norm)} must be 'slaney' or null`);
}

/** Build the filter bank with its sparse row ranges. Matches librosa.filters.mel. */
export function buildFilterBank(options: Partial<FilterBankOptions> = {}): FilterBank {
  const o = resolveFilterBankOptions(options);
  const { sampleRate, nFft, nMels, fmin, htk } = o;
  const fmax = o.fmax ?? sampleRate / 2;
  const nBins = 1 + Math.floor(nFft / 2);
  const melF = melFrequencies(nMels + 2, fmin, fmax, htk);
  const weights = new Float32Array(nMels * nBins);
  const start = new Uint32Array(nMels);
  const end = new Uint32Array(nMels);
  const emptyBands: number[] = [];
  for (let m = 0; m < nMels; m++) {
    const lowerF = melF[m]!, centreF = melF[m + 1]!, upperF = melF[m + 2]!;
    const dLow = centreF - lowerF;
    const dUp = upperF - centreF;
    const enorm = o.norm === 'slaney' ? 2 / (upperF - lowerF) : 1;
    let first = -1, last = -1, peak = 0;
    for (let k = 0; k < nBins; k++) {
      const f = (k * sampleRate) / nFft;
      const lower = (f - lowerF) / dLow;
      const upper = (upperF - f) / dUp;
      const w = Math.max(0, Math.min(lower, upper));
      if (w > 0) {
        const v = w * enorm;
        weights[m * nBins + k] = v;
        if (first < 0) first = k;
        last = k;
        if (v > peak) peak = v;
      }
    }
    start[m] = first < 0 ? 0 : first;
    end[m] = first < 0 ? 0 : last + 1;
    // librosa's check: a band is empty when its lower edge is not 0 Hz and all its weights are 0.
    if (!(lowerF === 0 || peak > 0)) emptyBands.push(m);
  }
  return { weights, nMels, nBins, start, end, emptyBands, byBin: binMajor(weights, nMels, nBins) };
}

/**
 * Mel filter bank, shape nMels × (1 + nFft/2), row-major; identical to librosa.filters.mel.
 * Bands left empty by too many mels for the FFT size are all zero, as in librosa.
 */
export function melFilterBank(options: Partial<FilterBankOptions> = {}): Float32Array {
  return buildFilterBank(options).weights;
}
