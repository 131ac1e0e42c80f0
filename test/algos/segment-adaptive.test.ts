import { describe, expect, it } from 'vitest';
import { matchEvents, Resampler, segmentCoughsAdaptive } from '../../algos/index.js';
import { evalSet } from '../../samples/generator/eval-set.js';
import { synthesize } from '../../samples/generator/synth.js';

const sr = 8000;

describe('segmentCoughsAdaptive on closed forms', () => {
  it('silence, a DC offset and steady hum give no segment', () => {
    expect(segmentCoughsAdaptive(new Float32Array(sr * 3), sr).segments).toEqual([]);
    expect(segmentCoughsAdaptive(new Float32Array(sr * 3).fill(0.3), sr).segments).toEqual([]);
    const hum = Float32Array.from({ length: sr * 3 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 50 * i) / sr) + 0.1 * Math.sin((2 * Math.PI * 150 * i) / sr));
    expect(segmentCoughsAdaptive(hum, sr).segments).toEqual([]);
  });

  it('the cough-likeness rejection removes click segments from clicks-only audio', () => {
    const spec = evalSet(1).find((s) => s.group.coughFree && s.name.includes('_clicks_') && s.sampleRate === sr)!;
    const x = synthesize(spec).samples;
    const kept = segmentCoughsAdaptive(x, sr).segments.length;
    const all = segmentCoughsAdaptive(x, sr, { minCoughScore: 0 }).segments.length;
    expect(all).toBeGreaterThan(kept);
  });

  it('names a bad option', () => {
    expect(() => segmentCoughsAdaptive(new Float32Array(100), sr, { highDb: 2, lowDb: 3 })).toThrow(/highDb=2 must be > lowDb=3/);
  });
});

describe('the targets of issue 4 on the synthetic evaluation set (scale 1)', () => {
  const tally = { hi: { tp: 0, fp: 0, fn: 0 }, lo: { tp: 0, fp: 0, fn: 0 } };
  const falsePerMinute: Record<string, { segs: number; min: number }> = {};
  const down = new Resampler(16000, sr);
  for (const spec of evalSet(1)) {
    const rec = synthesize(spec);
    const x = spec.sampleRate === sr ? rec.samples : down.run(rec.samples);
    const { segments } = segmentCoughsAdaptive(x, sr);
    if (spec.group.coughFree) {
      const k = spec.name.split('_')[2]!;
      const f = (falsePerMinute[k] ??= { segs: 0, min: 0 });
      f.segs += segments.length;
      f.min += spec.duration / 60;
      continue;
    }
    const m = matchEvents(rec.truth, segments);
    const t = spec.snrDb >= 10 ? tally.hi : tally.lo;
    t.tp += m.truePositives; t.fp += m.falsePositives; t.fn += m.falseNegatives;
  }
  const f1 = (t: { tp: number; fp: number; fn: number }) => (2 * t.tp) / (2 * t.tp + t.fp + t.fn);
  it('F1 >= 0.95 where SNR >= 10 dB', () => expect(f1(tally.hi)).toBeGreaterThanOrEqual(0.95));
  it('F1 >= 0.85 between 0 and 10 dB', () => expect(f1(tally.lo)).toBeGreaterThanOrEqual(0.85));
  it.each(['babble', 'hum', 'silence'])('at most 1 false segment per minute on %s-only audio', (k) => {
    expect(falsePerMinute[k]!.segs / falsePerMinute[k]!.min).toBeLessThanOrEqual(1);
  });
});
