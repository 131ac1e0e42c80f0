import type { EvalCurves, EvalNotes, PointReport, RecordingReport } from '../eval/recordings.js';
import { evaluationFigures } from '../figure/evaluation-figures.js';
import { escapeHtml as e } from '../io/html.js';
import { DISCLAIMER } from '../pipeline/result.js';

/**
 * `tosia eval --report eval.html`: one self-contained file (inline SVG and CSS, no script, no
 * external reference) to mail or archive with the model: the curves with their bands, the
 * operating points, the groups, and the audits' findings in plain words.
 */

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const ci = (c: [number, number] | null, scale = 100, digits = 1) => (c ? ` <span class="ci">(${(c[0] * scale).toFixed(digits)}–${(c[1] * scale).toFixed(digits)})</span>` : '');
const num = (x: number | null, d = 3) => (x === null ? '–' : x.toFixed(d));

export interface EvaluationReportMeta { labels: string; predictions: string; model: string; when: string; command: string }

export function renderEvaluationReport(report: RecordingReport, curves: EvalCurves, notes: EvalNotes, meta: EvaluationReportMeta): string {
  const fig = evaluationFigures(report, curves);
  const row = (name: string, p: PointReport) => `<tr><th scope="row">${e(name)}</th><td>${num(p.value)}</td><td>${pct(p.sensitivity)}${ci(p.sensitivity_ci95)}</td><td>${pct(p.specificity)}${ci(p.specificity_ci95)}</td><td>${pct(p.ppv)}${ci(p.ppv_ci95)}</td><td>${pct(p.npv)}${ci(p.npv_ci95)}</td></tr>`;
  const groups = Object.entries(report.groups).map(([column, values]) => {
    const c = report.confound[column]!;
    const rows = Object.entries(values).map(([v, g]) => `<tr><th scope="row">${e(v || '(empty)')}</th><td>${g.n}</td><td>${g.positives}</td><td>${num(g.auc.value)}${ci(g.auc.ci95, 1, 3)}</td><td>${pct(g.sensitivity)}</td><td>${pct(g.specificity)}</td></tr>`).join('');
    const finding = c.warning
      ? `<p class="warn"><strong>Confound.</strong> ${e(c.warning)}.</p>`
      : `<p>${e(column)} alone predicts the label with AUC ${num(c.group_only_auc)}, below the model's interval: the model does more than recognise the ${e(column)}.</p>`;
    return `<h3>By ${e(column)}</h3><table><thead><tr><th scope="col">${e(column)}</th><th scope="col">n</th><th scope="col">positive</th><th scope="col">AUC</th><th scope="col">sensitivity</th><th scope="col">specificity</th></tr></thead><tbody>${rows}</tbody></table>`
      + `${finding}<p>The model's score tells the values of ${e(column)} apart with AUC ${num(c.score_as_group_auc)} (0.5: not at all).</p>`;
  }).join('');
  const d = report.duplicates;
  const dup = d.groups === 0
    ? '<p>No two evaluated recordings have the same bytes.</p>'
    : `<p${d.conflicting ? ' class="warn"' : ''}>${d.groups} group${d.groups === 1 ? '' : 's'} of byte-identical recordings among those evaluated; ${d.conflicting} of them carry both labels${d.conflicting ? ', so no model can get all of those right, and the labels themselves deserve a look' : ''}.</p>`;
  const q = report.by_quality;
  const noteList = notes.notes.length ? `<ul>${notes.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>tosia evaluation: ${e(meta.model)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#111}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:right}
th[scope=row],thead th:first-child{text-align:left}.ci{color:#555;font-size:.9em}
.figs{display:flex;flex-wrap:wrap;gap:1rem}.warn{background:#fff4e5;border-left:4px solid #e67e22;padding:.5rem .8rem}
.muted{color:#555;font-size:.9em}
</style></head><body>
<h1>Evaluation of ${e(meta.model)}</h1>
<p class="muted">${e(meta.when)} · labels ${e(meta.labels)} · results ${e(meta.predictions)}<br><code>${e(meta.command)}</code></p>
<p><strong>${report.n}</strong> recordings, <strong>${report.positives}</strong> positive for ${e(curves.positive)}, ${report.abstained} abstained (no cough found).
ROC AUC <strong>${num(report.auc.value)}</strong>${ci(report.auc.ci95, 1, 3)}, PR AUC (average precision) ${num(report.pr_auc.value)}${ci(report.pr_auc.ci95, 1, 3)}.
Intervals are 95 % from a stratified bootstrap.</p>
${noteList}
<div class="figs">${fig.roc}${fig.pr}${fig.calibration}</div>
<h2>Operating points</h2>
<table><thead><tr><th scope="col">point</th><th scope="col">threshold</th><th scope="col">sensitivity</th><th scope="col">specificity</th><th scope="col">PPV</th><th scope="col">NPV</th></tr></thead><tbody>
${row("the model's threshold", report.threshold)}${row(`sensitivity ≥ ${report.at_target_sensitivity.target}`, report.at_target_sensitivity)}
</tbody></table>
<p>At a prevalence of ${pct(report.at_prevalence.prevalence)}, the model's threshold gives PPV ${pct(report.at_prevalence.ppv)} and NPV ${pct(report.at_prevalence.npv)}.
Expected calibration error: ${num(report.calibration.ece)}.</p>
${groups ? `<h2>Groups and confounds</h2>${groups}` : ''}
<h2>Duplicates</h2>${dup}
<h2>Recording quality</h2>
<p>Recordings with a quality flag: ${q.flagged.n}, AUC ${num(q.flagged.auc.value)}${ci(q.flagged.auc.ci95, 1, 3)}; without: ${q.clean.n}, AUC ${num(q.clean.auc.value)}${ci(q.clean.auc.ci95, 1, 3)}.</p>
<p class="muted">${e(DISCLAIMER)}</p>
</body></html>
`;
}
