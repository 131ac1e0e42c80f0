import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';

const f3 = (x: number) => x.toFixed(3);

export function registerEval(program: Command, setExit: (code: number) => void): void {
  program
    .command('eval')
    .description('Evaluate results: with --labels, the diagnosis of each recording against its label (ROC and PR AUC with bootstrap intervals, operating points, calibration, groups, confound and duplicate audits); with --truth, the found cough segments against annotated events.')
    .option('--labels <file>', 'recording labels: a CSV (file,label and any other columns) or a JSON list of objects (file or filename, and the label)')
    .option('--truth <file>', 'annotated cough events: CSV with file,start,end (seconds), JSON [{file,start,end}], or a sample sidecar .json')
    .requiredOption('--pred <path>', 'the output of tosia run: a result .json (--json), a results.jsonl, or a batch --out folder')
    .option('--label-key <key>', 'with --labels: the label column or key (booleans: true is the positive label)', 'label')
    .option('--positive <label>', "with --labels: the positive label (default: the model's)")
    .option('--group-by <columns>', 'with --labels: report per value of these label columns (comma-separated), and audit each as a confound')
    .option('--prevalence <p>', 'with --labels: also give PPV and NPV at this prevalence (default: the sample\'s)')
    .option('--target-sensitivity <s>', 'with --labels: the second operating point: the most specific threshold reaching this sensitivity', '0.9')
    .option('--seed <n>', 'with --labels: the bootstrap seed (the same seed gives the same intervals)', '1')
    .option('--resamples <n>', 'with --labels: bootstrap resamples, at least 1000', '1000')
    .option('--report <file.html>', 'with --labels: also write one self-contained HTML file: the ROC, PR and calibration curves with their bands, the operating points, the groups and the audits')
    .option('--onset-tolerance <s>', 'with --truth: a segment matches an event when their onsets are this close', '0.25')
    .option('--min-overlap <fraction>', 'with --truth: ...or when they overlap by this fraction of the shorter one', '0.5')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
With --labels, each recording's score for the positive label is compared with its label;
recordings with no cough found are counted as abstained. Intervals are the 2.5th and 97.5th
percentiles of a stratified, seeded bootstrap. With --truth, each true event is matched at most
once (greedy, by overlap then onset distance); totals are micro-averaged over all events. Files
are matched by base name either way.

Examples:
  $ tosia run calls/ --out /tmp/scored && tosia eval --labels labels.csv --pred /tmp/scored
  $ tosia eval --labels data/metadata.json --label-key covid19 --group-by source --pred /tmp/scored --json
  $ tosia eval --labels labels.csv --pred /tmp/scored --group-by site --report eval.html
  $ tosia run samples/ --out /tmp/found && tosia eval --truth truth.csv --pred /tmp/found
  $ tosia run samples/coughs-3_snr-25db_white_16k.wav --json > r.json
  $ tosia eval --truth samples/coughs-3_snr-25db_white_16k.json --pred r.json --json`)
    .action(async (opts: { truth?: string; labels?: string; pred: string; onsetTolerance: string; minOverlap: string; json?: boolean; labelKey: string; positive?: string; groupBy?: string; prevalence?: string; targetSensitivity: string; seed: string; resamples: string; report?: string }) => {
      try {
        if ((opts.truth === undefined) === (opts.labels === undefined)) {
          throw new TosiaError('E_CONFIG', opts.truth === undefined ? 'tosia eval needs --labels (recording labels) or --truth (annotated cough events)' : '--labels and --truth evaluate different things: give one', { stage: 'eval', hint: 'tosia eval --labels labels.csv --pred results/ (the diagnosis), or tosia eval --truth truth.csv --pred results/ (the segments)' });
        }
        if (opts.labels !== undefined) {
          setExit(await evalRecordings(opts.labels, opts));
          return;
        }
        const onsetTolerance = Number(opts.onsetTolerance), minOverlap = Number(opts.minOverlap);
        if (!(onsetTolerance >= 0)) throw new TosiaError('E_CONFIG', `--onset-tolerance=${opts.onsetTolerance} must be a number >= 0`, { stage: 'eval' });
        if (!(minOverlap >= 0 && minOverlap <= 1)) throw new TosiaError('E_CONFIG', `--min-overlap=${opts.minOverlap} must be in [0, 1]`, { stage: 'eval' });
        const { readTruth, readPredictions, evaluate } = await import('../../runtime/eval/eval.js');
        const report = evaluate(await readTruth(opts.truth!), await readPredictions(opts.pred), { onsetTolerance, minOverlap });
        if (opts.json) {
          process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        } else {
          const w = Math.max(4, ...report.files.map((f) => f.file.length));
          const line = (name: string, s: { truth: number; predicted: number; tp: number; fp: number; fn: number; precision: number; recall: number; f1: number }, count: string) =>
            `${name.padEnd(w)}  ${String(s.truth).padStart(5)}  ${String(s.predicted).padStart(5)}  ${String(s.tp).padStart(4)}  ${String(s.fp).padStart(4)}  ${String(s.fn).padStart(4)}  ${f3(s.precision)}  ${f3(s.recall)}  ${f3(s.f1)}  ${count.padStart(6)}`;
          const out = [`${'file'.padEnd(w)}  truth  found    tp    fp    fn  prec.  recall  f1     count`];
          for (const f of report.files) out.push(line(f.file, f, (f.count_error > 0 ? '+' : '') + f.count_error));
          out.push(line('TOTAL', report.total, `|${report.total.mean_abs_count_error.toFixed(2)}|`));
          out.push(`(onset tolerance ${onsetTolerance} s, min overlap ${minOverlap}; count = found − truth, TOTAL = mean |count error| per file)`);
          if (report.missing_predictions.length) out.push(`no prediction for ${report.missing_predictions.length} annotated file(s), scored as all missed: ${report.missing_predictions.slice(0, 5).join(', ')}${report.missing_predictions.length > 5 ? ', ...' : ''}`);
          if (report.missing_truth.length) out.push(`not scored (no annotation): ${report.missing_truth.length} file(s)`);
          process.stdout.write(out.join('\n') + '\n');
        }
        setExit(EXIT.OK);
      } catch (e) {
        setExit(handleError(e));
      }
    });
}

const pct = (x: number | null) => (x === null ? '   –  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
const ci = (c: [number, number] | null, scale = 100, digits = 1) => (c === null ? '' : ` (${(c[0] * scale).toFixed(digits)}–${(c[1] * scale).toFixed(digits)})`);

/** tosia eval --labels: the recording-level report, as a table or JSON. */
async function evalRecordings(labelsPath: string, opts: { pred: string; json?: boolean; labelKey: string; positive?: string; groupBy?: string; prevalence?: string; targetSensitivity: string; seed: string; resamples: string; report?: string }): Promise<number> {
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new TosiaError('E_CONFIG', `--${flag}=${v} is not a number`, { stage: 'eval' });
    return x;
  };
  const seed = num('seed', opts.seed)!, resamples = num('resamples', opts.resamples)!;
  if (!Number.isInteger(seed)) throw new TosiaError('E_CONFIG', `--seed=${opts.seed} must be an integer`, { stage: 'eval' });
  if (!(Number.isInteger(resamples) && resamples >= 1000)) throw new TosiaError('E_CONFIG', `--resamples=${opts.resamples} must be an integer of at least 1000`, { stage: 'eval', hint: 'fewer resamples make intervals that move from run to run' });
  const { readRecordingLabels, evaluateRecordings } = await import('../../runtime/eval/recordings.js');
  const { readResults } = await import('../../runtime/eval/eval.js');
  const results = await readResults(opts.pred);
  const { report: r, notes, curves } = evaluateRecordings(await readRecordingLabels(labelsPath, opts.labelKey), results, {
    positive: opts.positive, groupBy: opts.groupBy?.split(',').map((c) => c.trim()).filter(Boolean), prevalence: num('prevalence', opts.prevalence),
    targetSensitivity: num('target-sensitivity', opts.targetSensitivity), seed, resamples,
  });
  for (const n of notes.notes) process.stderr.write(`tosia eval: ${n}\n`);
  if (opts.report !== undefined) {
    const { renderEvaluationReport } = await import('../../runtime/report/evaluation-report.js');
    const { writeFileAtomic } = await import('../../runtime/io/atomic-write.js');
    const model = results[0]!.model;
    await writeFileAtomic(opts.report, renderEvaluationReport(r, curves, notes, {
      labels: labelsPath, predictions: opts.pred, model: `${model.name} ${model.version}`, when: new Date().toISOString(), command: ['tosia', ...process.argv.slice(2)].join(' '),
    }));
    process.stderr.write(`tosia eval: wrote ${opts.report}\n`);
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return EXIT.OK;
  }
  const auc = (m: { value: number | null; ci95: [number, number] | null }) => `${m.value === null ? '–' : m.value.toFixed(3)}${ci(m.ci95, 1, 3)}`;
  const out = [
    `${r.n} recordings, ${r.positives} positive, ${r.abstained} abstained (no cough found)`,
    `ROC AUC ${auc(r.auc)}   PR AUC ${auc(r.pr_auc)}   (95 % intervals: stratified bootstrap)`,
    '',
    'operating point            sensitivity            specificity            PPV                    NPV',
  ];
  for (const [name, p] of [[`threshold ${r.threshold.value}`, r.threshold], [`sensitivity ≥ ${r.at_target_sensitivity.target} (${r.at_target_sensitivity.value.toFixed(3)})`, r.at_target_sensitivity]] as const) {
    out.push(`${name.padEnd(26)} ${(pct(p.sensitivity) + ci(p.sensitivity_ci95)).padEnd(22)} ${(pct(p.specificity) + ci(p.specificity_ci95)).padEnd(22)} ${(pct(p.ppv) + ci(p.ppv_ci95)).padEnd(22)} ${pct(p.npv)}${ci(p.npv_ci95)}`);
  }
  out.push(`at prevalence ${(r.at_prevalence.prevalence * 100).toFixed(1)} %: PPV ${pct(r.at_prevalence.ppv)}, NPV ${pct(r.at_prevalence.npv)}`);
  out.push(`calibration: expected calibration error ${r.calibration.ece === null ? '–' : r.calibration.ece.toFixed(3)} (10 bins)`);
  for (const [column, values] of Object.entries(r.groups)) {
    out.push('', `by ${column}:`);
    for (const [v, g] of Object.entries(values)) out.push(`  ${(v || '(empty)').padEnd(20)} n ${String(g.n).padStart(5)}  positive ${String(g.positives).padStart(5)}  AUC ${auc(g.auc).padEnd(22)} sens ${pct(g.sensitivity)}  spec ${pct(g.specificity)}`);
    const c = r.confound[column]!;
    out.push(`  ${column} alone: AUC ${c.group_only_auc === null ? '–' : c.group_only_auc.toFixed(3)}; the score tells the ${column}s apart with AUC ${c.score_as_group_auc === null ? '–' : c.score_as_group_auc.toFixed(3)}`);
    if (c.warning) out.push(`  WARNING: ${c.warning}`);
  }
  out.push('', `byte-identical recordings: ${r.duplicates.groups} group(s), ${r.duplicates.conflicting} with conflicting labels`);
  out.push(`quality flags: flagged n ${r.by_quality.flagged.n} AUC ${auc(r.by_quality.flagged.auc)}; clean n ${r.by_quality.clean.n} AUC ${auc(r.by_quality.clean.auc)}`);
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.OK;
}
