import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atPrevalence, averagePrecision, bootstrapInterval, calibration, operatingPoint, rocAuc, rocCurve, take, thresholdForSensitivity } from '../../algos/metrics/binary.js';

// Issue 26: the recording-level measures agree with an independent computation: scikit-learn's
// roc_auc_score, average_precision_score and roc_curve on fixed vectors, computed once by
// test/algos/data/make-sklearn-binary.py and stored beside it.
const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'data/sklearn-binary.json'), 'utf8')) as {
  cases: { name: string; truth: number[]; scores: number[]; roc_auc: number; average_precision: number; roc_fpr: number[]; roc_tpr: number[] }[];
};

describe('binary measures against scikit-learn', () => {
  it.each(ref.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(rocAuc(c.scores, c.truth)).toBeCloseTo(c.roc_auc, 12);
    expect(averagePrecision(c.scores, c.truth)).toBeCloseTo(c.average_precision, 12);
    const roc = rocCurve(c.scores, c.truth);
    expect(roc.fpr.length).toBe(c.roc_fpr.length);
    roc.fpr.forEach((x, i) => expect(x).toBeCloseTo(c.roc_fpr[i]!, 12));
    roc.tpr.forEach((x, i) => expect(x).toBeCloseTo(c.roc_tpr[i]!, 12));
  });

  it('without both classes there is no AUC (NaN), and no AP without a positive', () => {
    expect(rocAuc([0.1, 0.9], [1, 1])).toBeNaN();
    expect(averagePrecision([0.1, 0.9], [0, 0])).toBeNaN();
  });
});

describe('operating points, prevalence, calibration, bootstrap', () => {
  const scores = [0.1, 0.2, 0.35, 0.4, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95];
  const truth = [0, 0, 1, 0, 0, 1, 1, 0, 1, 1];

  it('the confusion at a threshold counts score >= threshold as positive', () => {
    expect(operatingPoint(scores, truth, 0.6)).toEqual({ threshold: 0.6, sensitivity: 4 / 5, specificity: 4 / 5, ppv: 4 / 5, npv: 4 / 5 });
  });

  it('the threshold for a target sensitivity is the most specific one reaching it', () => {
    const t = thresholdForSensitivity(scores, truth, 1);
    expect(t).toBe(0.35);
    expect(operatingPoint(scores, truth, t).sensitivity).toBe(1);
    expect(thresholdForSensitivity(scores, truth, 0.6)).toBe(0.7);
  });

  it("PPV and NPV at another prevalence follow Bayes' rule", () => {
    const { ppv, npv } = atPrevalence(0.9, 0.8, 0.1);
    expect(ppv).toBeCloseTo((0.9 * 0.1) / (0.9 * 0.1 + 0.2 * 0.9), 12);
    expect(npv).toBeCloseTo((0.8 * 0.9) / (0.8 * 0.9 + 0.1 * 0.1), 12);
  });

  it('calibration: a perfectly calibrated bin has no error; ECE weighs bins by their size', () => {
    const c = calibration([0.05, 0.05, 0.95, 0.95, 0.55, 0.55], [0, 0, 1, 1, 1, 0]);
    expect(c.bins).toHaveLength(10);
    expect(c.bins[5]).toMatchObject({ n: 2, positive_rate: 0.5 });
    expect(c.ece).toBeCloseTo((2 / 6) * 0.05 + (2 / 6) * 0.05 + (2 / 6) * 0.05, 12);
  });

  it('the stratified bootstrap is seeded (the same seed, the same interval), keeps each class count, and covers the estimate', () => {
    const counts: number[] = [];
    const f = (idx: Int32Array) => {
      counts.push(Array.from(idx).filter((i) => truth[i] === 1).length);
      return rocAuc(take(scores, idx), take(truth, idx));
    };
    const a = bootstrapInterval(truth, f, { resamples: 1000, seed: 7 });
    const b = bootstrapInterval(truth, f, { resamples: 1000, seed: 7 });
    const c = bootstrapInterval(truth, f, { resamples: 1000, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(counts)).toEqual(new Set([5]));
    const auc = rocAuc(scores, truth);
    expect(a![0]).toBeLessThanOrEqual(auc);
    expect(a![1]).toBeGreaterThanOrEqual(auc);
  });
});
