import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coughProbability, onsetCandidates, segmentCoughsOnset, CANDIDATE_FEATURES, matchEvents } from '../../algos/index.js';
import { deepestValley, hysteresis, movingAverage, splitLong } from '../../algos/segment/core.js';
import { loadAnnotated } from '../../bench/annotated.js';
import { evalSet } from '../../samples/generator/eval-set.js';
import { synthesize } from '../../samples/generator/synth.js';
import { issue4Figures } from '../helpers/issue4.js';

const sr = 8000;
const DATA = join(__dirname, '../../../shared/data/covid19-cough');

describe('the segmentation core every method uses', () => {
  it('hysteresis: enters above high, extends back above low, leaves after the hangover', () => {
    const x = [0, 2, 5, 9, 9, 4, 2, 2, 9, 1, 1, 1, 0];
    expect(hysteresis(x, 8, 3, 2)).toEqual([{ a: 2, b: 9 }]);
    expect(hysteresis(x, 8, 3, 1)).toEqual([{ a: 2, b: 6 }, { a: 8, b: 9 }]);
  });
  it('splitLong cuts at the deepest dip; deepestValley measures a valley against both sides', () => {
    const x = [5, 9, 8, 2, 7, 9, 6];
    expect(splitLong({ a: 0, b: 7 }, x, 4, 1)).toEqual([{ a: 0, b: 3 }, { a: 3, b: 7 }]);
    expect(deepestValley({ a: 0, b: 7 }, x, 1)).toEqual({ at: 3, depth: 7 });
  });
  it('movingAverage shrinks at the edges', () => {
    expect([...movingAverage([3, 0, 0, 3], 3)]).toEqual([1.5, 1, 1, 1.5]);
  });
});

describe('segmentCoughsOnset', () => {
  it('silence, a DC offset and steady hum give no segment', () => {
    expect(segmentCoughsOnset(new Float32Array(sr * 3), sr).segments).toEqual([]);
    expect(segmentCoughsOnset(new Float32Array(sr * 3).fill(0.3), sr).segments).toEqual([]);
    const hum = Float32Array.from({ length: sr * 3 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 50 * i) / sr) + 0.1 * Math.sin((2 * Math.PI * 150 * i) / sr));
    expect(segmentCoughsOnset(hum, sr).segments).toEqual([]);
    expect(segmentCoughsOnset(new Float32Array(0), sr).segments).toEqual([]);
  });

  it('scores every segment it reports, with a reason, and rejects what scores below minScore', () => {
    const spec = evalSet(1).find((s) => !s.group.coughFree && s.sampleRate === sr && s.snrDb >= 20)!;
    const x = synthesize(spec).samples;
    const { segments } = segmentCoughsOnset(x, sr);
    expect(segments.length).toBeGreaterThan(0);
    for (const s of segments) {
      expect(s.score!.value).toBeGreaterThanOrEqual(0.5);
      expect(s.score!.reason).toBe('cough-like');
    }
    const all = segmentCoughsOnset(x, sr, { minScore: 0 }).segments;
    expect(all.length).toBeGreaterThanOrEqual(segments.length);
    expect(segmentCoughsOnset(x, sr, { minScore: 1 }).segments).toEqual([]);
  });

  it('a candidate scoring low says why, in words', () => {
    const { candidates } = onsetCandidates(synthesize(evalSet(1).find((s) => s.group.coughFree && s.name.includes('_clicks_') && s.sampleRate === sr)!).samples, sr);
    const low = candidates.map((c) => coughProbability(c.features)).filter((p) => p.value < 0.5);
    expect(low.length).toBeGreaterThan(0);
    for (const p of low) expect(p.reason).toMatch(/onset|tail|short|quieter|tonal|unlike/);
    expect(CANDIDATE_FEATURES.length).toBe(Object.keys(candidates[0]!.features).length);
  });

  it('names a bad option', () => {
    expect(() => segmentCoughsOnset(new Float32Array(100), sr, { highDb: 2, lowDb: 3 })).toThrow(/highDb=2 must be > lowDb \(3\)/);
    expect(() => segmentCoughsOnset(new Float32Array(100), sr, { minScore: 2 })).toThrow(/minScore=2 must be in 0..1/);
    expect(() => segmentCoughsOnset(new Float32Array(100), sr, { tail: -1 })).toThrow(/tail=-1 must be >= 0/);
    expect(() => segmentCoughsOnset(new Float32Array(100), sr, { onsetDb: 0 })).toThrow(/onsetDb=0 must be > 0/);
  });
});

describe('the onset method (the default) keeps the targets of issue 4 on the synthetic evaluation set (scale 1)', () => {
  const fig = issue4Figures();
  it('F1 >= 0.95 where SNR >= 10 dB', () => expect(fig.f1High).toBeGreaterThanOrEqual(0.95));
  it('F1 >= 0.85 between 0 and 10 dB', () => expect(fig.f1Low).toBeGreaterThanOrEqual(0.85));
  it.each(['babble', 'hum', 'silence'])('at most 1 false segment per minute on %s-only audio', (k) => {
    expect(fig.falsePerMinute(k)).toBeLessThanOrEqual(1);
  });
  // the adaptive method finds 38 and 19.5 per minute in them
  it.each(['clicks', 'bangs'])('at most 5 false segments per minute on %s-only audio', (k) => {
    expect(fig.falsePerMinute(k)).toBeLessThanOrEqual(5);
  });
});

// issue 15's targets, on the half of the annotated recordings nothing was tuned or fitted on
describe.skipIf(!existsSync(join(DATA, 'annotations')))('the onset method on the held-out annotated covid19-cough recordings', () => {
  it('F1 >= 0.92 in total and >= 0.88 per source, mean |count error| <= 0.5', async () => {
    const recs = (await loadAnnotated(DATA))!.filter((r) => r.part === 'test');
    const tally = new Map<string, { tp: number; fp: number; fn: number; ace: number; n: number }>();
    for (const r of recs) {
      const { segments } = segmentCoughsOnset(r.samples, r.sampleRate);
      const m = matchEvents(r.events, segments);
      for (const k of ['all', r.source]) {
        const t = tally.get(k) ?? { tp: 0, fp: 0, fn: 0, ace: 0, n: 0 };
        t.tp += m.truePositives; t.fp += m.falsePositives; t.fn += m.falseNegatives; t.ace += Math.abs(segments.length - r.events.length); t.n++;
        tally.set(k, t);
      }
    }
    const f1 = (k: string) => { const t = tally.get(k)!; return (2 * t.tp) / (2 * t.tp + t.fp + t.fn); };
    expect(recs.length).toBe(30);
    expect(f1('all')).toBeGreaterThanOrEqual(0.92);
    expect(f1('call-center')).toBeGreaterThanOrEqual(0.88);
    expect(f1('telegram')).toBeGreaterThanOrEqual(0.88);
    expect(tally.get('all')!.ace / tally.get('all')!.n).toBeLessThanOrEqual(0.5);
  });
});
if (!existsSync(join(DATA, 'annotations'))) console.warn(`skipped: ${DATA}/annotations is absent (the annotated covid19-cough recordings)`);
