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
  let refValue: number;
  if (o.ref === 'max') {
    refValue = 0;
    for (let i = 0; i < data.length; i++) if (data[i]! > refValue) refValue = data[i]!;
  } else {
    refValue = Math.abs(o.ref);
  }
  // librosa squares amplitude inputs first (amin and ref too); scaling by `factor` is the same maths.
  const offset = factor * Math.log10(Math.max(o.amin, refValue));
  let peak = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = factor * Math.log10(Math.max(o.amin, data[i]!)) - offset;
    out[i] = v;
    if (v > peak) peak = v;
  }
  if (o.topDb !== null) {
    const floor = peak - o.topDb;
    for (let i = 0; i < out.length; i++) if (out[i]! < floor) out[i] = floor;
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
