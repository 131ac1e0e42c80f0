import { describe, expect, it } from 'vitest';
import { segmentCoughs, matchEvents } from '../../algos/index.js';
import { synthesize } from '../../samples/generator/synth.js';

const sr = 16000;

function burst(x: Float32Array, start: number, dur: number, amp: number, seed = 1): void {
  let s = seed;
  for (let i = Math.round(start * sr); i < Math.round((start + dur) * sr); i++) {
    s = (s * 16807) % 2147483647;
    x[i] = amp * (s / 2147483647 - 0.5) * Math.exp(-(i / sr - start) / (dur / 3));
  }
}

describe('segmentCoughs on closed forms', () => {
  it('silence gives no segment', () => {
    expect(segmentCoughs(new Float32Array(sr * 2), sr).segments).toEqual([]);
  });

  it('a DC offset only gives no segment', () => {
    expect(segmentCoughs(new Float32Array(sr * 2).fill(0.3), sr).segments).toEqual([]);
  });

  it('an empty signal gives no segment', () => {
    expect(segmentCoughs(new Float32Array(0), sr).segments).toEqual([]);
  });

  it('one noise burst in silence gives one padded segment around it, with its peak inside', () => {
    const x = new Float32Array(sr * 2);
    burst(x, 0.8, 0.25, 0.8);
    const { segments } = segmentCoughs(x, sr, { padding: 0.05 });
    expect(segments).toHaveLength(1);
    const s = segments[0]!;
    expect(s.start).toBeGreaterThan(0.7);
    expect(s.start).toBeLessThan(0.8);
    expect(s.end).toBeGreaterThan(0.9);
    expect(s.end).toBeLessThan(1.15);
    expect(s.peak).toBeGreaterThanOrEqual(s.start);
    expect(s.peak).toBeLessThanOrEqual(s.end);
    expect(s.features.duration).toBeCloseTo(s.end - s.start, 3);
    expect(s.features.rms).toBeGreaterThan(0);
    expect(s.features.spectralFlatness).toBeGreaterThan(0.3); // noise is flat
  });

  it('a burst shorter than min_length is dropped', () => {
    const x = new Float32Array(sr);
    burst(x, 0.5, 0.01, 0.9);
    expect(segmentCoughs(x, sr, { minLength: 0.08, smoothing: 0 }).segments).toEqual([]);
  });

  it('a sound longer than max_length is split at its deepest dip', () => {
    const x = new Float32Array(sr * 3);
    burst(x, 0.5, 0.6, 0.8, 3);
    // a shallow dip (not below the low threshold) then a second burst: one comparator segment
    for (let i = Math.round(1.1 * sr); i < Math.round(1.16 * sr); i++) x[i] = 0.01 * Math.sin(i);
    burst(x, 1.16, 0.6, 0.8, 5);
    const { segments } = segmentCoughs(x, sr, { maxLength: 0.9, hangover: 0.2, lowDb: 3, highDb: 12 });
    expect(segments.length).toBeGreaterThanOrEqual(2);
    for (const s of segments) expect(s.end - s.start).toBeLessThanOrEqual(0.9 + 2 * 0.05 + 1e-9);
  });

  it('names the offending option', () => {
    expect(() => segmentCoughs(new Float32Array(10), sr, { highDb: 3, lowDb: 6 })).toThrow(/highDb=3 must be > lowDb/);
  });
});

describe('segmentCoughs on synthetic recordings with known cough times', () => {
  const cases = [
    { seed: 11, sampleRate: 16000, coughs: 3, boutGap: null, background: 'white', snrDb: 25 },
    { seed: 12, sampleRate: 8000, coughs: 4, boutGap: 0.12, background: 'pink', snrDb: 20 },
    { seed: 13, sampleRate: 48000, coughs: 2, boutGap: null, background: 'pink', snrDb: 30 },
    { seed: 14, sampleRate: 16000, coughs: 5, boutGap: 0.1, background: 'white', snrDb: 20 },
  ] as const;
  it.each(cases)('seed $seed: $coughs coughs, gap $boutGap, $background at $snrDb dB', (c) => {
    const rec = synthesize({ ...c, duration: 4, voiced: false });
    const { segments } = segmentCoughs(rec.samples, c.sampleRate);
    const m = matchEvents(rec.truth, segments, { onsetTolerance: 0.1, minOverlap: 0.5 });
    expect(m.truePositives).toBe(c.coughs);
    expect(m.falsePositives).toBe(0);
  });
});

describe('percentile (selection, not a sort)', () => {
  it('equals the sort-based numpy-style percentile exactly, ties and NaN included', async () => {
    const { percentile } = await import('../../algos/segment/envelope.js');
    const ref = (v: number[], p: number) => {
      const s = Float64Array.from(v).sort();
      const pos = (p / 100) * (s.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
      return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
    };
    let seed = 5;
    const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    for (let t = 0; t < 3000; t++) {
      const n = 1 + Math.floor(rand() * 200);
      const v = Array.from({ length: n }, () => (rand() < 0.3 ? Math.round(rand() * 5) : rand() * 100 - 50));
      if (t % 17 === 0) v[0] = NaN;
      if (t % 41 === 0) v.fill(NaN, n >> 1);
      const p = [0, 10, 20, 50, 90, 100, rand() * 100][t % 7]!;
      expect(Object.is(percentile(v, p), ref(v, p)) || percentile(v, p) === ref(v, p)).toBe(true);
    }
    expect(percentile([], 50)).toBeNaN();
  });
});
