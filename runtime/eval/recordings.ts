import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { TosiaError } from '../../algos/errors.js';
import {
  atPrevalence, averagePrecision, bootstrapBand, bootstrapInterval, calibration, operatingPoint, prCurve, precisionAt, rocAuc, rocCurve, take,
  thresholdForSensitivity, tprAt, wilson, type CalibrationBin,
} from '../../algos/metrics/binary.js';
import { parseCsv } from '../io/csv.js';
import type { Result } from '../pipeline/result.js';

/**
 * The recording-level evaluation of a diagnosis model (`tosia eval --labels --pred`): how well
 * each recording's score separates the labels, at the model's threshold and at a target
 * sensitivity, with stratified bootstrap intervals, calibration, per-group results, and the two
 * audits that keep an evaluation honest: whether a group column alone (the recording source,
 * say) predicts the label as well as the model, and whether byte-identical recordings carry
 * different labels.
 */

/** One label row: the label as given, and every column (for --group-by). */
export interface LabelRow { value: unknown; columns: Record<string, string> }
export type LabelTable = Map<string, LabelRow>;

export interface RecordingEvalOptions {
  /** The positive label; the results' positive label by default. */
  positive?: string;
  groupBy?: readonly string[];
  /** A prevalence to report PPV and NPV at, besides the sample's. */
  prevalence?: number;
  /** The sensitivity of the second operating point (default 0.9). */
  targetSensitivity?: number;
  seed?: number;
  /** Bootstrap resamples (default 1000, at least 1000 for the reported intervals). */
  resamples?: number;
}

type Interval = [number, number] | null;
export interface Measured { value: number | null; ci95: Interval }
export interface PointReport {
  value: number; sensitivity: number | null; sensitivity_ci95: Interval; specificity: number | null; specificity_ci95: Interval;
  ppv: number | null; ppv_ci95: Interval; npv: number | null; npv_ci95: Interval;
}
export interface GroupReport { n: number; positives: number; auc: Measured; sensitivity: number | null; specificity: number | null }
export interface RecordingReport {
  n: number;
  positives: number;
  abstained: number;
  auc: Measured;
  pr_auc: Measured;
  threshold: PointReport;
  at_target_sensitivity: PointReport & { target: number };
  at_prevalence: { prevalence: number; ppv: number | null; npv: number | null };
  calibration: { ece: number | null; bins: CalibrationBin[] };
  groups: Record<string, Record<string, GroupReport>>;
  confound: Record<string, { group_only_auc: number | null; score_as_group_auc: number | null; warning: string | null }>;
  duplicates: { groups: number; conflicting: number };
  by_quality: { flagged: GroupReport; clean: GroupReport };
}

/** The curves behind the report, with their bootstrap bands, for figures (not part of the report's keys). */
export interface EvalCurves {
  roc: { fpr: number[]; tpr: number[]; band: { fpr: number[]; lo: number[]; hi: number[] } };
  pr: { recall: number[]; precision: number[]; band: { recall: number[]; lo: number[]; hi: number[] } };
  calibration: (CalibrationBin & { ci95: [number, number] | null })[];
  /** The operating points on the ROC curve. */
  points: { name: string; fpr: number; tpr: number }[];
  positive: string;
}

/** What did not take part, for the person reading (not part of the report's keys). */
export interface EvalNotes { unlabelled: number; unpredicted: number; notes: string[] }

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * Labels: a CSV (`file,label` and any other columns) or JSON (a list of objects). The file
 * column is `file` or `filename`; `labelKey` picks the label (covid19-cough's metadata.json works
 * with `covid19`, a boolean).
 */
export async function readRecordingLabels(path: string, labelKey = 'label'): Promise<LabelTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TosiaError('E_INPUT', `labels cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path, stage: 'eval', hint: 'pass a CSV (file,label,…) or a JSON list of objects to --labels' });
  }
  const bad = (why: string) => new TosiaError('E_INPUT', `labels ${why}`, { file: path, stage: 'eval', hint: `a CSV with a file (or filename) column and a ${labelKey} column, or a JSON list of objects with those keys; --label-key names the label's column` });
  let rows: Record<string, unknown>[];
  if (/^\s*[[{]/.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw bad(`are not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(parsed) || parsed.some((r) => r === null || typeof r !== 'object')) throw bad('are JSON but not a list of objects');
    rows = parsed as Record<string, unknown>[];
  } else {
    const table = parseCsv(text);
    const [head, ...body] = table;
    if (!head) throw bad('are empty');
    rows = body.filter((r) => r.some((c) => c !== '')).map((r) => Object.fromEntries(head.map((h, i) => [h.trim(), r[i] ?? ''])));
  }
  const out: LabelTable = new Map();
  for (const [i, r] of rows.entries()) {
    const file = r.file ?? r.filename;
    if (typeof file !== 'string' || file === '') throw bad(`row ${i + 1} has no file (or filename)`);
    if (!(labelKey in r)) throw bad(`row ${i + 1} (${file}) has no ${JSON.stringify(labelKey)}`);
    const columns = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
    out.set(basename(file), { value: r[labelKey], columns });
  }
  return out;
}

/** 1 for the positive label, 0 for any other, null when the label is missing or not a label. */
function truthOf(value: unknown, positive: string): 0 | 1 | null {
  if (value === true || value === 1 || value === 'true' || value === '1') return 1;
  if (value === false || value === 0 || value === 'false' || value === '0') return 0;
  if (typeof value === 'string' && value.trim() !== '') return value.trim() === positive ? 1 : 0;
  return null;
}

export function evaluateRecordings(labels: LabelTable, results: readonly Result[], o: RecordingEvalOptions = {}): { report: RecordingReport; notes: EvalNotes; curves: EvalCurves } {
  const resamples = Math.max(1000, o.resamples ?? 1000);
  const seed = o.seed ?? 1;
  const target = o.targetSensitivity ?? 0.9;
  if (!(target > 0 && target <= 1)) throw new TosiaError('E_CONFIG', `--target-sensitivity=${target} must be in (0, 1]`, { stage: 'eval' });
  if (o.prevalence !== undefined && !(o.prevalence > 0 && o.prevalence < 1)) throw new TosiaError('E_CONFIG', `--prevalence=${o.prevalence} must be in (0, 1)`, { stage: 'eval' });
  if (results.length === 0) throw new TosiaError('E_INPUT', 'there are no results to evaluate', { stage: 'eval', hint: 'pass the output of tosia run to --pred' });
  const positive = o.positive ?? results[0]!.diagnosis.positive_label;
  const threshold = results[0]!.diagnosis.threshold;
  const notes: string[] = [];
  if (results.some((r) => r.diagnosis.threshold !== threshold)) notes.push(`the results use more than one threshold; the first (${threshold}) is reported`);
  if (!results[0]!.model.labels.includes(positive)) throw new TosiaError('E_CONFIG', `--positive ${positive} is not one of the model's labels (${results[0]!.model.labels.join(', ')})`, { stage: 'eval' });

  // the recordings with both a label and a result
  const rows: { result: Result; label: LabelRow; truth: 0 | 1 }[] = [];
  let unlabelled = 0, abstained = 0;
  const seen = new Set<string>();
  // in name order: a batch writes its results in the order they finish, and the bootstrap must
  // see the same recordings in the same order to give the same intervals for the same seed
  const ordered = [...results].sort((a, b) => (a.source.path < b.source.path ? -1 : a.source.path > b.source.path ? 1 : 0));
  for (const result of ordered) {
    const key = basename(result.source.path);
    seen.add(key);
    const label = labels.get(key);
    const truth = label ? truthOf(label.value, positive) : null;
    if (!label || truth === null) { unlabelled++; continue; }
    // no cough found: the model did not answer for this recording
    const score = positive === result.diagnosis.positive_label ? result.diagnosis.score : (result.diagnosis.probabilities[positive] ?? null);
    if (score === null || result.diagnosis.n_segments === 0) { abstained++; continue; }
    rows.push({ result, label, truth });
  }
  const unpredicted = [...labels.keys()].filter((k) => !seen.has(k)).length;
  if (unlabelled) notes.push(`${unlabelled} result(s) have no usable label and were left out`);
  if (unpredicted) notes.push(`${unpredicted} labelled recording(s) have no result`);
  if (rows.length === 0) throw new TosiaError('E_INPUT', 'no result matches a label by file name', { stage: 'eval', hint: 'labels are matched to results by the recording\'s base name (the file or filename column against result.source.path)' });

  const scoreOf = (r: Result) => (positive === r.diagnosis.positive_label ? r.diagnosis.score! : r.diagnosis.probabilities[positive]!);
  const scores = Float64Array.from(rows, (r) => scoreOf(r.result));
  const truth = Int8Array.from(rows, (r) => r.truth);
  const interval = (f: (s: ArrayLike<number>, t: ArrayLike<number>) => number, s: ArrayLike<number>, t: ArrayLike<number>, salt: number) =>
    bootstrapInterval(t, (idx) => f(take(s, idx), take(t, idx)), { resamples, seed: seed * 7919 + salt });
  const measured = (f: (s: ArrayLike<number>, t: ArrayLike<number>) => number, s: ArrayLike<number>, t: ArrayLike<number>, salt: number): Measured => ({ value: finite(f(s, t)), ci95: interval(f, s, t, salt) });

  const point = (th: number, salt: number): PointReport => {
    const p = operatingPoint(scores, truth, th);
    const ci = (k: 'sensitivity' | 'specificity' | 'ppv' | 'npv', i: number) => interval((s, t) => operatingPoint(s, t, th)[k], scores, truth, salt + i);
    return {
      value: th,
      sensitivity: finite(p.sensitivity), sensitivity_ci95: ci('sensitivity', 1), specificity: finite(p.specificity), specificity_ci95: ci('specificity', 2),
      ppv: finite(p.ppv), ppv_ci95: ci('ppv', 3), npv: finite(p.npv), npv_ci95: ci('npv', 4),
    };
  };
  const group = (index: number[], salt: number): GroupReport => {
    const s = Float64Array.from(index, (i) => scores[i]!), t = Int8Array.from(index, (i) => truth[i]!);
    const p = operatingPoint(s, t, threshold);
    return { n: index.length, positives: t.reduce((a, b) => a + b, 0), auc: measured(rocAuc, s, t, salt), sensitivity: finite(p.sensitivity), specificity: finite(p.specificity) };
  };

  const auc = measured(rocAuc, scores, truth, 1);
  const atThreshold = point(threshold, 10);
  const targetThreshold = thresholdForSensitivity(scores, truth, target);
  const prevalence = o.prevalence ?? truth.reduce((a, b) => a + b, 0) / truth.length;
  const bayes = atPrevalence(atThreshold.sensitivity ?? NaN, atThreshold.specificity ?? NaN, prevalence);
  const cal = calibration(scores, truth);

  const groups: RecordingReport['groups'] = {};
  const confound: RecordingReport['confound'] = {};
  for (const [ci, column] of (o.groupBy ?? []).entries()) {
    if (!rows.some((r) => column in r.label.columns)) throw new TosiaError('E_CONFIG', `--group-by ${column} is not a column of the labels`, { stage: 'eval', hint: `the labels have: ${Object.keys(rows[0]!.label.columns).join(', ')}` });
    const values = rows.map((r) => r.label.columns[column] ?? '');
    const byValue = new Map<string, number[]>();
    values.forEach((v, i) => byValue.set(v, [...(byValue.get(v) ?? []), i]));
    groups[column] = Object.fromEntries([...byValue].sort(([a], [b]) => a.localeCompare(b)).map(([v, idx], k) => [v, group(idx, 100 + ci * 50 + k)]));
    // the group alone as a predictor: each recording scored by its group's positive rate
    const rate = new Map([...byValue].map(([v, idx]) => [v, idx.reduce((a, i) => a + truth[i]!, 0) / idx.length]));
    const groupOnly = finite(rocAuc(Float64Array.from(values, (v) => rate.get(v)!), truth));
    // how well the model's score tells the groups apart (one against the rest, either direction)
    const separations = [...byValue.keys()].map((v) => rocAuc(scores, Int8Array.from(values, (x) => (x === v ? 1 : 0)))).filter(Number.isFinite).map((a) => Math.max(a, 1 - a));
    const scoreAsGroup = byValue.size > 1 && separations.length ? separations.reduce((a, b) => a + b, 0) / separations.length : null;
    const low = auc.ci95?.[0] ?? auc.value ?? 0;
    const warning = groupOnly !== null && groupOnly >= low
      ? `${column} alone predicts the label with AUC ${groupOnly.toFixed(3)}, not below the model's interval (${auc.ci95 ? `${auc.ci95[0].toFixed(3)}–${auc.ci95[1].toFixed(3)}` : 'none'}): the model may be recognising the ${column} rather than the condition; evaluate within each ${column}, or on recordings matched on it`
      : null;
    confound[column] = { group_only_auc: groupOnly, score_as_group_auc: scoreAsGroup === null ? null : finite(scoreAsGroup), warning };
  }

  // byte-identical recordings among those evaluated, and how many carry both labels
  const bySha = new Map<string, number[]>();
  rows.forEach((r, i) => bySha.set(r.result.source.sha256, [...(bySha.get(r.result.source.sha256) ?? []), i]));
  const dupGroups = [...bySha.values()].filter((g) => g.length > 1);
  const conflicting = dupGroups.filter((g) => new Set(g.map((i) => truth[i])).size > 1).length;
  if (conflicting) notes.push(`${conflicting} group(s) of byte-identical recordings carry both labels: no model can get all of them right`);

  const flagged: number[] = [], clean: number[] = [];
  rows.forEach((r, i) => (r.result.quality.flags.length ? flagged : clean).push(i));

  const report: RecordingReport = {
    n: rows.length,
    positives: truth.reduce((a, b) => a + b, 0),
    abstained,
    auc,
    pr_auc: measured(averagePrecision, scores, truth, 2),
    threshold: atThreshold,
    at_target_sensitivity: { target, ...point(targetThreshold, 20) },
    at_prevalence: { prevalence, ppv: finite(bayes.ppv), npv: finite(bayes.npv) },
    calibration: { ece: finite(cal.ece), bins: cal.bins },
    groups,
    confound,
    duplicates: { groups: dupGroups.length, conflicting },
    by_quality: { flagged: group(flagged, 30), clean: group(clean, 31) },
  };
  const grid = Array.from({ length: 101 }, (_, i) => i / 100);
  const roc = rocCurve(scores, truth), pr = prCurve(scores, truth);
  const rocBand = bootstrapBand(truth, (idx) => tprAt(take(scores, idx), take(truth, idx), grid), { resamples, seed: seed * 7919 + 40 });
  const prBand = bootstrapBand(truth, (idx) => precisionAt(take(scores, idx), take(truth, idx), grid), { resamples, seed: seed * 7919 + 41 });
  const pointOf = (name: string, p: PointReport) => ({ name, fpr: 1 - (p.specificity ?? NaN), tpr: p.sensitivity ?? NaN });
  const curves: EvalCurves = {
    roc: { fpr: roc.fpr, tpr: roc.tpr, band: { fpr: grid, lo: [...rocBand.lo], hi: [...rocBand.hi] } },
    pr: { recall: pr.recall, precision: pr.precision, band: { recall: grid, lo: [...prBand.lo], hi: [...prBand.hi] } },
    calibration: cal.bins.map((b) => ({ ...b, ci95: wilson(Math.round((b.positive_rate ?? 0) * b.n), b.n) })),
    points: [pointOf(`threshold ${threshold}`, report.threshold), pointOf(`sensitivity ≥ ${target}`, report.at_target_sensitivity)],
    positive,
  };
  return { report, notes: { unlabelled, unpredicted, notes }, curves };
}
