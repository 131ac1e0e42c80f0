import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFile as readFileCb } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TosiaError } from '../../algos/errors.js';
import type { JobOutput } from '../engine/pool.js';
import { isInputFailure } from '../errors.js';
import { writeFileAtomic, writeFileAtomicSync } from '../io/atomic-write.js';
import { LABEL_TRACKS, type LabelFormat } from '../io/label-tracks.js';
import { sha256OfFile } from '../io/sha256.js';
import type { Result } from '../pipeline/result.js';
import { resultPath } from './output-paths.js';
import type { ArtifactRequest, FailureRecord, Identity, Lookup, ResultStore, Stored, StoreInput } from './store.js';
import { TableWriter, tableRows } from './tables.js';

export const TMP_DIR_NAME = '.tosia-tmp';
/** The output folder's lock: one run at a time writes into a folder. */
export const LOCK_FILE_NAME = '.tosia-lock';

// fs.readFile's callback form costs about half of fs/promises' for small files (one
// open-stat-read-close in the thread pool rather than a FileHandle's separate trips); a re-run
// reads every stored result
const readSmall = promisify(readFileCb);

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * A batch's output folder as a store:
 * - `<input path>.json`: each result, in a tree mirroring the inputs (see resultPath);
 * - `<input path>.labels.txt` and `<input path>.seg000.png`...: the artifacts asked for;
 * - results.jsonl, results.csv, segments.csv and errors.jsonl: every result and failure in the
 *   folder, this run's streamed to temp files as they come, earlier runs' carried over, moved
 *   into place by `finish`;
 * - `.tosia-lock` while a run writes;
 * - run.json, written by `finish`.
 * Every file is written atomically (temp file in the folder's temp folder, then rename).
 */
export class FolderStore implements ResultStore {
  readonly tmpDir: string;
  private readonly tables: TableWriter;
  private labels: string[] | null = null;
  /** The model named by the first result seen (a run that started no model reports it). */
  model: Result['model'] | null = null;
  private previous = new Map<string, FailureRecord>();
  /** Every input this run reported (absolute paths): the earlier tables' other rows are carried over. */
  private readonly seen = new Set<string>();

  /**
   * @param outDir the output folder.
   * @param base the folder holding every input argument: results mirror paths relative to it.
   */
  constructor(readonly outDir: string, private readonly base: string) {
    this.tmpDir = join(outDir, TMP_DIR_NAME);
    this.tables = new TableWriter(outDir, this.tmpDir);
  }

  /** Read the previous run's failures (errors.jsonl), for the skip rule and --retry-failed. */
  async loadFailures(): Promise<void> {
    this.previous = await previousFailures(this.outDir);
  }

  /**
   * Fail early, with E_OUTPUT, when the folder cannot be created or written, or when another
   * run holds it; then lock it.
   */
  async open(): Promise<void> {
    const probe = join(this.tmpDir, `.probe.${process.pid}`);
    try {
      await mkdir(this.tmpDir, { recursive: true });
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TosiaError('E_OUTPUT', `output folder cannot be written (${code ?? (e as Error).message})`, {
        file: this.outDir, stage: 'output', hint: code === 'ENOTDIR' || code === 'EEXIST' ? 'the path is a file; choose a folder' : 'choose a writable folder for --out',
      });
    }
    await this.lock();
  }

  private get lockFile(): string {
    return join(this.outDir, LOCK_FILE_NAME);
  }

  /**
   * Take the folder's lock: a file made exclusively, naming this process. A lock left by a
   * process of this host that no longer runs (a SIGKILL, a power cut) is taken over.
   */
  private async lock(): Promise<void> {
    const me = JSON.stringify({ pid: process.pid, host: hostname(), started_at: new Date().toISOString() }) + '\n';
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(this.lockFile, me, { flag: 'wx' });
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new TosiaError('E_OUTPUT', `cannot lock the output folder (${(e as NodeJS.ErrnoException).code})`, { file: this.outDir, stage: 'output', hint: 'choose a writable folder for --out' });
      }
      let holder: { pid?: number; host?: string; started_at?: string } = {};
      try { holder = JSON.parse(await readFile(this.lockFile, 'utf8')); } catch { /* unreadable: a holder that died while writing it (it is written in one call); removed below as stale */ }
      if (holder.host === hostname() && typeof holder.pid === 'number' && !alive(holder.pid)) {
        await rm(this.lockFile, { force: true });
        continue;
      }
      if (holder.pid === undefined) { await rm(this.lockFile, { force: true }); continue; }
      throw new TosiaError('E_OUTPUT', `the output folder is in use by another tosia run (pid ${holder.pid} on ${holder.host ?? 'an unknown host'}, started ${holder.started_at ?? 'at an unknown time'})`, {
        file: this.outDir, stage: 'output', hint: `wait for that run to end or stop it, or choose another --out; if no such run exists, remove ${this.lockFile}`,
      });
    }
    throw new TosiaError('E_OUTPUT', 'cannot lock the output folder: another run took it at the same moment', { file: this.outDir, stage: 'output', hint: 'run one batch per output folder' });
  }

  private async unlock(): Promise<void> {
    await rm(this.lockFile, { force: true });
  }

  /** The failures listed by the previous run's errors.jsonl, by absolute path. */
  failedBefore(): ReadonlySet<string> {
    return new Set(this.previous.keys());
  }

  /** Where an input's result goes. */
  resultFile(input: StoreInput): string {
    return resultPath(this.outDir, this.base, input.path);
  }

  /** The model's labels, for the tables' probability columns; known from the pool or from the first result. */
  setLabels(labels: readonly string[]): void {
    this.labels ??= [...labels];
    this.tables.open(this.labels);
  }

  async lookup(input: StoreInput, identity: Identity, wants: ArtifactRequest, options: { failures: boolean }): Promise<Lookup> {
    const out = this.resultFile(input);
    const found = await upToDate(out, input, identity);
    if (found) {
      const n = found.segments.length;
      const missingImages = wants.images && n > 0 && !(await exists(`${imagePrefix(out)}.seg${pad(n - 1)}.png`) && await exists(`${imagePrefix(out)}.seg000.png`));
      return { kind: 'done', result: found, stored: stored(out, found), missingImages };
    }
    if (!options.failures) return null;
    const failure = await unchangedFailure(this.previous.get(resolve(input.path)), input, identity);
    return failure ? { kind: 'failed', failure } : null;
  }

  async reuse(input: StoreInput, found: Extract<Lookup, { kind: 'done' }>, wants: ArtifactRequest): Promise<Stored> {
    this.seen.add(resolve(input.path));
    const out = this.resultFile(input);
    for (const f of wants.labels ?? []) {
      if (!(await exists(labelsFile(out, f)))) await writeFileAtomic(labelsFile(out, f), LABEL_TRACKS[f].render(found.result), this.tmpDir);
    }
    this.writeRows(found.result);
    return found.stored;
  }

  async put(input: StoreInput, output: JobOutput, wants: ArtifactRequest, options: { artifactsOnly?: Extract<Lookup, { kind: 'done' }> } = {}): Promise<Stored> {
    if (output.kind !== 'diagnose') throw new TosiaError('E_INTERNAL', `a FolderStore keeps diagnoses, not ${output.kind} output`, { stage: 'output' });
    this.seen.add(resolve(input.path));
    const out = this.resultFile(input);
    const prefix = imagePrefix(out);
    // the artifacts first, the result last: a result on disk means everything it lists is there
    if (wants.images) await Promise.all(output.images.map((png, i) => writeFileAtomic(`${prefix}.seg${pad(i)}.png`, png, this.tmpDir)));
    const kept = options.artifactsOnly;
    if (kept) return this.reuse(input, kept, wants);
    if (input.version !== undefined) output.result.source.version = input.version;
    // a few kB each: written directly, which costs the thread less than three trips through
    // libuv's thread pool would (the workers keep every core busy)
    for (const f of wants.labels ?? []) writeFileAtomicSync(labelsFile(out, f), LABEL_TRACKS[f].render(output.result), this.tmpDir);
    writeFileAtomicSync(out, JSON.stringify(output.result, null, 2) + '\n', this.tmpDir);
    this.writeRows(output.result);
    return stored(out, output.result);
  }

  /** Record a failure; a result stored for this input earlier no longer stands and goes, with its artifacts. */
  async fail(input: StoreInput, failure: FailureRecord): Promise<void> {
    this.seen.add(resolve(input.path));
    this.tables.write({ errors: JSON.stringify(failure) + '\n' });
    const out = this.resultFile(input);
    let stale: Result;
    try {
      stale = JSON.parse(await readSmall(out, 'utf8')) as Result;
    } catch {
      return; // nothing stored (the usual case), or nothing readable: no stale outputs of it to remove
    }
    await Promise.all([out, ...LABEL_FORMATS.map((f) => labelsFile(out, f)), ...(stale.segments ?? []).map((_, i) => `${imagePrefix(out)}.seg${pad(i)}.png`)].map((f) => rm(f, { force: true })));
  }

  drained(): Promise<void> {
    return this.tables.drained();
  }

  /**
   * Move the tables into place and write run.json; the temp folder goes. The tables describe
   * every result in the folder: rows of earlier runs for inputs this run did not report (a
   * --retry-failed run, another input folder) are carried over, unless their result is gone.
   */
  async finish(run: Record<string, unknown>): Promise<void> {
    try {
      const labels = this.labels ?? [];
      await this.tables.carryOver(labels, (file) => !this.seen.has(resolve(file)) && (this.previous.has(resolve(file)) || existsSync(this.resultFile({ path: file, rel: file }))));
      await this.tables.finish(labels);
    } catch (e) {
      await this.discard();
      throw new TosiaError('E_OUTPUT', `cannot write the tables (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: this.outDir, stage: 'output', hint: 'free disk space or fix the output folder, then run the same command again to resume' });
    }
    try {
      await writeFileAtomic(join(this.outDir, 'run.json'), JSON.stringify(run, null, 2) + '\n', this.tmpDir);
    } finally {
      await rm(this.tmpDir, { recursive: true, force: true });
      await this.unlock();
    }
  }

  /** Drop this run's temp tables (the previous tables stay) and the temp folder. */
  async discard(): Promise<void> {
    await this.tables.discard();
    await rm(this.tmpDir, { recursive: true, force: true });
    await this.unlock();
  }

  private writeRows(r: Result): void {
    this.model ??= r.model;
    if (!this.labels) this.setLabels(r.model.labels);
    this.tables.write(tableRows(r, this.labels!));
  }
}

/** Whether a process of this host runs under `pid`. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const pad = (i: number) => String(i).padStart(3, '0');
const imagePrefix = (out: string) => out.replace(/\.json$/, '');
const labelsFile = (out: string, format: LabelFormat) => out.replace(/\.json$/, LABEL_TRACKS[format].suffix);
const LABEL_FORMATS = Object.keys(LABEL_TRACKS) as LabelFormat[];
const stored = (output: string, r: Result): Stored => ({ output, duration_s: r.source.duration_s, n_segments: r.segments.length, label: r.diagnosis.label });

/** The result at `out` if it is up to date for this input, config and model. */
async function upToDate(out: string, input: StoreInput, identity: Identity): Promise<Result | null> {
  let r: Result;
  try {
    r = JSON.parse(await readSmall(out, 'utf8')) as Result;
  } catch {
    // no result there, or one that does not parse: not up to date, so the input runs again
    return null;
  }
  if (r.config_sha256 !== identity.config_sha256 || r.model?.sha256 !== identity.model_sha256) return null;
  // an object of a bucket is compared by its version, so a resumed batch reads only what changed
  if (input.version !== undefined) return r.source?.version === input.version ? r : null;
  return (await sha256OfFile(input.path)) === r.source?.sha256 ? r : null;
}

async function previousFailures(outDir: string): Promise<Map<string, FailureRecord>> {
  const map = new Map<string, FailureRecord>();
  let text = '';
  try {
    text = await readFile(join(outDir, 'errors.jsonl'), 'utf8');
  } catch {
    return map; // no earlier run failed (or its list is unreadable): at worst a failed input runs again
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as FailureRecord;
      map.set(resolve(rec.file), rec);
    } catch {
      // a damaged line is no reason to skip anything
    }
  }
  return map;
}

/**
 * The previous failure of `file` if it would only repeat: a property of the input (E_DECODE,
 * E_INPUT) under the same bytes, config, limits and model. A record without limits_sha256 (an
 * older tosia's) is retried.
 */
async function unchangedFailure(rec: FailureRecord | undefined, input: StoreInput, identity: Identity): Promise<FailureRecord | null> {
  if (!rec || !isInputFailure(rec.code) || !(rec.sha256 || rec.version)) return null;
  if (rec.config_sha256 !== identity.config_sha256 || rec.model_sha256 !== (identity.model_sha256 ?? undefined) || rec.limits_sha256 !== identity.limits_sha256) return null;
  if (input.version !== undefined) return rec.version === input.version ? rec : null;
  return rec.sha256 && (await sha256OfFile(input.path)) === rec.sha256 ? rec : null;
}
