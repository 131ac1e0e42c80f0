import { describe, expect, it } from 'vitest';
import { aggregate, imagesToTensor, sigmoid, softmax } from '../../algos/index.js';

const labels = ['neg', 'pos'];
// three segments: p(pos) = 0.2, 0.9, 0.6
const probs = Float32Array.from([0.8, 0.2, 0.1, 0.9, 0.4, 0.6]);
const base = { positiveLabel: 'pos', threshold: 0.5, topK: 2 };

describe('aggregate', () => {
  it('mean', () => {
    const d = aggregate(probs, labels, { ...base, method: 'mean' });
    expect(d.score).toBeCloseTo((0.2 + 0.9 + 0.6) / 3, 6);
    expect(d.label).toBe('pos');
    expect(d.n_segments).toBe(3);
  });
  it('max', () => expect(aggregate(probs, labels, { ...base, method: 'max' }).score).toBeCloseTo(0.9, 6));
  it('vote: fraction of segments whose argmax is the label', () => {
    const d = aggregate(probs, labels, { ...base, method: 'vote' });
    expect(d.score).toBeCloseTo(2 / 3, 6);
    expect(d.probabilities.neg).toBeCloseTo(1 / 3, 6);
  });
  it('topk_mean averages the k highest per label', () => {
    expect(aggregate(probs, labels, { ...base, method: 'topk_mean' }).score).toBeCloseTo((0.9 + 0.6) / 2, 6);
  });
  it('the threshold decides the label', () => {
    expect(aggregate(probs, labels, { ...base, method: 'mean', threshold: 0.6 }).label).toBe('neg');
    expect(aggregate(probs, labels, { ...base, method: 'mean', threshold: 0.56 }).label).toBe('pos');
  });
  it('rejects a positive label the model does not have', () => {
    expect(() => aggregate(probs, labels, { ...base, method: 'mean', positiveLabel: 'covid' })).toThrow(/positive label 'covid'/);
  });
});

describe('activations', () => {
  it('softmax rows sum to 1 and survive large logits', () => {
    const p = softmax(Float32Array.from([1000, 1001, -5, 5]), 2);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 6);
    expect(p[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
    expect(p[3]).toBeCloseTo(1 / (1 + Math.exp(-10)), 6);
  });
  it('sigmoid is symmetric and stable', () => {
    const s = sigmoid(Float32Array.from([0, 50, -50]));
    expect(s[0]).toBe(0.5);
    expect(s[1]).toBeCloseTo(1, 6);
    expect(s[2]).toBeCloseTo(0, 6);
  });
});

describe('imagesToTensor', () => {
  const img = { width: 2, height: 1, data: Uint8Array.from([255, 0, 51, 0, 255, 102]) };
  it('NCHW puts each channel in its own plane, normalised', () => {
    const t = imagesToTensor([img, img], { layout: 'NCHW', normalisation: { scale: 255, mean: [0, 0, 0], std: [1, 1, 1] } });
    expect(t.dims).toEqual([2, 3, 1, 2]);
    expect(Array.from(t.data.subarray(0, 6)).map((v) => +v.toFixed(3))).toEqual([1, 0, 0, 1, 0.2, 0.4]);
  });
  it('NHWC keeps pixels interleaved; mean and std apply per channel', () => {
    const t = imagesToTensor([img], { layout: 'NHWC', normalisation: { scale: 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } });
    expect(t.dims).toEqual([1, 1, 2, 3]);
    expect(Array.from(t.data).map((v) => +v.toFixed(3))).toEqual([1, -1, -0.6, -1, 1, -0.2]);
  });
});
