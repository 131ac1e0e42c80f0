/** A short-time energy envelope, in dBFS, one value per hop. */
export interface Envelope {
  db: Float64Array;
  /** Hop, in samples. */
  hop: number;
  /** Frame length, in samples. */
  frame: number;
}

/**
 * Frame variance (mean-removed energy, so DC offsets do not count as sound), smoothed by a
 * centred moving average of `smoothFrames` frames, as 10·log10(energy) in dBFS, floored at -120 dB.
 */
export function energyEnvelope(samples: ArrayLike<number>, frame: number, hop: number, smoothFrames: number): Envelope {
  const n = samples.length;
  const count = n < frame ? (n > 0 ? 1 : 0) : 1 + Math.floor((n - frame) / hop);
  const energy = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    const s = f * hop;
    const e = Math.min(n, s + frame);
    let sum = 0, sq = 0;
    for (let i = s; i < e; i++) { const v = samples[i]!; sum += v; sq += v * v; }
    const len = e - s;
    const mean = sum / len;
    energy[f] = Math.max(0, sq / len - mean * mean);
  }
  const half = Math.floor(smoothFrames / 2);
  const db = new Float64Array(count);
  if (half > 0) {
    // running sum for the centred moving average, shrinking at the edges
    const prefix = new Float64Array(count + 1);
    for (let f = 0; f < count; f++) prefix[f + 1] = prefix[f]! + energy[f]!;
    for (let f = 0; f < count; f++) {
      const a = Math.max(0, f - half), b = Math.min(count, f + half + 1);
      db[f] = 10 * Math.log10(Math.max(1e-12, (prefix[b]! - prefix[a]!) / (b - a)));
    }
  } else {
    for (let f = 0; f < count; f++) db[f] = 10 * Math.log10(Math.max(1e-12, energy[f]!));
  }
  return { db, hop, frame };
}

/** The p-th percentile (0..100) of `values`, linear interpolation as numpy's default. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
