#!/usr/bin/env node
/**
 * `make fit-cough-score`: fit the onset segmenter's cough score and write
 * algos/segment/cough-score-model.ts.
 *
 * Training data: the candidate events of the `dev` half of the annotated covid19-cough
 * recordings (bench/annotated.ts), labelled by whether they open an annotated cough, weighted
 * REAL_WEIGHT each; and those of a synthetic draw of the evaluation design with its own seeds
 * (TRAINING_SEEDS), never the evaluation set's recordings. The `test` half is not touched here.
 * Prints a 5-fold cross-validation over the dev recordings (synthetic data always in training).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { matchEvents, type TimeSpan } from '../algos/events/match.js';
import { Resampler } from '../algos/audio/resample.js';
import type { RealFftFactory } from '../algos/fft/kernel.js';
import { CANDIDATE_FEATURES } from '../algos/segment/cough-score.js';
import { onsetCandidates, selectCoughs, ONSET_DEFAULTS, type OnsetCandidate } from '../algos/segment/onset.js';
import { packageRoot } from '../runtime/paths.js';
import { loadPffft } from '../runtime/dsp/pffft.js';
import { evalSet, TRAINING_SEEDS } from '../samples/generator/eval-set.js';
import { synthesize } from '../samples/generator/synth.js';
import { candidateTimes, loadAnnotated, onsetLabels, rocAuc, type AnnotatedRecording } from './annotated.js';
import { fitBoostedTrees, predict, type BoostedTrees, type BoostOptions } from './boosted-trees.js';

export const BOOST: BoostOptions = { trees: 60, depth: 3, rate: 0.2, minLeaf: 8 };
/** Each real candidate counts this many times a synthetic one: there are fewer, and they are what matters. */
export const REAL_WEIGHT = 6;
const SR = 8000;

export interface Recording { id: string; source: string; truth: TimeSpan[]; cands: OnsetCandidate[]; level: Float64Array; labels: boolean[]; hopS: number; frameS: number }

export function prepare(id: string, source: string, samples: Float32Array, truth: TimeSpan[], fft?: RealFftFactory): Recording {
  const { candidates, level, analysis } = onsetCandidates(samples, SR, {}, fft);
  const labels = onsetLabels(candidates.map((c) => candidateTimes(c, analysis)), truth);
  return { id, source, truth, cands: candidates, level, labels, hopS: analysis.hopS, frameS: analysis.frameS };
}

const vec = (c: OnsetCandidate) => CANDIDATE_FEATURES.map((k) => c.features[k]);

function fit(recs: readonly Recording[], weightOf: (r: Recording) => number): BoostedTrees {
  const X: number[][] = [], y: number[] = [], w: number[] = [];
  for (const r of recs) r.cands.forEach((c, i) => { X.push(vec(c)); y.push(r.labels[i] ? 1 : 0); w.push(weightOf(r)); });
  return fitBoostedTrees(X, y, w, BOOST);
}

/** Event scores (precision, recall, F1, mean |count error|) per source, with the given model. */
export function scoreRecordings(recs: readonly Recording[], modelFor: (r: Recording) => (x: number[]) => number, minScore = ONSET_DEFAULTS.minScore) {
  const agg = new Map<string, { tp: number; fp: number; fn: number; ace: number; n: number }>();
  for (const r of recs) {
    const model = modelFor(r);
    const kept = selectCoughs(r.cands, r.level, (f) => ({ value: model(CANDIDATE_FEATURES.map((k) => f[k])), reason: '' }), minScore);
    const spans = kept.map((k) => ({ start: k.a * r.hopS, end: (k.b - 1) * r.hopS + r.frameS }));
    const m = matchEvents(r.truth, spans);
    for (const key of ['all', r.source]) {
      const a = agg.get(key) ?? { tp: 0, fp: 0, fn: 0, ace: 0, n: 0 };
      a.tp += m.truePositives; a.fp += m.falsePositives; a.fn += m.falseNegatives; a.ace += Math.abs(spans.length - r.truth.length); a.n++;
      agg.set(key, a);
    }
  }
  return [...agg].map(([k, a]) => {
    const p = a.tp / (a.tp + a.fp), rc = a.tp / (a.tp + a.fn);
    return { group: k, files: a.n, precision: p, recall: rc, f1: (2 * p * rc) / (p + rc), meanAbsCountError: a.ace / a.n };
  });
}

/** The synthetic training draw's candidates, at the pipeline's rate. */
export function syntheticTraining(fft?: RealFftFactory): Recording[] {
  const out: Recording[] = [];
  const resamplers = new Map<number, Resampler>();
  for (const spec of evalSet(1, TRAINING_SEEDS)) {
    const rec = synthesize(spec);
    let x = rec.samples;
    if (spec.sampleRate !== SR) {
      if (!resamplers.has(spec.sampleRate)) resamplers.set(spec.sampleRate, new Resampler(spec.sampleRate, SR, {}, fft));
      x = resamplers.get(spec.sampleRate)!.run(x);
    }
    out.push(prepare(spec.name, 'synthetic', x, rec.truth, fft));
  }
  return out;
}

/** The model make fit-cough-score ships: fitted on the dev half and the synthetic training draw. */
export function fitShipped(annotated: readonly AnnotatedRecording[], fft?: RealFftFactory) {
  const dev = annotated.filter((r) => r.part === 'dev').map((r) => prepare(r.file, r.source, r.samples, r.events, fft));
  const synthetic = syntheticTraining(fft);
  const weightOf = (r: Recording) => (r.source === 'synthetic' ? 1 : REAL_WEIGHT);
  return { model: fit([...dev, ...synthetic], weightOf), dev, synthetic, weightOf };
}

/** K-fold cross-validation of the fit over `recs` (synthetic data always in training); `index` orders the recordings into folds (index mod K). */
export function crossValidate(recs: readonly Recording[], synthetic: readonly Recording[], weightOf: (r: Recording) => number, K: number, index: (r: Recording, i: number) => number) {
  const foldOf = new Map(recs.map((r, i) => [r.id, index(r, i) % K]));
  const scores: number[] = [], labels: boolean[] = [];
  const models: ((x: number[]) => number)[] = [];
  for (let k = 0; k < K; k++) {
    const m = fit([...recs.filter((r) => foldOf.get(r.id) !== k), ...synthetic], weightOf);
    models.push((x) => predict(m, x));
    for (const r of recs.filter((r) => foldOf.get(r.id) === k)) r.cands.forEach((c, i) => { scores.push(predict(m, vec(c))); labels.push(r.labels[i]!); });
  }
  return { auc: rocAuc(scores, labels), events: scoreRecordings(recs, (r) => models[foldOf.get(r.id)!]!) };
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('fit-cough-score.js')) {
  const root = packageRoot();
  const shared = resolve(process.env.TOSIA_SHARED ?? join(root, '../shared'));
  const fft = await loadPffft();
  const annotated = await loadAnnotated(join(shared, 'data/covid19-cough'));
  if (!annotated) { console.error(`${shared}/data/covid19-cough/annotations is absent: the cough score is fitted on it`); process.exit(2); }
  const { model, dev, synthetic, weightOf } = fitShipped(annotated, fft);
  writeFileSync(resolve(root, 'algos/segment/cough-score-model.ts'), `// Written by bench/fit-cough-score.ts (make fit-cough-score); do not edit.\n// ${BOOST.trees} trees of depth ${BOOST.depth}, rate ${BOOST.rate}, fitted on ${dev.length} annotated dev recordings (weight ${REAL_WEIGHT}) and ${synthetic.length} synthetic training recordings.\nexport const COUGH_SCORE_MODEL: { base: number; rate: number; trees: number[][][] } = ${JSON.stringify(model)};\n`);
  console.log(`candidates: ${dev.reduce((s, r) => s + r.cands.length, 0)} from ${dev.length} dev recordings, ${synthetic.reduce((s, r) => s + r.cands.length, 0)} from ${synthetic.length} synthetic`);
  const show = (title: string, cv: { auc: number; events: ReturnType<typeof scoreRecordings> }) => {
    console.log(`${title}: candidate ROC AUC ${cv.auc.toFixed(3)}`);
    for (const e of cv.events) console.log(`  ${e.group}: ${e.files} recordings, precision ${e.precision.toFixed(3)}, recall ${e.recall.toFixed(3)}, F1 ${e.f1.toFixed(3)}, mean |count error| ${e.meanAbsCountError.toFixed(2)}`);
  };
  show('5-fold CV over the dev recordings (what choices were made on)', crossValidate(dev, synthetic, weightOf, 5, (r, i) => i));
  // the whole procedure, cross-validated over all 60: an estimate on twice the recordings, never used to choose anything
  const all = annotated.map((r) => prepare(r.file, r.source, r.samples, r.events, fft));
  const shaOf = new Map(annotated.map((r) => [r.file, r.sha256]));
  const groupIndex = new Map<string, number>();
  for (const r of all) if (!groupIndex.has(shaOf.get(r.id)!)) groupIndex.set(shaOf.get(r.id)!, groupIndex.size);
  show('10-fold CV over all 60 annotated recordings, folds by content hash (an estimate of the procedure; the shipped model is the dev fit)', crossValidate(all, synthetic, weightOf, 10, (r) => groupIndex.get(shaOf.get(r.id)!)!));
  console.log('wrote algos/segment/cough-score-model.ts');
}
