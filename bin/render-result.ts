import type { Result } from '../runtime/pipeline/result.js';
import { printable } from './handle-error.js';

const pct = (p: number | null | undefined) => (p === null || p === undefined ? '-' : p.toFixed(3));

/** A human summary of one result, for a terminal. */
export function renderResult(r: Result): string {
  const s = r.source;
  const lines: string[] = [];
  lines.push(printable(s.path));
  lines.push(`  ${s.duration_s.toFixed(2)} s, ${s.codec}${s.sample_rate ? ` ${s.sample_rate} Hz` : ''}${s.channels ? `, ${s.channels} ch` : ''}`);
  const pos = r.diagnosis.positive_label;
  if (r.segments.length === 0) {
    lines.push('  no cough found');
  } else {
    lines.push(`  ${r.segments.length} cough segment${r.segments.length === 1 ? '' : 's'}:`);
    lines.push(`    ${'#'.padStart(3)}  ${'start'.padStart(7)}  ${'end'.padStart(7)}  ${'peak'.padStart(7)}  ${pos.padStart(10)}  label`);
    for (const g of r.segments) {
      lines.push(`    ${String(g.index).padStart(3)}  ${g.start_s.toFixed(2).padStart(6)}s  ${g.end_s.toFixed(2).padStart(6)}s  ${g.peak_s.toFixed(2).padStart(6)}s  ${pct(g.probabilities[pos]).padStart(10)}  ${g.label}${g.excluded ? `  (excluded: ${g.exclude_reason})` : ''}`);
    }
  }
  const d = r.diagnosis;
  lines.push('');
  lines.push(d.label === 'no_cough'
    ? `  Diagnosis: no_cough (nothing to classify)`
    : `  Diagnosis: ${d.label}   (${pos} score ${pct(d.score)}, threshold ${d.threshold}, ${d.aggregate} of ${d.n_segments} segment${d.n_segments === 1 ? '' : 's'})`);
  lines.push(`  Model: ${r.model.name} ${r.model.version} on ${r.model.execution_provider}   Time: ${r.timings_ms.total.toFixed(0)} ms`);
  if (r.quality.flags.length) lines.push(`  Quality: ${r.quality.flags.join(', ')}${r.quality.snr_db !== null ? `   (SNR ~${r.quality.snr_db.toFixed(0)} dB)` : ''}`);
  for (const w of r.warnings) lines.push(`  warning: ${printable(w)}`);
  lines.push(`  ${r.disclaimer}`);
  return lines.join('\n') + '\n';
}
