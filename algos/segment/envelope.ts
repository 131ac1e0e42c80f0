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
  const n = values.length;
  if (n === 0) return NaN;
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (n - 1);
  const lo = Math.floor(pos);
  // the two order statistics around pos, by selection rather than a full sort
  const work = Float64Array.from(values as ArrayLike<number>);
  const a = select(work, lo);
  if (pos === lo) return a;
  // after select, everything right of lo is >= a: the next order statistic is their minimum
  let b = work[lo + 1]!;
  for (let i = lo + 2; i < n; i++) if (lessNaNLast(work[i]!, b)) b = work[i]!;
  return a + (b - a) * (pos - lo);
}

const lessNaNLast = (x: number, y: number) => x < y || (y !== y && x === x);

/** Hoare's selection: reorders `a` so that a[k] is the k-th smallest, smaller ones left of it, larger right. NaN sorts last, as in a typed-array sort. */
function select(a: Float64Array, k: number): number {
  const less = lessNaNLast;
  let left = 0, right = a.length - 1;
  while (right > left) {
    // median of three as the pivot
    const mid = (left + right) >> 1;
    if (less(a[mid]!, a[left]!)) swap(a, mid, left);
    if (less(a[right]!, a[left]!)) swap(a, right, left);
    if (less(a[right]!, a[mid]!)) swap(a, right, mid);
    const pivot = a[mid]!;
    let i = left, j = right;
    while (i <= j) {
      while (less(a[i]!, pivot)) i++;
      while (less(pivot, a[j]!)) j--;
      if (i <= j) { swap(a, i, j); i++; j--; }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
