import type { Result } from '../pipeline/result.js';

/**
 * Each recording's segments as label tracks that audio tools open over the recording: the file
 * each format writes beside a result (`<name>.json` → `<name><suffix>`), and its text.
 */
export type LabelFormat = 'audacity' | 'raven';

export const LABEL_TRACKS: Record<LabelFormat, { suffix: string; render: (r: Result) => string }> = {
  audacity: { suffix: '.labels.txt', render: audacityLabels },
  raven: { suffix: '.selections.txt', render: ravenSelectionTable },
};

/** The text a segment is labelled with in every format: its label, score and cough score. */
function segmentText(r: Result, s: Result['segments'][number]): { p: string; text: string } {
  const pos = r.diagnosis.positive_label;
  const p = s.probabilities[pos];
  const ps = p === undefined ? '-' : p.toFixed(3);
  return { p: ps, text: `#${s.index} ${s.label} ${pos}=${ps} cough=${s.cough_score.toFixed(2)}${s.excluded ? ' EXCLUDED' : ''}` };
}

/**
 * An Audacity label track (File > Import > Labels): one tab-separated line per segment with
 * start and end in seconds and a label with the segment's positive-class probability, so a
 * reviewer sees each segment over the waveform.
 */
export function audacityLabels(r: Result): string {
  return r.segments.map((s) => `${s.start_s.toFixed(6)}\t${s.end_s.toFixed(6)}\t${segmentText(r, s).text}`).join('\n') + (r.segments.length ? '\n' : '');
}

/**
 * A Raven selection table (File > Open Selection Table), the format BirdNET-Analyzer's users
 * review detections in: tab-separated, a header line, one selection per segment on the
 * spectrogram view spanning the recording's whole band, with tosia's figures as annotation
 * columns. A recording without a cough gets the header alone, which Raven opens as empty.
 */
export function ravenSelectionTable(r: Result): string {
  const pos = r.diagnosis.positive_label;
  const high = r.source.sample_rate ? r.source.sample_rate / 2 : 0;
  const header = ['Selection', 'View', 'Channel', 'Begin Time (s)', 'End Time (s)', 'Low Freq (Hz)', 'High Freq (Hz)', 'Label', `Score (${pos})`, 'Cough Score', 'Excluded', 'Annotation'];
  const clean = (t: string) => t.replace(/[\t\r\n]+/g, ' ');
  const rows = r.segments.map((s, i) => [
    String(i + 1), 'Spectrogram 1', '1', s.start_s.toFixed(6), s.end_s.toFixed(6), '0', String(high),
    clean(s.label), segmentText(r, s).p, s.cough_score.toFixed(4), s.excluded ? 'yes' : 'no', clean(segmentText(r, s).text),
  ].join('\t'));
  return [header.join('\t'), ...rows].join('\n') + '\n';
}
