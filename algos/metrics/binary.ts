/**
 * Binary classification measures over scores (higher: more likely positive) and truths
 * (1 positive, 0 negative), as a clinical evaluation reports them. Each matches scikit-learn's
 * definition: roc_auc_score (ties count one half), average_precision_score (the PR AUC as a
 * step sum, no interpolation), and the confusion counts of `score >= threshold`.
 */
import { mulberry32 } from '../random.js';

export interface Counts { tp: number; fp: number; tn: number; fn: number }

export interface OperatingPoint {
  threshold: number;
  sensitivity: number;
  specificity: number;
  /** Positive predictive value; NaN when nothing is called positive. */
  ppv: number;
  /** Negative predictive value; NaN when nothing is called negative. */
  npv: number;
}

function check(scores: ArrayLike<number>, truth: ArrayLike<number>): void {
  if (scores.length !== truth.length) throw new RangeError(`${scores.length} scores for ${truth.length} truths`);
}

/** Indexes sorted by score, highest first. */
function byScoreDesc(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
}

/** ROC AUC: the probability that a random positive scores above a random negative (ties ½); NaN without both classes. */
export function rocAuc(scores: ArrayLike<number>, truth: ArrayLike<number>): number {
  check(scores, truth);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // mid-ranks over ties (Mann–Whitney U)
  let rankSumPos = 0, pos = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (truth[order[k]!] === 1) { rankSumPos += rank; pos++; }
    i = j + 1;
  }
  const neg = order.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Average precision (scikit-learn's PR AUC): Σ (Rₙ − Rₙ₋₁) Pₙ over distinct thresholds; NaN without positives. */
export function averagePrecision(scores: ArrayLike<number>, truth: ArrayLike<number>): number {
  check(scores, truth);
  const order = byScoreDesc(scores);
  let pos = 0;
  for (let i = 0; i < truth.length; i++) pos += truth[i] === 1 ? 1 : 0;
  if (pos === 0) return NaN;
  let tp = 0, fp = 0, ap = 0, lastRecall = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) {
      if (truth[order[j]!] === 1) tp++; else fp++;
      j++;
    }
    const recall = tp / pos;
    ap += (recall - lastRecall) * (tp / (tp + fp));
    lastRecall = recall;
    i = j;
  }
  return ap;
}

/** The ROC curve: false and true positive rates at each distinct threshold, from (0, 0) to (1, 1). */
export function rocCurve(scores: ArrayLike<number>, truth: ArrayLike<number>): { fpr: number[]; tpr: number[]; thresholds: number[] } {
  check(scores, truth);
  const order = byScoreDesc(scores);
  let P = 0;
  for (let i = 0; i < truth.length; i++) P += truth[i] === 1 ? 1 : 0;
  const N = truth.length - P;
  const fpr = [0], tpr = [0], thresholds = [Infinity];
  let tp = 0, fp = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) {
      if (truth[order[j]!] === 1) tp++; else fp++;
      j++;
    }
    fpr.push(N ? fp / N : NaN);
    tpr.push(P ? tp / P : NaN);
    thresholds.push(scores[order[i]!]!);
    i = j;
  }
  return { fpr, tpr, thresholds };
}

/** The precision–recall curve at each distinct threshold, highest threshold first. */
export function prCurve(scores: ArrayLike<number>, truth: ArrayLike<number>): { precision: number[]; recall: number[]; thresholds: number[] } {
  const { fpr, tpr, thresholds } = rocCurve(scores, truth);
  let P = 0;
  for (let i = 0; i < truth.length; i++) P += truth[i] === 1 ? 1 : 0;
  const N = truth.length - P;
  const precision: number[] = [], recall: number[] = [], ts: number[] = [];
  for (let k = 1; k < thresholds.length; k++) {
    const tp = tpr[k]! * P, fp = fpr[k]! * N;
    precision.push(tp + fp > 0 ? tp / (tp + fp) : 1);
    recall.push(tpr[k]!);
    ts.push(thresholds[k]!);
  }
  return { precision, recall, thresholds: ts };
}

export function countsAt(scores: ArrayLike<number>, truth: ArrayLike<number>, threshold: number): Counts {
  check(scores, truth);
  const c: Counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const called = scores[i]! >= threshold;
    if (truth[i] === 1) { if (called) c.tp++; else c.fn++; } else if (called) c.fp++; else c.tn++;
  }
  return c;
}

export function operatingPoint(scores: ArrayLike<number>, truth: ArrayLike<number>, threshold: number): OperatingPoint {
  const { tp, fp, tn, fn } = countsAt(scores, truth, threshold);
  return { threshold, sensitivity: tp / (tp + fn), specificity: tn / (tn + fp), ppv: tp / (tp + fp), npv: tn / (tn + fn) };
}

/** The highest threshold whose sensitivity reaches `target` (the most specific such operating point). */
export function thresholdForSensitivity(scores: ArrayLike<number>, truth: ArrayLike<number>, target: number): number {
  const { tpr, thresholds } = rocCurve(scores, truth);
  for (let k = 1; k < thresholds.length; k++) if (tpr[k]! >= target - 1e-12) return thresholds[k]!;
  return thresholds.at(-1) ?? NaN;
}

/** PPV and NPV at another prevalence than the sample's, from sensitivity and specificity (Bayes). */
export function atPrevalence(sensitivity: number, specificity: number, prevalence: number): { ppv: number; npv: number } {
  const tp = sensitivity * prevalence, fp = (1 - specificity) * (1 - prevalence);
  const tn = specificity * (1 - prevalence), fn = (1 - sensitivity) * prevalence;
  return { ppv: tp / (tp + fp), npv: tn / (tn + fn) };
}

export interface CalibrationBin { lo: number; hi: number; n: number; mean_score: number | null; positive_rate: number | null }

/** Reliability in `bins` equal-width bins of [0, 1], and the expected calibration error (Σ nₖ/n |accₖ − confₖ|). */
export function calibration(scores: ArrayLike<number>, truth: ArrayLike<number>, bins = 10): { ece: number; bins: CalibrationBin[] } {
  check(scores, truth);
  const sum = new Float64Array(bins), pos = new Float64Array(bins), n = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(scores[i]! * bins)));
    n[b]!++;
    sum[b]! += scores[i]!;
    pos[b]! += truth[i] === 1 ? 1 : 0;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const meanScore = n[b] ? sum[b]! / n[b]! : null, rate = n[b] ? pos[b]! / n[b]! : null;
    if (n[b]) ece += (n[b]! / scores.length) * Math.abs(rate! - meanScore!);
    out.push({ lo: b / bins, hi: (b + 1) / bins, n: n[b]!, mean_score: meanScore, positive_rate: rate });
  }
  return { ece, bins: out };
}

/**
 * A stratified bootstrap: `resamples` times, positives and negatives are each drawn with
 * replacement to their own count, and `measure` is taken on the resample. Returns the 2.5th and
 * 97.5th percentiles of the finite values (null when fewer than half are finite).
 */
export function bootstrapInterval(
  truth: ArrayLike<number>, measure: (index: Int32Array) => number, o: { resamples: number; seed: number },
): [number, number] | null {
  const posIdx: number[] = [], negIdx: number[] = [];
  for (let i = 0; i < truth.length; i++) (truth[i] === 1 ? posIdx : negIdx).push(i);
  // the same seed gives the same bootstrap
  const rnd = mulberry32(o.seed);
  const values: number[] = [];
  const index = new Int32Array(truth.length);
  for (let r = 0; r < o.resamples; r++) {
    let w = 0;
    for (let k = 0; k < posIdx.length; k++) index[w++] = posIdx[Math.floor(rnd() * posIdx.length)]!;
    for (let k = 0; k < negIdx.length; k++) index[w++] = negIdx[Math.floor(rnd() * negIdx.length)]!;
    const v = measure(index);
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length < o.resamples / 2) return null;
  values.sort((a, b) => a - b);
  const q = (p: number) => {
    const x = p * (values.length - 1), lo = Math.floor(x), hi = Math.ceil(x);
    return values[lo]! + (values[hi]! - values[lo]!) * (x - lo);
  };
  return [q(0.025), q(0.975)];
}

/** `xs` picked at `index`. */
export function take(xs: ArrayLike<number>, index: Int32Array): Float64Array {
  const out = new Float64Array(index.length);
  for (let i = 0; i < index.length; i++) out[i] = xs[index[i]!]!;
  return out;
}

/** The ROC curve's true positive rate at each false positive rate of `grid` (linear between the curve's points). */
export function tprAt(scores: ArrayLike<number>, truth: ArrayLike<number>, grid: readonly number[]): Float64Array {
  const { fpr, tpr } = rocCurve(scores, truth);
  const out = new Float64Array(grid.length);
  let k = 0;
  for (const [g, x] of grid.entries()) {
    while (k + 1 < fpr.length && fpr[k + 1]! < x) k++;
    // the highest TPR reached at exactly this FPR, else the line towards the next point
    let j = k;
    while (j + 1 < fpr.length && fpr[j + 1]! <= x) j++;
    if (fpr[j]! >= x || j + 1 >= fpr.length) out[g] = tpr[j]!;
    else out[g] = tpr[j]! + ((tpr[j + 1]! - tpr[j]!) * (x - fpr[j]!)) / (fpr[j + 1]! - fpr[j]!);
  }
  return out;
}

/** Interpolated precision at each recall of `grid`: the best precision at that recall or beyond. */
export function precisionAt(scores: ArrayLike<number>, truth: ArrayLike<number>, grid: readonly number[]): Float64Array {
  const { precision, recall } = prCurve(scores, truth);
  return Float64Array.from(grid, (r) => {
    let best = NaN;
    for (let k = 0; k < recall.length; k++) if (recall[k]! >= r - 1e-12 && !(precision[k]! <= best)) best = precision[k]!;
    return best;
  });
}

/**
 * A band around a curve: the stratified bootstrap of `curve` (values on a fixed grid), and the
 * 2.5th and 97.5th percentiles at each grid point.
 */
export function bootstrapBand(truth: ArrayLike<number>, curve: (index: Int32Array) => Float64Array, o: { resamples: number; seed: number }): { lo: Float64Array; hi: Float64Array } {
  const runs: Float64Array[] = [];
  bootstrapInterval(truth, (idx) => {
    runs.push(curve(idx));
    return 0;
  }, o);
  const width = runs[0]?.length ?? 0;
  const lo = new Float64Array(width), hi = new Float64Array(width);
  const col: number[] = [];
  for (let g = 0; g < width; g++) {
    col.length = 0;
    for (const r of runs) if (Number.isFinite(r[g]!)) col.push(r[g]!);
    col.sort((a, b) => a - b);
    const q = (p: number) => (col.length ? col[Math.round(p * (col.length - 1))]! : NaN);
    lo[g] = q(0.025);
    hi[g] = q(0.975);
  }
  return { lo, hi };
}

/** Wilson's 95 % interval of a proportion k/n. */
export function wilson(k: number, n: number): [number, number] | null {
  if (n === 0) return null;
  const z = 1.959963984540054, p = k / n, d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d, h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}
