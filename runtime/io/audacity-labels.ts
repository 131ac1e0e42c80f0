import type { Result } from '../pipeline/result.js';

/**
 * An Audacity label track (File > Import > Labels): one tab-separated line per segment with
 * start and end in seconds and a label with the segment's positive-class probability, so a
 * reviewer sees each segment over the waveform.
 */
export function audacityLabels(r: Result): string {
  const pos = r.diagnosis.positive_label;
  return r.segments
    .map((s) => {
      const p = s.probabilities[pos];
      const text = `#${s.index} ${s.label} ${pos}=${p === undefined ? '-' : p.toFixed(3)} cough=${s.cough_score.toFixed(2)}${s.excluded ? ' EXCLUDED' : ''}`;
      return `${s.start_s.toFixed(6)}\t${s.end_s.toFixed(6)}\t${text}`;
    })
    .join('\n') + (r.segments.length ? '\n' : '');
}
