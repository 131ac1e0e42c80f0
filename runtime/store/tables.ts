import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TosiaError } from '../../algos/errors.js';
import { outputError } from '../io/atomic-write.js';
import { csvRow, parseCsv } from '../io/csv.js';
import type { Result } from '../pipeline/result.js';

/** One recording's lines of the tables (a failed one has only an `errors` line). */
export interface TableRows { jsonl?: string; results?: string; segments?: string; errors?: string }

const p = (l: string) => `p_${l}`;

function headers(labels: readonly string[]): TableRows {
  return {
    jsonl: '',
    errors: '',
    results: csvRow(['file', 'duration_s', 'sample_rate', 'channels', 'codec', 'n_segments', 'label', 'score', ...labels.map(p), 'quality_flags', 'clipped_fraction', 'snr_db', 'truncated_missing_s', 'corrupt_spans', 'model', 'model_sha256', 'config_sha256', 'source_sha256']),
    segments: csvRow(['file', 'segment', 'start_s', 'end_s', 'peak_s', 'label', ...labels.map(p), 'cough_score', 'excluded', 'rms', 'zcr', 'spectral_centroid_hz', 'spectral_flatness', 'duration_s']),
  };
}

/** A result's rows, with one probability column per label (the model's labels, in order). */
export function tableRows(r: Result, labels: readonly string[]): TableRows {
  const d = r.diagnosis;
  const q = r.quality;
  return {
    jsonl: JSON.stringify(r) + '\n',
    results: csvRow([r.source.path, r.source.duration_s, r.source.sample_rate, r.source.channels, r.source.codec, r.segments.length, d.label, d.score, ...labels.map((l) => d.probabilities[l]), q?.flags.join(' '), q?.clipped_fraction, q?.snr_db, q?.flags.includes('truncated') ? q.truncated_missing_s ?? 'unknown' : '', (q?.corrupt_spans ?? []).map((s) => `${s.start_s}-${s.end_s}`).join(' '), `${r.model.name} ${r.model.version}`, r.model.sha256, r.config_sha256, r.source.sha256]),
    segments: r.segments.map((s) => csvRow([r.source.path, s.index, s.start_s, s.end_s, s.peak_s, s.label, ...labels.map((l) => s.probabilities[l]), s.cough_score, s.excluded, s.features.rms, s.features.zcr, s.features.spectral_centroid_hz, s.features.spectral_flatness, s.features.duration_s])).join(''),
  };
}

type Table = keyof TableRows;
const TABLE_KEYS: readonly Table[] = ['jsonl', 'results', 'segments', 'errors'];
const FILE_OF: Record<Table, string> = { jsonl: 'results.jsonl', results: 'results.csv', segments: 'segments.csv', errors: 'errors.jsonl' };

/**
 * A FolderStore's results.jsonl, results.csv, segments.csv and errors.jsonl of one run, streamed as results arrive: each
 * table goes to a temp file in the run's temp folder and is renamed into place by `finish`, so
 * a reader never sees a half-written table. Rows are in completion order.
 */
export class TableWriter {
  private streams: Record<Table, WriteStream> | null = null;
  private failure: TosiaError | null = null;
  /** Rows that came before the model's labels (failures, which need none), written on opening. */
  private early: TableRows[] = [];
  private readonly temp: Record<Table, string>;
  /**
   * Rows not yet handed to the streams. A write per row and table was a system call each (a
   * seventh of a queue submitter's CPU); rows are gathered for a few milliseconds instead.
   */
  private pending: Record<Table, string[]> = { jsonl: [], results: [], segments: [], errors: [] };
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly outDir: string, private readonly tmpDir: string) {
    this.temp = Object.fromEntries(TABLE_KEYS.map((k) => [k, join(tmpDir, `.${FILE_OF[k]}.${process.pid}.tmp`)])) as Record<Table, string>;
  }

  /** Open the tables and write the CSV headers, once the model's labels are known. */
  open(labels: readonly string[]): void {
    if (this.streams) return;
    mkdirSync(this.tmpDir, { recursive: true });
    const open = (path: string) => {
      const s = createWriteStream(path);
      s.on('error', (e) => { this.failure ??= outputError(path, e); });
      return s;
    };
    this.streams = Object.fromEntries(TABLE_KEYS.map((k) => [k, open(this.temp[k])])) as Record<Table, WriteStream>;
    this.write(headers(labels));
    for (const rows of this.early) this.write(rows);
    this.early = [];
  }

  /** Append one recording's rows (buffered; `finish` waits for the disk). */
  write(rows: TableRows): void {
    if (this.failure) throw this.failure;
    if (!this.streams) {
      this.early.push(rows);
      return;
    }
    for (const k of TABLE_KEYS) {
      const row = rows[k];
      if (!row) continue;
      this.pending[k].push(row);
      this.pendingBytes += row.length;
    }
    if (this.pendingBytes >= 1 << 18) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), 5);
  }

  /** Hand the gathered rows to the streams, one write per table. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const s = this.streams;
    if (!s || this.pendingBytes === 0) return;
    for (const k of TABLE_KEYS) {
      if (this.pending[k].length > 0) s[k].write(this.pending[k].join(''));
      this.pending[k] = [];
    }
    this.pendingBytes = 0;
  }

  /** Resolves once every table has flushed its buffer: the engine waits for it before taking more files. */
  async drained(): Promise<void> {
    if (!this.streams) return;
    if (this.pendingBytes >= 1 << 18) this.flush();
    await Promise.all(Object.values(this.streams).map((s) => (s.writableNeedDrain ? new Promise<void>((ok) => { s.once('drain', ok); s.once('error', () => ok()); }) : undefined)));
  }

  /**
   * Append the rows of the tables now in the output folder whose file `keep` accepts: the results
   * and failures of earlier runs that this one did not touch. CSV rows come along with their
   * results.jsonl line, and only when the earlier table has this run's columns (the same model
   * labels). A re-run that touched every file parses no CSV.
   */
  async carryOver(labels: readonly string[], keep: (file: string) => boolean): Promise<void> {
    this.open(labels);
    const read = (t: Table) => readFile(join(this.outDir, FILE_OF[t]), 'utf8').catch(() => '');
    const carried = new Set<string>();
    for (const t of ['jsonl', 'errors'] as const) {
      // the file name is the line's first string field: read without parsing the whole line
      const field = t === 'jsonl' ? /"source":\{"path":("(?:[^"\\]|\\.)*")/ : /^\{"file":("(?:[^"\\]|\\.)*")/;
      for (const line of (await read(t)).split('\n')) {
        const m = field.exec(line);
        if (!m) continue;
        const file = JSON.parse(m[1]!) as string;
        if (!keep(file)) continue;
        this.write({ [t]: line + '\n' });
        if (t === 'jsonl') carried.add(file);
      }
    }
    if (carried.size === 0) return;
    const header = headers(labels);
    for (const t of ['results', 'segments'] as const) {
      const [head, ...rows] = parseCsv(await read(t));
      if (!head || csvRow(head) !== header[t]) continue;
      for (const row of rows) if (row[0] !== undefined && carried.has(row[0])) this.write({ [t]: csvRow(row) });
    }
  }

  /** Flush and move the tables into the output folder (empty tables with headers if no result). */
  async finish(labels: readonly string[]): Promise<void> {
    this.open(labels);
    this.flush();
    const s = this.streams!;
    for (const k of TABLE_KEYS) {
      await new Promise<void>((ok, bad) => s[k].end((e?: Error | null) => (e ? bad(e) : ok())));
    }
    if (this.failure) throw this.failure;
    for (const k of TABLE_KEYS) await rename(this.temp[k], join(this.outDir, FILE_OF[k]));
  }

  /** Close and delete the temp tables (an aborted run keeps the previous tables). */
  async discard(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.streams) for (const s of Object.values(this.streams)) s.destroy();
    await Promise.all(Object.values(this.temp).map((t) => rm(t, { force: true })));
  }
}
