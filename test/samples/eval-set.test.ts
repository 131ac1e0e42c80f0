import { describe, expect, it } from 'vitest';
import { evalSet } from '../../samples/generator/eval-set.js';
import { synthesize } from '../../samples/generator/synth.js';

describe('the segmentation evaluation set', () => {
  const set = evalSet(1);

  it('covers what issue 4 asks for', () => {
    const withCoughs = set.filter((s) => !s.group.coughFree);
    expect(new Set(withCoughs.map((s) => s.boutSize))).toEqual(new Set([2, 3, 4, 5, 6]));
    for (const s of withCoughs) {
      expect(s.boutGap!).toBeGreaterThanOrEqual(0.05);
      expect(s.boutGap!).toBeLessThanOrEqual(0.15);
    }
    expect(new Set(withCoughs.map((s) => s.snrDb))).toEqual(new Set([0, 5, 10, 15, 20, 25, 30]));
    expect(new Set(set.map((s) => s.group.distractor))).toEqual(new Set(['none', 'babble', 'clicks', 'bangs', 'hum']));
    expect(new Set(set.map((s) => s.group.level))).toEqual(new Set(['normal', 'quiet', 'clipped']));
    expect(new Set(set.map((s) => `${s.group.band}@${s.sampleRate}`))).toEqual(new Set(['full@16000', 'telephone@8000']));
    expect(set.filter((s) => s.group.coughFree).map((s) => s.name.split('_')[2])).toEqual(expect.arrayContaining(['babble', 'hum', 'silence']));
  });

  it('is deterministic and its truth lies inside the recording', () => {
    for (const s of set.slice(0, 6)) {
      const a = synthesize(s), b = synthesize(s);
      expect(Buffer.from(a.samples.buffer).equals(Buffer.from(b.samples.buffer))).toBe(true);
      expect(a.truth).toHaveLength(s.coughs);
      for (const t of a.truth) expect(t.end).toBeLessThanOrEqual(s.duration);
    }
  });

  it('quiet peaks at -45 dBFS and clipped reaches full scale', () => {
    const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(20 * Math.log10(peak(synthesize(set.find((s) => s.group.level === 'quiet')!).samples))).toBeCloseTo(-45, 1);
    const clipped = synthesize(set.find((s) => s.group.level === 'clipped')!).samples;
    expect(clipped.filter((v) => Math.abs(v) === 1).length).toBeGreaterThan(10);
  });
});
