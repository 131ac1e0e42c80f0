/** Event-based matching of found segments to true events, as in the cough-detection literature. */
export interface TimeSpan { start: number; end: number }

export interface MatchOptions {
  /** A prediction matches when onsets are within this many seconds (>= 0). Default 0.25. */
  onsetTolerance: number;
  /** ...or when the overlap is at least this fraction of the shorter event, 0..1. Default 0.5. */
  minOverlap: number;
}

export const MATCH_DEFAULTS: Readonly<MatchOptions> = Object.freeze({ onsetTolerance: 0.25, minOverlap: 0.5 });

export interface MatchResult {
  /** pairs[i] = [truthIndex, predIndex] */
  pairs: [number, number][];
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  f1: number;
}

function overlapFraction(a: TimeSpan, b: TimeSpan): number {
  const inter = Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
  const shorter = Math.min(a.end - a.start, b.end - b.start);
  return shorter > 0 ? inter / shorter : 0;
}

/**
 * Greedy one-to-one matching: candidate pairs are ranked by overlap, then onset distance, and
 * each truth and each prediction is used at most once. With no predictions precision is 1, with
 * no truth recall is 1 (so both empty scores f1 = 1, and either side alone scores f1 = 0).
 */
export function matchEvents(truth: readonly TimeSpan[], pred: readonly TimeSpan[], options: Partial<MatchOptions> = {}): MatchResult {
  const o = { ...MATCH_DEFAULTS, ...options };
  const cands: { t: number; p: number; ov: number; d: number }[] = [];
  truth.forEach((t, ti) => pred.forEach((p, pi) => {
    const ov = overlapFraction(t, p);
    const d = Math.abs(t.start - p.start);
    if (d <= o.onsetTolerance || ov >= o.minOverlap) cands.push({ t: ti, p: pi, ov, d });
  }));
  cands.sort((x, y) => y.ov - x.ov || x.d - y.d);
  const usedT = new Set<number>(), usedP = new Set<number>();
  const pairs: [number, number][] = [];
  for (const c of cands) {
    if (usedT.has(c.t) || usedP.has(c.p)) continue;
    usedT.add(c.t); usedP.add(c.p); pairs.push([c.t, c.p]);
  }
  const tp = pairs.length, fp = pred.length - tp, fn = truth.length - tp;
  // vacuous cases: nothing predicted is perfectly precise, nothing to find is perfectly recalled
  const precision = pred.length === 0 ? 1 : tp / pred.length;
  const recall = truth.length === 0 ? 1 : tp / truth.length;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  pairs.sort((a, b) => a[0] - b[0]);
  return { pairs, truePositives: tp, falsePositives: fp, falseNegatives: fn, precision, recall, f1 };
}
