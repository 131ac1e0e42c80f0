import { matchEvents, Resampler, segmentCoughsOnset, type RealFftFactory, type Segmentation } from '../../algos/index.js';
import { evalSet } from '../../samples/generator/eval-set.js';
import { synthesize } from '../../samples/generator/synth.js';

/**
 * Issue 4's segmentation targets over the synthetic evaluation set (scale 1), with an optional
 * FFT backend for the resampler and the segmenter (the pipeline runs PFFFT), for a segmenter
 * (the default method's, unless given).
 */
type Segmenter = (x: Float32Array, sr: number, options: object, fft?: RealFftFactory) => Segmentation;
export function issue4Figures(fft?: RealFftFactory, segment: Segmenter = segmentCoughsOnset) {
  const sr = 8000;
  const tally = { hi: { tp: 0, fp: 0, fn: 0 }, lo: { tp: 0, fp: 0, fn: 0 } };
  const falsePerMinute: Record<string, { segs: number; min: number }> = {};
  const down = new Resampler(16000, sr, {}, fft);
  for (const spec of evalSet(1)) {
    const rec = synthesize(spec);
    const x = spec.sampleRate === sr ? rec.samples : down.run(rec.samples);
    const { segments } = segment(x, sr, {}, fft);
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
  return { f1High: f1(tally.hi), f1Low: f1(tally.lo), falsePerMinute: (k: string) => falsePerMinute[k]!.segs / falsePerMinute[k]!.min };
}
