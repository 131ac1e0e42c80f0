import { existsSync, readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { isAudioName } from '../io/inputs.js';
import { matchEvents, MATCH_DEFAULTS, type MatchOptions, type TimeSpan } from '../../algos/events/match.js';
import { TosiaError } from '../../algos/errors.js';
import { parseCsv } from '../io/csv.js';
import type { Result } from '../pipeline/result.js';

/** Events keyed by file basename. */
export type EventTable = Map<string, TimeSpan[]>;

export interface FileScore {
  file: string;
  truth: number;
  predicted: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  /** predicted − truth. */
  count_error: number;
}

export interface EvalReport {
  files: FileScore[];
  total: Omit<FileScore, 'file' | 'count_error'> & { files: number; mean_abs_count_error: number };
  options: MatchOptions;
  /** Files with truth but no prediction result (scored as all missed), and the reverse. */
  missing_predictions: string[];
  missing_truth: string[];
}

const key = (file: string) => basename(file);

function push(t: EventTable, file: string, span: TimeSpan | null): void {
  const k = key(file);
  if (!t.has(k)) t.set(k, []);
  if (span) t.get(k)!.push(span);
}

/**
 * Annotated cough events: a CSV with file, start, end columns (start_s/end_s also accepted), or
 * JSON: a list of {file, start, end}, an object {file: [{start, end}, ...]}, or a tosia sample
 * sidecar ({coughs: [{start_s, end_s}]}, keyed by the sidecar's audio file). A file listed with
 * no events (CSV row with empty start) has zero coughs.
 */
export async function readTruth(path: string): Promise<EventTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TosiaError('E_INPUT', `truth file cannot be read (${(e as NodeJS.ErrnoException).code})`, { file: path, stage: 'eval', hint: 'pass a CSV (file,start,end) or JSON of annotated events to --truth' });
  }
  const t: EventTable = new Map();
  const bad = (why: string) => new TosiaError('E_INPUT', `truth ${why}`, { file: path, stage: 'eval', hint: 'use a CSV with file,start,end columns (seconds), or JSON [{"file","start","end"}]' });
  const span = (s: unknown, e: unknown): TimeSpan | null => {
    if (s === '' || s === null || s === undefined) return null;
    const start = Number(s), end = Number(e);
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) throw bad(`has an invalid event [${String(s)}, ${String(e)}]`);
    return { start, end };
  };
  if (extname(path).toLowerCase() === '.json') {
    let j: unknown;
    try { j = JSON.parse(text); } catch (e) { throw bad(`is not valid JSON: ${(e as Error).message}`); }
    if (Array.isArray(j)) {
      for (const r of j as Record<string, unknown>[]) push(t, String(r.file ?? r.filename ?? ''), span(r.start ?? r.start_s, r.end ?? r.end_s));
    } else if (j && typeof j === 'object' && Array.isArray((j as { coughs?: unknown }).coughs)) {
      // a sample sidecar (x.json beside x.wav) names no file: it describes the audio file of its stem
      const stem = basename(path).replace(/\.json$/i, '');
      const audio = readdirSync(dirname(path)).find((f) => f !== basename(path) && isAudioName(f) && f.slice(0, f.length - extname(f).length) === stem) ?? stem;
      push(t, audio, null);
      for (const c of (j as { coughs: Record<string, unknown>[] }).coughs) push(t, audio, span(c.start_s ?? c.start, c.end_s ?? c.end));
    } else if (j && typeof j === 'object') {
      for (const [file, events] of Object.entries(j as Record<string, Record<string, unknown>[]>)) {
        push(t, file, null);
        for (const ev of events ?? []) push(t, file, span(ev.start ?? ev.start_s, ev.end ?? ev.end_s));
      }
    } else throw bad('JSON must be a list or an object');
  } else {
    const [header, ...rows] = parseCsv(text);
    const col = (...names: string[]) => header?.findIndex((h) => names.includes(h.trim().toLowerCase())) ?? -1;
    const fi = col('file', 'filename'), si = col('start', 'start_s'), ei = col('end', 'end_s');
    if (fi < 0 || si < 0 || ei < 0) throw bad(`CSV needs file, start and end columns (found ${header?.join(',')})`);
    for (const r of rows) if (r[fi]) push(t, r[fi]!, span(r[si], r[ei]));
  }
  return t;
}

/** Segments found by `tosia run`: a result JSON, a results.jsonl, or a --out folder. */
export async function readPredictions(path: string): Promise<EventTable> {
  const t: EventTable = new Map();
  for (const r of await readResults(path)) {
    push(t, r.source.path, null);
    for (const s of r.segments) push(t, r.source.path, { start: s.start_s, end: s.end_s });
  }
  return t;
}

/** The results of a tosia run: a result .json, a results.jsonl, a batch --out folder, or a folder of result files. */
export async function readResults(path: string): Promise<Result[]> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw new TosiaError('E_INPUT', 'predictions not found', { file: path, stage: 'eval', hint: 'pass the output of tosia run: a result .json, a results.jsonl or the --out folder', cause: e });
  }
  let results: Result[];
  let from = path;
  if (isDir && !existsSync(join(path, 'results.jsonl'))) {
    // a folder of result files (tosia run --json > x.json, one per recording), or a batch's
    // tree without its tables: every .json that is a tosia result, other JSON ignored
    results = [];
    for (const f of jsonFilesUnder(path)) {
      const r = parseResults(await readText(f), f, true)[0];
      if (r) results.push(r);
    }
    if (results.length === 0) throw new TosiaError('E_INPUT', 'the folder holds no results.jsonl and no tosia result .json file', { file: path, stage: 'eval', hint: 'pass the output of tosia run: a result .json, a results.jsonl or the --out folder' });
  } else {
    if (isDir) from = join(path, 'results.jsonl');
    results = parseResults(await readText(from), from, false);
  }
  return results;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new TosiaError('E_INPUT', `predictions cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, stage: 'eval', hint: 'check the path and its permissions' });
  }
}

/** Every .json file under `dir`, recursively, in name order. */
function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? jsonFilesUnder(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : []));
}

/** The results in a result .json or a results.jsonl; `lenient`: text that is not a result gives none instead of an error. */
function parseResults(text: string, file: string, lenient: boolean): Result[] {
  const results: Result[] = [];
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith('{') && !trimmed.includes('\n{')) results.push(JSON.parse(trimmed) as Result);
    else for (const line of trimmed.split('\n')) if (line.trim()) results.push(JSON.parse(line) as Result);
  } catch (e) {
    if (lenient) return [];
    throw new TosiaError('E_INPUT', `predictions are not tosia results: ${(e as Error).message}`, { file, stage: 'eval', hint: 'pass the output of tosia run --json or a batch --out folder' });
  }
  const ok = (r: Result) => typeof r?.source?.path === 'string' && Array.isArray(r.segments);
  if (lenient) return results.filter(ok);
  if (!results.every(ok)) throw new TosiaError('E_INPUT', 'predictions are not tosia results (no source.path / segments)', { file, stage: 'eval' });
  return results;
}

/** Event-based scores per file and in total (micro-averaged over all events). */
export function evaluate(truth: EventTable, pred: EventTable, options: Partial<MatchOptions> = {}): EvalReport {
  const o = { ...MATCH_DEFAULTS, ...options };
  const files: FileScore[] = [];
  let tp = 0, fp = 0, fn = 0, nt = 0, np = 0, absCount = 0;
  const names = [...truth.keys()].sort();
  for (const f of names) {
    const t = truth.get(f)!, p = pred.get(f) ?? [];
    const m = matchEvents(t, p, o);
    files.push({ file: f, truth: t.length, predicted: p.length, tp: m.truePositives, fp: m.falsePositives, fn: m.falseNegatives, precision: m.precision, recall: m.recall, f1: m.f1, count_error: p.length - t.length });
    tp += m.truePositives; fp += m.falsePositives; fn += m.falseNegatives; nt += t.length; np += p.length; absCount += Math.abs(p.length - t.length);
  }
  const precision = np === 0 ? 1 : tp / np;
  const recall = nt === 0 ? 1 : tp / nt;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return {
    files,
    total: { files: files.length, truth: nt, predicted: np, tp, fp, fn, precision, recall, f1, mean_abs_count_error: files.length ? absCount / files.length : 0 },
    options: o,
    missing_predictions: names.filter((f) => !pred.has(f)),
    missing_truth: [...pred.keys()].filter((f) => !truth.has(f)).sort(),
  };
}
