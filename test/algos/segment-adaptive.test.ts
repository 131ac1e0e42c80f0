import { describe, expect, it } from 'vitest';
import { segmentCoughsAdaptive } from '../../algos/index.js';
import { evalSet } from '../../samples/generator/eval-set.js';
import { synthesize } from '../../samples/generator/synth.js';
import { issue4Figures } from '../helpers/issue4.js';

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

describe('the adaptive method keeps the targets of issue 4 on the synthetic evaluation set (scale 1)', () => {
  const fig = issue4Figures(undefined, segmentCoughsAdaptive);
  it('F1 >= 0.95 where SNR >= 10 dB', () => expect(fig.f1High).toBeGreaterThanOrEqual(0.95));
  it('F1 >= 0.85 between 0 and 10 dB', () => expect(fig.f1Low).toBeGreaterThanOrEqual(0.85));
  it.each(['babble', 'hum', 'silence'])('at most 1 false segment per minute on %s-only audio', (k) => {
    expect(fig.falsePerMinute(k)).toBeLessThanOrEqual(1);
  });
});

describe('segment descriptors treat digital silence alike, exact zeros or rounding noise', () => {
  it('gives the same features when silent stretches hold 1e-10 noise instead of zeros', async () => {
    const { DescriptorPlan } = await import('../../algos/segment/descriptors.js');
    const sr = 8000, n = sr;
    const clean = new Float32Array(n), noisy = new Float32Array(n);
    let s = 3;
    for (let i = 0; i < n; i++) {
      s = (s * 16807) % 2147483647;
      const u = s / 2147483647 - 0.5;
      const burst = i > 2000 && i < 5000 ? 0.3 * u * Math.sin(i / 3) : 0;
      clean[i] = burst;
      noisy[i] = burst === 0 ? 1e-10 * u : burst;
    }
    const plan = new DescriptorPlan(sr);
    const a = plan.describe(clean, 0, n), b = plan.describe(noisy, 0, n);
    for (const k of ['zcr', 'spectralCentroid', 'spectralFlatness', 'rms'] as const) expect(b[k]).toBeCloseTo(a[k], 6);
  });
});
