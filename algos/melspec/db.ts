import { TosiaError } from '../errors.js';

export interface DbOptions {
  /** Reference: 'max' scales so the loudest cell is 0 dB, or a fixed positive value. librosa: ref. Default 'max'. */
  ref: 'max' | number;
  /** Floor applied before the log (> 0). librosa: amin. Default 1e-10 (power), 1e-5 (amplitude). */
  amin: number;
  /** Dynamic range kept below the loudest cell, in dB (> 0), or null for no clipping. librosa: top_db. Default 80. */
  topDb: number | null;
}

export const POWER_DB_DEFAULTS: Readonly<DbOptions> = Object.freeze({ ref: 'max', amin: 1e-10, topDb: 80 });
export const AMPLITUDE_DB_DEFAULTS: Readonly<DbOptions> = Object.freeze({ ref: 'max', amin: 1e-5, topDb: 80 });

function toDb(data: ArrayLike<number>, o: DbOptions, factor: number, out: Float32Array): Float32Array {
  if (!(o.amin > 0)) throw new TosiaError('E_CONFIG', `amin=${o.amin} must be > 0`, { stage: 'mel' });
  if (o.topDb !== null && !(o.topDb >= 0)) throw new TosiaError('E_CONFIG', `topDb=${o.topDb} must be >= 0`, { stage: 'mel' });
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > max) max = data[i]!;
  const refValue = o.ref === 'max' ? max : Math.abs(o.ref);
  // librosa squares amplitude inputs first (amin and ref too); scaling by `factor` is the same maths.
  const offset = factor * Math.log10(Math.max(o.amin, refValue));
  if (o.topDb === null) {
    for (let i = 0; i < data.length; i++) out[i] = factor * Math.log10(Math.max(o.amin, data[i]!)) - offset;
    return out;
  }
  // the loudest cell's dB is known before the pass, so is the floor; cells clearly below it
  // (by a margin far above rounding) need no logarithm
  const floor = factor * Math.log10(Math.max(o.amin, max)) - offset - o.topDb;
  const quiet = 10 ** ((floor + offset) / factor) * (1 - 1e-6);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x < quiet) { out[i] = floor; continue; }
    const v = factor * Math.log10(Math.max(o.amin, x)) - offset;
    out[i] = v < floor ? floor : v;
  }
  return out;
}

/** Power to decibels, as librosa.power_to_db. Writes into `out` when given (may be `data`). */
export function powerToDb(data: ArrayLike<number>, options: Partial<DbOptions> = {}, out?: Float32Array): Float32Array {
  return toDb(data, { ...POWER_DB_DEFAULTS, ...options }, 10, out ?? new Float32Array(data.length));
}

/** Amplitude to decibels, as librosa.amplitude_to_db. Writes into `out` when given (may be `data`). */
export function amplitudeToDb(data: ArrayLike<number>, options: Partial<DbOptions> = {}, out?: Float32Array): Float32Array {
  return toDb(data, { ...AMPLITUDE_DB_DEFAULTS, ...options }, 20, out ?? new Float32Array(data.length));
}
