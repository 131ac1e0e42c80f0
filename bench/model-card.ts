import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { evaluateRecordings, type LabelTable, type RecordingReport } from '../runtime/eval/recordings.js';
import { readResults } from '../runtime/eval/eval.js';
import { renderEvaluationReport } from '../runtime/report/evaluation-report.js';
import { packageRoot } from '../runtime/paths.js';

/**
 * The demo model's card figures, made by `tosia eval` (make model-card): the shipped model run on
 * the validation split it never saw (models/tosia-cough-demo.split.json), evaluated per source
 * with the confound audit and the duplicates. Writes models/tosia-cough-demo.eval.json and .html
 * and prints the card's table; test/models/model-card.test.ts holds the card to these numbers.
 */

export const CARD_OPTIONS = { groupBy: ['source'], seed: 20261123, resamples: 2000 } as const;

/** The validation split's recordings, labelled from covid19-cough's metadata.json. */
export function validationLabels(coughDir: string): { labels: LabelTable; files: string[] } {
  const split = JSON.parse(readFileSync(join(packageRoot(), 'models/tosia-cough-demo.split.json'), 'utf8')) as { parts: { val: { file: string }[] } };
  const meta = JSON.parse(readFileSync(join(coughDir, 'metadata.json'), 'utf8')) as Record<string, unknown>[];
  const byName = new Map(meta.map((m) => [basename(String(m.filename)), m]));
  const labels: LabelTable = new Map();
  const files: string[] = [];
  for (const { file } of split.parts.val) {
    const m = byName.get(basename(file));
    if (!m) throw new Error(`${file} of the validation split is not in ${coughDir}/metadata.json`);
    labels.set(basename(file), { value: m.covid19, columns: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === null ? '' : String(v)])) });
    files.push(join(coughDir, 'raw', basename(file)));
  }
  return { labels, files };
}

/** Run the shipped model on the validation split with the built CLI and evaluate it. */
export async function evaluateDemoModel(coughDir: string): Promise<{ report: RecordingReport; html: string }> {
  const { labels, files } = validationLabels(coughDir);
  const out = mkdtempSync(join(tmpdir(), 'tosia-model-card-'));
  try {
    // a child process awaited, not a synchronous one: a test calling this keeps its event loop
    const { code, signal, stderr } = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((done) => {
      const p = spawn(process.execPath, [join(packageRoot(), 'dist/bin/tosia.js'), 'run', ...files, '--out', out, '--progress', 'none'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      p.on('close', (c, sig) => done({ code: c, signal: sig, stderr: err }));
    });
    if (code !== 0 && code !== 1) throw new Error(`tosia run ${signal ? `was killed by ${signal}` : `exited ${code}`}: ${stderr}`);
    const results = await readResults(out);
    const { report, notes, curves } = evaluateRecordings(labels, results, CARD_OPTIONS);
    const model = results[0]!.model;
    const html = renderEvaluationReport(report, curves, notes, {
      labels: 'covid19-cough metadata.json, validation split of models/tosia-cough-demo.split.json', predictions: `tosia run on those ${files.length} recordings`,
      model: `${model.name} ${model.version}`, when: new Date().toISOString(), command: 'make model-card',
    });
    return { report, html };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const f3 = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const ci = (c: [number, number] | null) => (c ? ` (${c[0].toFixed(3)}–${c[1].toFixed(3)})` : '');

/** The card's results table, as models/README.md holds it. */
export function cardTable(r: RecordingReport): string {
  const rows = [
    `| overall | ${r.n} | ${r.positives} | **${f3(r.auc.value)}**${ci(r.auc.ci95)} | ${f3(r.threshold.sensitivity)} | ${f3(r.threshold.specificity)} |`,
    ...Object.entries(r.groups.source ?? {}).map(([v, g]) => `| ${v} | ${g.n} | ${g.positives} | ${f3(g.auc.value)}${ci(g.auc.ci95)} | ${f3(g.sensitivity)} | ${f3(g.specificity)} |`),
  ];
  return ['| subset | recordings | positive | ROC-AUC (95 % CI) | sensitivity | specificity |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(packageRoot(), 'dist/bench/model-card.js')) {
  const coughDir = resolve(process.env.COUGH_DATA ?? join(packageRoot(), '../shared/data/covid19-cough'));
  const { report, html } = await evaluateDemoModel(coughDir);
  writeFileSync(join(packageRoot(), 'models/tosia-cough-demo.eval.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(packageRoot(), 'models/tosia-cough-demo.eval.html'), html);
  const c = report.confound.source!;
  process.stdout.write(`${cardTable(report)}\n\nsource alone: AUC ${f3(c.group_only_auc)}; the score as a source detector: AUC ${f3(c.score_as_group_auc)}${c.warning ? `\nwarning: ${c.warning}` : ''}\nduplicates: ${report.duplicates.groups} group(s), ${report.duplicates.conflicting} conflicting\nwrote models/tosia-cough-demo.eval.json and .html\n`);
}
