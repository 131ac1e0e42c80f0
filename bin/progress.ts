import type { BatchEvent, RunSummary } from '../runtime/engine/scheduler.js';
import { printable } from './handle-error.js';

/** What --progress takes for run and extract (validation, help and completion read this). */
export const PROGRESS_MODES = ['auto', 'bar', 'json', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}

/** Progress on stderr: a bar on a TTY, NDJSON events for scripts, or nothing. */
export class Progress {
  private mode: 'bar' | 'json' | 'none';
  private last = 0;

  constructor(mode: ProgressMode, private readonly out: NodeJS.WriteStream = process.stderr) {
    this.mode = mode === 'auto' ? (out.isTTY ? 'bar' : 'none') : mode;
    // a reader that goes away (`| head`) ends the progress, not the batch
    out.on('error', () => { this.mode = 'none'; });
  }

  event(e: BatchEvent): void {
    if (this.mode === 'json') {
      this.out.write(JSON.stringify(e) + '\n');
      return;
    }
    if (this.mode !== 'bar' || e.type === 'start' || e.type === 'end') return;
    const now = Date.now();
    if (now - this.last < 100 && e.done < e.total) return;
    this.last = now;
    const width = 24;
    const filled = e.total > 0 ? Math.round((e.done / e.total) * width) : width;
    const rate = e.elapsed_s > 0 ? e.done / e.elapsed_s : 0;
    const eta = rate > 0 ? (e.total - e.done) / rate : Infinity;
    const rtf = e.elapsed_s > 0 ? e.audio_s / e.elapsed_s : 0;
    this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total}  failed ${e.failed}  ${(e.audio_s / 3600).toFixed(2)} h audio  ${rtf.toFixed(0)}× real time  ETA ${clock(eta)} `);
  }

  finish(): void {
    if (this.mode === 'bar') this.out.write('\n');
  }
}

/** The one-screen summary printed at the end of a batch. */
export function renderSummary(s: RunSummary): string {
  return [
    `${s.interrupted ? 'Interrupted' : 'Done'}: ${s.inputs} inputs: ${s.processed} processed, ${s.skipped} up to date (skipped), ${s.failed} failed${s.failed_unchanged ? ` (${s.failed_unchanged} unchanged since they failed, not retried)` : ''}${s.not_started ? `, ${s.not_started} not started` : ''}`,
    `Audio ${(s.audio_s / 60).toFixed(1)} min in ${s.wall_s.toFixed(1)} s wall: ${s.realtime_factor}× real time`,
    `Results: ${printable(s.out_dir)}/ (per-recording JSON, results.jsonl, results.csv, segments.csv, run.json${s.failed ? ', errors.jsonl' : ''})`,
    ...(s.interrupted ? ['Run the same command again to finish the rest.'] : []),
    ...(s.failed ? ['Failed files are listed in errors.jsonl; --retry-failed processes only those (and retries unchanged ones).'] : []),
  ].join('\n') + '\n';
}
