#!/usr/bin/env node
/**
 * `make eval-segmentation`: segmentation quality on the synthetic evaluation set, by SNR band,
 * distractor, level and band, plus false segments per minute on cough-free recordings and the
 * segment counts found on ../shared/data/covid19-cough. Appends to BENCHMARKS.md.
 */
import { appendFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { matchEvents } from '../algos/events/match.js';
import { Resampler } from '../algos/audio/resample.js';
import { defaultConfig } from '../runtime/config/schema.js';
import { packageRoot } from '../runtime/paths.js';
import { decodeStage, segmentStage } from '../runtime/pipeline/stages.js';
import { loadPffft } from '../runtime/dsp/pffft.js';
import type { RealFftFactory } from '../algos/fft/kernel.js';
import { evalSet } from '../samples/generator/eval-set.js';
import { synthesize } from '../samples/generator/synth.js';
import { table } from './stats.js';

interface Tally { tp: number; fp: number; fn: number; files: number; absCount: number }
const add = (m: Map<string, Tally>, k: string, t: Omit<Tally, 'files' | 'absCount'> & { count: number }) => {
  const x = m.get(k) ?? { tp: 0, fp: 0, fn: 0, files: 0, absCount: 0 };
  x.tp += t.tp; x.fp += t.fp; x.fn += t.fn; x.files++; x.absCount += Math.abs(t.count);
  m.set(k, x);
};
const row = (k: string, t: Tally) => {
  const p = t.tp + t.fp ? t.tp / (t.tp + t.fp) : 1, r = t.tp + t.fn ? t.tp / (t.tp + t.fn) : 1;
  return [k, t.files, p.toFixed(3), r.toFixed(3), (p + r ? (2 * p * r) / (p + r) : 0).toFixed(3), (t.absCount / t.files).toFixed(2)];
};

/** `fft`: the FFT backend the pipeline uses (PFFFT), so the figures are the product's. */
export function evaluateSegmentation(method: 'adaptive' | 'hysteresis', scale: number, fft?: RealFftFactory): string {
  const cfg = defaultConfig();
  cfg.segmentation.method = method;
  const sr = cfg.audio.sample_rate;
  const groups = new Map<string, Tally>();
  const falsePerMin = new Map<string, { segs: number; minutes: number }>();
  const resamplers = new Map<number, Resampler>();
  for (const spec of evalSet(scale)) {
    const rec = synthesize(spec);
    let x = rec.samples;
    if (spec.sampleRate !== sr) {
      if (!resamplers.has(spec.sampleRate)) resamplers.set(spec.sampleRate, new Resampler(spec.sampleRate, sr, {}, fft));
      x = resamplers.get(spec.sampleRate)!.run(x);
    }
    const { segments } = segmentStage({ samples: x, sampleRate: sr }, cfg, fft);
    const g = spec.group;
    if (g.coughFree) {
      const k = `${g.distractor === 'none' ? 'silence' : g.distractor}-only`;
      const f = falsePerMin.get(k) ?? { segs: 0, minutes: 0 };
      f.segs += segments.length; f.minutes += spec.duration / 60;
      falsePerMin.set(k, f);
      continue;
    }
    const m = matchEvents(rec.truth, segments);
    const t = { tp: m.truePositives, fp: m.falsePositives, fn: m.falseNegatives, count: segments.length - rec.truth.length };
    add(groups, g.snr >= 10 ? 'SNR >= 10 dB' : 'SNR 0-10 dB', t);
    add(groups, `distractor: ${g.distractor}`, t);
    add(groups, `level: ${g.level}`, t);
    add(groups, `band: ${g.band}`, t);
    add(groups, 'all', t);
  }
  const order = ['all', 'SNR >= 10 dB', 'SNR 0-10 dB', ...[...groups.keys()].filter((k) => k.includes(':')).sort()];
  const text = `### Segmentation, method \`${method}\`${method === 'adaptive' ? ' (the default)' : ' (the original)'}, synthetic evaluation set (scale ${scale})\n\n` +
    table(['group', 'recordings', 'precision', 'recall', 'F1', 'mean |count error|'], order.map((k) => row(k, groups.get(k)!))) +
    '\n\nTargets (issue 4): F1 ≥ 0.95 at SNR ≥ 10 dB, F1 ≥ 0.85 at 0-10 dB, ≤ 1 false segment per minute on babble-, hum- and silence-only audio.\n\n' +
    table(['cough-free audio', 'minutes', 'false segments', 'per minute'], [...falsePerMin.entries()].sort().map(([k, f]) => [k, f.minutes.toFixed(1), f.segs, (f.segs / f.minutes).toFixed(2)]));
  return text;
}

export async function coughFolderCounts(dir: string): Promise<string> {
  let files: string[];
  try {
    files = readdirSync(join(dir, 'raw')).filter((f) => f.endsWith('.mp3')).sort();
  } catch {
    return `### Segments found on covid19-cough\n\nskipped: ${dir} is absent.`;
  }
  const cfg = defaultConfig();
  const fft = await loadPffft();
  const counts = new Map<string, number>();
  const durs: number[] = [];
  let ok = 0, withCough = 0;
  for (const f of files) {
    try {
      const a = await decodeStage(join(dir, 'raw', f), cfg);
      const { segments } = segmentStage(a, cfg, fft);
      ok++;
      if (segments.length > 0) withCough++;
      const k = segments.length >= 6 ? '6+' : String(segments.length);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      for (const s of segments) durs.push(s.end - s.start);
    } catch { /* undecodable: counted out */ }
  }
  durs.sort((a, b) => a - b);
  const q = (p: number) => durs[Math.min(durs.length - 1, Math.floor(p * durs.length))]!.toFixed(2);
  return `### Segments found on covid19-cough with the default method (${ok} decodable of ${files.length}; each holds an induced cough)\n\n` +
    `At least one cough found in ${withCough} of ${ok} (${((100 * withCough) / ok).toFixed(1)} %; target ≥ 95 %).\n\n` +
    table(['segments per recording', ...['0', '1', '2', '3', '4', '5', '6+']], [['recordings', ...['0', '1', '2', '3', '4', '5', '6+'].map((k) => counts.get(k) ?? 0)]]) +
    `\n\nSegment durations (padding included): median ${q(0.5)} s, 10th percentile ${q(0.1)} s, 90th percentile ${q(0.9)} s, n = ${durs.length}.`;
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('eval-segmentation.js')) {
  const root = packageRoot();
  const shared = resolve(process.env.TOSIA_SHARED ?? join(root, '../shared'));
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const scale = Number(process.env.EVAL_SCALE ?? 2);
  const fft = await loadPffft();
  const parts = [evaluateSegmentation('adaptive', scale, fft), evaluateSegmentation('hysteresis', scale, fft), await coughFolderCounts(join(shared, 'data/covid19-cough'))];
  process.stdout.write(parts.join('\n\n') + '\n');
  appendFileSync(join(root, 'BENCHMARKS.md'), `\n## ${when}: make eval-segmentation\n\n${parts.join('\n\n')}\n`);
}
