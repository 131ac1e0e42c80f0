import { extname } from 'node:path';
import type { RecordingFigure } from '../figure/recording-figure.js';
import { escapeHtml } from '../io/html.js';
import type { Result } from '../pipeline/result.js';

/** One recording of a report: its result, its figure and its audio (each may be missing). */
export interface ReportEntry {
  result: Result;
  figure: RecordingFigure | null;
  audio: { bytes: Uint8Array; mime: string } | null;
  /** Why the figure or the audio is missing, shown in their place. */
  note?: string;
}

const esc = escapeHtml;

const MIME: Record<string, string> = { '.wav': 'audio/wav', '.mp3': 'audio/mpeg', '.ogg': 'audio/ogg', '.oga': 'audio/ogg', '.opus': 'audio/ogg', '.flac': 'audio/flac', '.m4a': 'audio/mp4', '.mp4': 'audio/mp4', '.aac': 'audio/aac', '.webm': 'audio/webm', '.weba': 'audio/webm' };

/** The MIME type a browser plays a recording under, from its name. */
export function audioMime(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Each quality flag in words. */
export function flagWords(r: Result): string[] {
  const q = r.quality;
  return q.flags.map((f) => {
    switch (f) {
      case 'clipped': return `clipped: ${(q.clipped_fraction * 100).toFixed(2)} % of samples at full scale`;
      case 'too_quiet': return `too quiet: peak ${q.peak_dbfs} dBFS`;
      case 'too_short': return `too short: ${r.source.duration_s.toFixed(2)} s`;
      case 'low_snr': return `low signal-to-noise: ${q.snr_db} dB`;
      case 'no_cough': return 'no cough found';
      case 'truncated': return `truncated: ${q.truncated_missing_s == null ? 'the end is missing (its length was not declared)' : `${q.truncated_missing_s} s missing at the end`}`;
      case 'corrupt': return `corrupt: damaged stretches dropped${q.corrupt_spans?.length ? ` at ${q.corrupt_spans.map((s) => `${s.start_s}–${s.end_s} s`).join(', ')}` : ''}`;
      default: return f;
    }
  });
}

const pct = (x: number | null | undefined) => (x == null ? '–' : x.toFixed(3));

function detail(e: ReportEntry, i: number): string {
  const r = e.result;
  const d = r.diagnosis;
  const labels = r.model.labels;
  const rows = r.segments.map((s) => `<tr data-index="${s.index}" tabindex="0"><td>${s.index}</td><td>${s.start_s.toFixed(2)}</td><td>${s.end_s.toFixed(2)}</td>${labels.map((l) => `<td>${pct(s.probabilities[l])}</td>`).join('')}<td>${pct(s.cough_score)}</td><td>${s.excluded ? `yes${s.exclude_reason ? `: ${esc(s.exclude_reason)}` : ''}` : ''}</td></tr>`).join('');
  const flags = flagWords(r);
  return `<section class="recording" id="rec-${i}" data-duration="${r.source.duration_s}">
<h2>${esc(r.source.path)}</h2>
<p class="verdict"><strong>${esc(d.label)}</strong>${d.score === null ? '' : ` · score ${d.score.toFixed(3)} (threshold ${d.threshold})`} · ${d.n_segments} segment${d.n_segments === 1 ? '' : 's'} · ${r.source.duration_s.toFixed(2)} s · ${esc(r.source.codec)}, ${r.source.sample_rate ?? '?'} Hz</p>
${e.audio ? `<audio controls preload="metadata" src="data:${e.audio.mime};base64,${Buffer.from(e.audio.bytes).toString('base64')}"></audio>` : ''}
${e.figure ? `<div class="figure">${e.figure.svg}</div>` : ''}
${e.note ? `<p class="note">${esc(e.note)}</p>` : ''}
${flags.length ? `<ul class="flags">${flags.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>` : '<p class="ok">No quality flags.</p>'}
${r.warnings.length ? `<details><summary>${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}</summary><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></details>` : ''}
<table class="segments"><thead><tr><th>#</th><th>start s</th><th>end s</th>${labels.map((l) => `<th>p(${esc(l)})</th>`).join('')}<th>cough score</th><th>excluded</th></tr></thead><tbody>${rows}</tbody></table>
<p class="identity">Model ${esc(r.model.name)} ${esc(r.model.version)} (sha256 ${esc(r.model.sha256.slice(0, 12))}) on ${esc(r.model.execution_provider)} · config ${esc(r.config_sha256.slice(0, 12))} · source sha256 ${esc(r.source.sha256.slice(0, 12))} · tosia ${esc(r.tosia_version)}</p>
<details><summary>Raw JSON</summary><pre>${esc(JSON.stringify(r, null, 2))}</pre></details>
<p class="disclaimer">${esc(r.disclaimer)}</p>
</section>`;
}

function summary(entries: ReportEntry[]): string {
  const byLabel = new Map<string, number>();
  const byFlag = new Map<string, number>();
  for (const e of entries) {
    byLabel.set(e.result.diagnosis.label, (byLabel.get(e.result.diagnosis.label) ?? 0) + 1);
    for (const f of e.result.quality.flags) byFlag.set(f, (byFlag.get(f) ?? 0) + 1);
  }
  // the worst quality first: most flags, then the lowest signal-to-noise
  const worst = entries.map((e, i) => ({ e, i })).filter(({ e }) => e.result.quality.flags.length > 0)
    .sort((a, b) => b.e.result.quality.flags.length - a.e.result.quality.flags.length || (a.e.result.quality.snr_db ?? -Infinity) - (b.e.result.quality.snr_db ?? -Infinity)).slice(0, 20);
  const list = entries.map((e, i) => `<li><a href="#rec-${i}">${esc(e.result.source.path)}</a> · ${esc(e.result.diagnosis.label)}${e.result.diagnosis.score === null ? '' : ` ${e.result.diagnosis.score.toFixed(3)}`}${e.result.quality.flags.length ? ` · ${esc(e.result.quality.flags.join(' '))}` : ''}</li>`).join('');
  return `<section class="summary"><h2>${entries.length} recordings</h2>
<table><thead><tr><th>label</th><th>recordings</th></tr></thead><tbody>${[...byLabel].sort((a, b) => b[1] - a[1]).map(([l, n]) => `<tr><td>${esc(l)}</td><td>${n}</td></tr>`).join('')}</tbody></table>
${byFlag.size ? `<table><thead><tr><th>quality flag</th><th>recordings</th></tr></thead><tbody>${[...byFlag].sort((a, b) => b[1] - a[1]).map(([f, n]) => `<tr><td>${esc(f)}</td><td>${n}</td></tr>`).join('')}</tbody></table>` : '<p>No quality flags.</p>'}
${worst.length ? `<h3>Worst quality</h3><ol>${worst.map(({ e, i }) => `<li><a href="#rec-${i}">${esc(e.result.source.path)}</a>: ${esc(flagWords(e.result).join('; '))}</li>`).join('')}</ol>` : ''}
<h3>All recordings</h3><ul class="all">${list}</ul></section>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:1260px;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.15rem;word-break:break-all}section{border-top:1px solid #ddd;padding:1rem 0}
.figure{overflow-x:auto}.figure svg{max-width:100%;height:auto}.seg{cursor:pointer}.seg.hot{fill-opacity:.35}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}th{background:#f4f4f4}
tr.hot{background:#fff3c4}audio{width:100%;max-width:600px;display:block;margin:.5rem 0}.flags li{color:#9a3412}
.identity,.disclaimer,.note{color:#555;font-size:12px}pre{max-height:24rem;overflow:auto;background:#f7f7f7;padding:.5rem}`;

/** Clicking a box plays exactly that segment; the playhead follows the audio; a table row and its box light up together. */
const SCRIPT = `for (const sec of document.querySelectorAll('section.recording')) {
  const audio = sec.querySelector('audio'), svg = sec.querySelector('svg'), head = svg && svg.querySelector('.playhead');
  const dur = Number(sec.dataset.duration), width = svg ? svg.viewBox.baseVal.width : 0;
  let stopAt = null;
  const play = (a, b) => { if (!audio) return; audio.currentTime = a; stopAt = b; audio.play(); };
  const light = (i, on) => sec.querySelectorAll('[data-index="' + i + '"]').forEach((el) => el.classList.toggle('hot', on));
  sec.querySelectorAll('rect.seg').forEach((r) => r.addEventListener('click', () => play(Number(r.dataset.start), Number(r.dataset.end))));
  sec.querySelectorAll('tbody tr[data-index]').forEach((row) => {
    const i = row.dataset.index, rect = sec.querySelector('rect.seg[data-index="' + i + '"]');
    row.addEventListener('mouseenter', () => light(i, true)); row.addEventListener('mouseleave', () => light(i, false));
    row.addEventListener('focus', () => light(i, true)); row.addEventListener('blur', () => light(i, false));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter' && rect) play(Number(rect.dataset.start), Number(rect.dataset.end)); });
  });
  if (audio) audio.addEventListener('timeupdate', () => {
    if (stopAt !== null && audio.currentTime >= stopAt) { audio.pause(); stopAt = null; }
    if (head) { const x = (audio.currentTime / dur) * width; head.setAttribute('x1', x); head.setAttribute('x2', x); head.setAttribute('visibility', 'visible'); }
  });
}`;

/**
 * One self-contained HTML file: for a batch a summary first (counts by label and flag, the worst
 * recordings, a link to each), then each recording's detail (verdict, audio, figure, quality
 * flags in words, segments, identity, raw JSON). Images and audio are embedded: it can be mailed
 * or archived as it is.
 */
export function renderReport(given: ReportEntry[], options: { title?: string } = {}): string {
  const entries = given.map((e) => ({ ...e, result: withNumbers(e.result) }));
  const title = options.title ?? (entries.length === 1 ? `tosia: ${entries[0]!.result.source.path}` : `tosia: ${entries.length} recordings`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><h1>${esc(title)}</h1>
${entries.length > 1 ? summary(entries) : ''}
${entries.map(detail).join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * A result whose numeric fields are numbers, whatever the file said: a crafted result.json (a
 * served record, say) may put markup where a number belongs, and numbers are written into the
 * report as they are. A non-number becomes NaN, which renders as "NaN".
 */
export function withNumbers(r: Result): Result {
  const q = r.quality ?? ({} as Result['quality']);
  const probs = (p: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(p ?? {}).map(([k, v]) => [k, num(v)]));
  return {
    ...r,
    source: { ...r.source, duration_s: num(r.source.duration_s), sample_rate: numOrNull(r.source.sample_rate), channels: numOrNull(r.source.channels) },
    diagnosis: { ...r.diagnosis, score: numOrNull(r.diagnosis.score), threshold: num(r.diagnosis.threshold), n_segments: num(r.diagnosis.n_segments), probabilities: probs(r.diagnosis.probabilities) },
    quality: {
      ...q, clipped_fraction: num(q.clipped_fraction), peak_dbfs: num(q.peak_dbfs), snr_db: numOrNull(q.snr_db),
      ...(q.truncated_missing_s !== undefined ? { truncated_missing_s: numOrNull(q.truncated_missing_s) } : {}),
      ...(q.corrupt_spans ? { corrupt_spans: q.corrupt_spans.map((c) => ({ start_s: num(c.start_s), end_s: num(c.end_s) })) } : {}),
      flags: Array.isArray(q.flags) ? q.flags.map(String) : [],
    },
    segments: (r.segments ?? []).map((g) => ({ ...g, index: num(g.index), start_s: num(g.start_s), end_s: num(g.end_s), peak_s: num(g.peak_s), cough_score: numOrNull(g.cough_score) as number, probabilities: probs(g.probabilities) })),
  };
}
