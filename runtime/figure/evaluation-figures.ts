import type { EvalCurves, RecordingReport } from '../eval/recordings.js';
import { escapeHtml } from '../io/html.js';

/**
 * The evaluation's figures as standalone SVG (no script, no external reference): the ROC curve,
 * the precision–recall curve and the reliability diagram, each with its 95 % bootstrap band.
 * `tosia eval --report` puts them in its HTML; a notebook shows them as they are.
 */
export interface EvaluationFigures { roc: string; pr: string; calibration: string }

const W = 360, H = 360, M = { l: 48, r: 14, t: 30, b: 44 };
const PW = W - M.l - M.r, PH = H - M.t - M.b;
const X = (v: number) => (M.l + v * PW).toFixed(1);
const Y = (v: number) => (M.t + (1 - v) * PH).toFixed(1);
const BLUE = '#1f5fa8', BAND = '#9ec3ea', GREY = '#888';

function frame(title: string, xLabel: string, yLabel: string, body: string, desc: string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks.map((t) => `<line x1="${X(t)}" y1="${Y(0)}" x2="${X(t)}" y2="${Y(1)}" stroke="#eee"/><line x1="${X(0)}" y1="${Y(t)}" x2="${X(1)}" y2="${Y(t)}" stroke="#eee"/>`
    + `<text x="${X(t)}" y="${(M.t + PH + 16).toFixed(1)}" font-size="11" text-anchor="middle" fill="#333">${t}</text><text x="${(M.l - 6).toFixed(1)}" y="${(Number(Y(t)) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#333">${t}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(desc)}</title>`
    + `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>${grid}`
    + `<rect x="${X(0)}" y="${Y(1)}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`
    + `<text x="${W / 2}" y="18" font-size="13" text-anchor="middle" fill="#111">${escapeHtml(title)}</text>`
    + `<text x="${M.l + PW / 2}" y="${H - 8}" font-size="12" text-anchor="middle" fill="#111">${escapeHtml(xLabel)}</text>`
    + `<text x="14" y="${M.t + PH / 2}" font-size="12" text-anchor="middle" fill="#111" transform="rotate(-90 14 ${M.t + PH / 2})">${escapeHtml(yLabel)}</text>${body}</svg>`;
}

const path = (xs: ArrayLike<number>, ys: ArrayLike<number>) => {
  const pts: string[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!) && Number.isFinite(ys[i]!)) pts.push(`${X(xs[i]!)},${Y(ys[i]!)}`);
  return pts.join(' ');
};

function band(xs: readonly number[], lo: readonly number[], hi: readonly number[]): string {
  const up: string[] = [], down: string[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(lo[i]!) && Number.isFinite(hi[i]!)) { up.push(`${X(xs[i]!)},${Y(hi[i]!)}`); down.unshift(`${X(xs[i]!)},${Y(lo[i]!)}`); }
  return up.length ? `<polygon points="${[...up, ...down].join(' ')}" fill="${BAND}" fill-opacity="0.55" stroke="none"/>` : '';
}

const f3 = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const ci = (c: [number, number] | null) => (c ? ` (${c[0].toFixed(3)}–${c[1].toFixed(3)})` : '');

export function evaluationFigures(report: RecordingReport, curves: EvalCurves): EvaluationFigures {
  const pts = curves.points.filter((p) => Number.isFinite(p.fpr) && Number.isFinite(p.tpr)).map((p, i) => `<circle cx="${X(p.fpr)}" cy="${Y(p.tpr)}" r="4" fill="${i ? '#c0392b' : '#111'}"><title>${escapeHtml(p.name)}: sensitivity ${p.tpr.toFixed(3)}, specificity ${(1 - p.fpr).toFixed(3)}</title></circle>`
    // labelled on the side with room
    + `<text x="${(Number(X(p.fpr)) + (p.fpr > 0.6 ? -7 : 7)).toFixed(1)}" y="${(Number(Y(p.tpr)) + (i ? 14 : -6)).toFixed(1)}" font-size="10" text-anchor="${p.fpr > 0.6 ? 'end' : 'start'}" fill="${i ? '#c0392b' : '#111'}">${escapeHtml(p.name)}</text>`).join('');
  const roc = frame(`ROC, AUC ${f3(report.auc.value)}${ci(report.auc.ci95)}`, '1 − specificity', 'sensitivity',
    band(curves.roc.band.fpr, curves.roc.band.lo, curves.roc.band.hi)
    + `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="${GREY}" stroke-dasharray="4 4"/>`
    + `<polyline points="${path(curves.roc.fpr, curves.roc.tpr)}" fill="none" stroke="${BLUE}" stroke-width="2"/>${pts}`,
    `ROC curve of ${report.n} recordings with its 95 % bootstrap band; the dashed line is chance`);
  const base = report.n ? report.positives / report.n : 0;
  const pr = frame(`Precision–recall, AP ${f3(report.pr_auc.value)}${ci(report.pr_auc.ci95)}`, 'recall (sensitivity)', 'precision (PPV)',
    band(curves.pr.band.recall, curves.pr.band.lo, curves.pr.band.hi)
    + `<line x1="${X(0)}" y1="${Y(base)}" x2="${X(1)}" y2="${Y(base)}" stroke="${GREY}" stroke-dasharray="4 4"/>`
    + `<polyline points="${path(curves.pr.recall, curves.pr.precision)}" fill="none" stroke="${BLUE}" stroke-width="2"/>`,
    `precision against recall with its 95 % bootstrap band; the dashed line is the share of positives (${base.toFixed(3)})`);
  const bins = curves.calibration.filter((b) => b.n > 0 && b.mean_score !== null && b.positive_rate !== null);
  const bars = bins.map((b) => (b.ci95 ? `<line x1="${X(b.mean_score!)}" y1="${Y(b.ci95[0])}" x2="${X(b.mean_score!)}" y2="${Y(b.ci95[1])}" stroke="${BAND}" stroke-width="6"/>` : '')
    + `<circle cx="${X(b.mean_score!)}" cy="${Y(b.positive_rate!)}" r="${Math.min(9, 2.5 + Math.sqrt(b.n) / 3).toFixed(1)}" fill="${BLUE}" fill-opacity="0.8"><title>scores ${b.lo.toFixed(1)}–${b.hi.toFixed(1)}: ${b.n} recordings, mean score ${b.mean_score!.toFixed(3)}, positive ${(b.positive_rate! * 100).toFixed(1)} %</title></circle>`).join('');
  const calibration = frame(`Calibration, ECE ${f3(report.calibration.ece)}`, `mean score for ${curves.positive}`, 'share positive',
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="${GREY}" stroke-dasharray="4 4"/>${bars}`,
    'the share of positives against the mean score in ten bins (dot size: recordings; bars: Wilson 95 % intervals); the dashed line is perfect calibration');
  return { roc, pr, calibration };
}
