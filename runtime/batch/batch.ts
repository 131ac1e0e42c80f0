import { existsSync, readFile as readFileCb } from 'node:fs';
import { promisify } from 'node:util';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { TosiaError } from '../../algos/errors.js';
import type { Config } from '../config/schema.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { sha256Hex } from '../io/sha256.js';
import { walkInputs, type InputFile } from '../io/inputs.js';
import { modelPathFor } from '../pipeline/model-cache.js';
import type { Result } from '../pipeline/result.js';
import { configHash } from '../pipeline/work-unit.js';
import { packageRoot, tosiaVersion } from '../paths.js';
import { commonDir, matchesPattern, resultPath } from './paths.js';
import type { ClassifierInfo } from './inference.js';
import type { InferenceWorkerMessage, Job, WorkerInit, WorkerMessage } from './protocol.js';
import { TableWriter, tableRows } from './tables.js';

export interface BatchOptions {
  config: Config;
  /** Output folder: per-recording JSON mirroring the inputs, tables, errors.jsonl, run.json. */
  outDir: string;
  /** Worker threads; default: the number of cores. */
  concurrency?: number;
  /** Reprocess every input even when its result is up to date. */
  force?: boolean;
  /** Process only the files listed in the previous run's errors.jsonl. */
  retryFailed?: boolean;
  /** Keep only inputs whose relative path (or basename) matches one of these patterns. */
  include?: string[];
  /** Drop inputs whose relative path (or basename) matches one of these patterns. */
  exclude?: string[];
  /** Abort: stop taking new files, finish the ones in flight, write the tables. */
  signal?: AbortSignal;
  /**
   * Where inference runs: 'per-worker' (default; each worker thread loads the model and
   * classifies its own files) or 'shared' (one inference thread batches the segments of several
   * files into one run). `make bench` measures both; per-worker is faster on the 2-core reference
   * machine.
   */
  inference?: InferenceMode;
}

export type InferenceMode = 'per-worker' | 'shared';
export const INFERENCE_MODES: readonly InferenceMode[] = ['per-worker', 'shared'];

export interface RunSummary {
  out_dir: string;
  inputs: number;
  processed: number;
  skipped: number;
  failed: number;
  /** Of the failed: earlier failures of unchanged inputs, not retried (--retry-failed retries them). */
  failed_unchanged: number;
  not_started: number;
  interrupted: boolean;
  audio_s: number;
  wall_s: number;
  realtime_factor: number;
}

export type BatchEvent =
  | { type: 'start'; total: number; out_dir: string; concurrency: number; time: string }
  | { type: 'file-done'; file: string; output: string; skipped: boolean; duration_s: number; n_segments: number; label: string; done: number; total: number; failed: number; audio_s: number; elapsed_s: number }
  | { type: 'file-failed'; file: string; code: string; stage?: string; message: string; skipped: boolean; done: number; total: number; failed: number; audio_s: number; elapsed_s: number }
  | { type: 'end'; summary: RunSummary; time: string };

export const TMP_DIR_NAME = '.tosia-tmp';
/** Inputs read ahead of the workers, with their up-to-date checks in flight. */
const LOOKAHEAD = 64;

// fs.readFile's callback form costs about half of fs/promises' for small files (one
// open-stat-read-close in the thread pool rather than a FileHandle's separate trips); a re-run
// reads two small files per input
const readSmall = promisify(readFileCb);

/** The result at `out` if it is up to date for this input, config and model. */
async function upToDate(out: string, file: string, configSha: string, modelSha: string): Promise<Result | null> {
  let r: Result;
  try {
    r = JSON.parse(await readSmall(out, 'utf8')) as Result;
  } catch {
    return null;
  }
  if (r.config_sha256 !== configSha || r.model?.sha256 !== modelSha) return null;
  try {
    return sha256Hex(await readSmall(file)) === r.source?.sha256 ? r : null;
  } catch {
    return null;
  }
}

/** A line of errors.jsonl. The sha256s say what failed, so an unchanged failure is not retried. */
export interface FailureRecord { file: string; stage?: string; code: string; message: string; sha256?: string; config_sha256?: string; model_sha256?: string }

/** Failures that the same bytes, config and model would repeat; anything else is retried. */
const DETERMINISTIC = new Set(['E_DECODE', 'E_INPUT']);

async function previousFailures(outDir: string): Promise<Map<string, FailureRecord>> {
  const map = new Map<string, FailureRecord>();
  try {
    for (const line of (await readFile(join(outDir, 'errors.jsonl'), 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as FailureRecord;
      map.set(resolve(rec.file), rec);
    }
  } catch {
    // no previous errors
  }
  return map;
}

/** The previous failure of `file` if it would only repeat: same input, config and model, and a deterministic error. */
async function unchangedFailure(rec: FailureRecord | undefined, file: string, configSha: string, modelSha: string): Promise<FailureRecord | null> {
  if (!rec || !DETERMINISTIC.has(rec.code) || !rec.sha256 || rec.config_sha256 !== configSha || rec.model_sha256 !== modelSha) return null;
  try {
    return sha256Hex(await readSmall(file)) === rec.sha256 ? rec : null;
  } catch {
    return null;
  }
}

interface Slot { worker: Worker; busy: Map<number, Job>; ready: Promise<void> }

/**
 * The batch engine behind `tosia run --out`: an async iterator of progress events over many
 * recordings. Files are spread across worker threads, each with its own model session; each
 * result is written atomically as it finishes; up-to-date results are skipped (same input,
 * config and model sha256). The tables stream this run's results (processed and skipped) into
 * temp files as they arrive and are moved into place at the end, or on abort, with errors.jsonl
 * and run.json. Dispatch happens only as the consumer pulls events and the tables keep up, so
 * memory stays bounded by the worker count and the read-ahead (LOOKAHEAD inputs), however many
 * files there are.
 */
export async function* runBatch(inputs: readonly string[], options: BatchOptions): AsyncGenerator<BatchEvent, RunSummary> {
  const t0 = performance.now();
  const started = new Date().toISOString();
  const cfg = options.config;
  const outDir = resolve(options.outDir);
  const tmpDir = join(outDir, TMP_DIR_NAME);
  const previous = await previousFailures(outDir);
  const failedBefore = options.retryFailed ? previous : null;
  const wanted = (f: InputFile) =>
    (!options.include?.length || options.include.some((p) => matchesPattern(f.rel, p) || matchesPattern(f.path, p))) &&
    !options.exclude?.some((p) => matchesPattern(f.rel, p) || matchesPattern(f.path, p)) &&
    (!failedBefore || failedBefore.has(resolve(f.path)));
  // The inputs are walked twice, never held: a first pass counts them (for the progress bar and
  // the ETA) and rejects inputs inside the output folder before any work; the second feeds the
  // workers as they free up.
  const inputStream = async function* () {
    for await (const f of walkInputs(inputs, [outDir])) if (wanted(f)) yield f;
  };
  let total = 0;
  for await (const f of inputStream()) {
    const abs = resolve(f.path);
    if (abs === outDir || abs.startsWith(outDir + '/')) throw new TosiaError('E_OUTPUT', `input ${f.path} is inside the output folder`, { stage: 'output', hint: 'choose an output folder outside the inputs' });
    total++;
  }
  await probeOutput(outDir, tmpDir);
  const base = commonDir(inputs.filter((p) => existsSync(p)));
  const configSha = configHash(cfg);
  const modelPath = modelPathFor(cfg);
  let modelBytes: Buffer;
  try {
    modelBytes = await readFile(modelPath);
  } catch {
    throw new TosiaError('E_MODEL', 'model file does not exist or cannot be read', { file: modelPath, stage: 'model', hint: 'pass an existing .onnx to --model' });
  }
  const modelSha = sha256Hex(modelBytes);
  const concurrency = Math.max(1, Math.min(options.concurrency ?? availableParallelism(), Math.max(1, total)));

  let done = 0, failedCount = 0, failedUnchanged = 0, processed = 0, skipped = 0, audio = 0;
  // tables stream as results arrive; their header waits for the model's labels
  const tables = new TableWriter(outDir, tmpDir);
  let labels: string[] | null = null;
  let modelInfo: { name: string; version: string; sha256: string; execution_provider: string } | null = null;
  const elapsed = () => (performance.now() - t0) / 1000;

  yield { type: 'start', total, out_dir: outDir, concurrency, time: started };

  // Worker pool, started on the first file that needs processing (a fully resumed run starts none).
  const slots: Slot[] = [];
  const events: BatchEvent[] = [];
  let wake: (() => void) | null = null;
  const notify = () => { const w = wake; wake = null; w?.(); };
  let fatal: TosiaError | null = null;
  // an output write failed: stop taking files, and report it once the in-flight ones are done
  let outputBroken: TosiaError | null = null;
  // next to this module when built; from sources (tests), the built worker
  const localWorker = fileURLToPath(new URL('./worker.js', import.meta.url));
  const workerFile = existsSync(localWorker) ? localWorker : join(packageRoot(), 'dist/runtime/batch/worker.js');
  const init: WorkerInit = { config: cfg, outDir, tmpDir };
  const jobs = new Map<number, { file: string; outFile: string }>();
  const shared = options.inference === 'shared';
  // each worker holds two files: the next one is already there when one ends (and with a shared
  // inference thread, one computes while the other waits for its inference)
  const depth = 2;
  let inference: { worker: Worker; info: ClassifierInfo } | null = null;
  const startInference = async () => {
    if (inference) return inference;
    const worker = new Worker(workerFile.replace(/worker\.js$/, 'inference-worker.js'), { workerData: { modelPath, device: cfg.classifier.device } });
    const info = await new Promise<ClassifierInfo>((ok, bad) => {
      worker.once('message', (m: InferenceWorkerMessage) => (m.type === 'ready' ? ok(m.info) : bad(new TosiaError(m.error.code as 'E_MODEL', m.error.message))));
      worker.once('error', (e) => bad(new TosiaError('E_INTERNAL', `inference thread failed to start: ${e.message}`)));
    });
    inference = { worker, info };
    return inference;
  };

  const onReply = (slot: Slot, m: WorkerMessage) => {
    if (m.type !== 'job') return;
    const job = jobs.get(m.id)!;
    jobs.delete(m.id);
    slot.busy.delete(m.id);
    done++;
    if (m.ok) {
      processed++;
      audio += m.duration_s;
      tables.write(m.rows);
      events.push({ type: 'file-done', file: job.file, output: job.outFile, skipped: false, duration_s: m.duration_s, n_segments: m.n_segments, label: m.label, done, total, failed: failedCount, audio_s: audio, elapsed_s: elapsed() });
    } else {
      failedCount++;
      if (m.error.code === 'E_OUTPUT') outputBroken ??= new TosiaError('E_OUTPUT', m.error.message, { stage: 'output' });
      const rec: FailureRecord = { file: job.file, stage: m.error.stage, code: m.error.code, message: m.error.message, sha256: m.sha256, config_sha256: configSha, model_sha256: modelSha };
      tables.write({ errors: JSON.stringify(rec) + '\n' });
      events.push({ type: 'file-failed', file: job.file, code: m.error.code, stage: m.error.stage, message: m.error.message, skipped: false, done, total, failed: failedCount, audio_s: audio, elapsed_s: elapsed() });
    }
    notify();
  };

  const spawn = async (): Promise<Slot> => {
    let worker: Worker;
    if (shared) {
      const { worker: server, info } = await startInference();
      const { port1, port2 } = new MessageChannel();
      server.postMessage({ type: 'port', port: port1 }, [port1]);
      worker = new Worker(workerFile, { workerData: { ...init, inference: { info, port: port2 } } satisfies WorkerInit, transferList: [port2] });
    } else {
      worker = new Worker(workerFile, { workerData: init });
    }
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    const slot: Slot = { worker, busy: new Map(), ready: new Promise<void>((a, b) => { readyResolve = a; readyReject = b; }) };
    slot.ready.catch(() => undefined);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        modelInfo ??= m.model;
        labels ??= m.labels;
        tables.open(labels);
        readyResolve();
      }
      else if (m.type === 'fatal') {
        fatal = new TosiaError(m.error.code as 'E_MODEL', m.error.message);
        readyReject(fatal);
        notify();
      } else onReply(slot, m);
    });
    worker.on('error', (e) => {
      // a crash fails the jobs it held; the slot is replaced on the next dispatch
      const held = [...slot.busy.values()];
      slots.splice(slots.indexOf(slot), 1);
      for (const job of held) onReply(slot, { type: 'job', id: job.id, ok: false, error: { code: 'E_INTERNAL', stage: 'worker', message: `worker crashed: ${e.message}` } });
      if (held.length === 0) { fatal ??= new TosiaError('E_INTERNAL', `worker failed to start: ${e.message}`); readyReject(fatal); notify(); }
    });
    slots.push(slot);
    return slot;
  };

  let nextId = 0;
  // the second walk, read a few files ahead, each with its up-to-date check already under way
  // (reading a result and hashing its input are I/O that overlaps; a re-run is mostly these)
  const stream = inputStream();
  const ahead: { f: InputFile; outFile: string; prev: Promise<Result | null>; failed: Promise<FailureRecord | null> }[] = [];
  let streamDone = false;
  const fill = async () => {
    while (!streamDone && ahead.length < LOOKAHEAD) {
      const r = await stream.next();
      if (r.done) { streamDone = true; break; }
      const outFile = resultPath(outDir, base, r.value.path);
      const keep = !options.force && !options.retryFailed;
      ahead.push({
        f: r.value, outFile,
        prev: options.force ? Promise.resolve(null) : upToDate(outFile, r.value.path, configSha, modelSha),
        failed: keep ? unchangedFailure(previous.get(resolve(r.value.path)), r.value.path, configSha, modelSha) : Promise.resolve(null),
      });
    }
  };
  const aborted = () => options.signal?.aborted === true || outputBroken !== null;
  options.signal?.addEventListener('abort', notify, { once: true });

  try {
    for (;;) {
      if (fatal) throw fatal;
      // hand files to idle workers (skipping up-to-date ones without a worker)
      while (!aborted()) {
        if (events.length > 0) break;
        await fill();
        if (ahead.length === 0) break;
        const { f, outFile } = ahead[0]!;
        const prev = await ahead[0]!.prev;
        if (prev) {
          ahead.shift();
          done++;
          skipped++;
          audio += prev.source.duration_s;
          modelInfo ??= { ...prev.model, execution_provider: prev.model.execution_provider };
          labels ??= prev.model.labels;
          tables.open(labels);
          tables.write(tableRows(prev, labels));
          events.push({ type: 'file-done', file: f.path, output: outFile, skipped: true, duration_s: prev.source.duration_s, n_segments: prev.segments.length, label: prev.diagnosis.label, done, total, failed: failedCount, audio_s: audio, elapsed_s: elapsed() });
          continue;
        }
        // a failure that would only repeat (same bytes, config and model) stays a failure
        // without a retry; --retry-failed or --force retries it
        const failedBefore = await ahead[0]!.failed;
        if (failedBefore) {
          ahead.shift();
          done++;
          failedCount++;
          failedUnchanged++;
          tables.write({ errors: JSON.stringify(failedBefore) + '\n' });
          events.push({ type: 'file-failed', file: f.path, code: failedBefore.code, stage: failedBefore.stage, message: failedBefore.message, skipped: true, done, total, failed: failedCount, audio_s: audio, elapsed_s: elapsed() });
          continue;
        }
        await tables.drained();
        // every worker starts at once: each takes about 0.3 s to load its model and warm up
        while (slots.length < concurrency) await spawn();
        // the least busy worker, so that files spread over every worker from the start
        const idle = slots.reduce<Slot | null>((best, s) => (s.busy.size < depth && (!best || s.busy.size < best.busy.size) ? s : best), null);
        if (!idle) break;
        await idle.ready;
        const job: Job = { id: nextId++, file: f.path, outFile };
        ahead.shift();
        idle.busy.set(job.id, job);
        jobs.set(job.id, { file: f.path, outFile });
        idle.worker.postMessage(job);
      }
      if (events.length > 0) {
        yield events.shift()!;
        continue;
      }
      if (jobs.size === 0 && ((streamDone && ahead.length === 0) || aborted())) break;
      await new Promise<void>((r) => { wake = r; });
    }
  } catch (e) {
    await tables.discard();
    throw e;
  } finally {
    await stream.return(undefined);
    // a worker still loading its model is let finish first: terminating a thread inside
    // onnxruntime's session creation aborts the process
    await Promise.all([
      ...slots.map((s) => s.ready.catch(() => undefined).then(() => s.worker.terminate())),
      (inference as { worker: Worker } | null)?.worker.terminate(),
    ]);
  }
  if (outputBroken) {
    await tables.discard();
    await rm(tmpDir, { recursive: true, force: true });
    throw new TosiaError('E_OUTPUT', `stopped after ${processed} results: ${(outputBroken as TosiaError).message}`, {
      file: outDir, stage: 'output', hint: 'free disk space or fix the output folder, then run the same command again to resume',
    });
  }

  // tables, errors and the run record, each moved or written atomically
  try {
    await tables.finish(labels ?? []);
  } catch (e) {
    await tables.discard();
    throw new TosiaError('E_OUTPUT', `cannot write the tables (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: outDir, stage: 'output', hint: 'free disk space or fix the output folder, then run the same command again to resume' });
  }
  const wall = elapsed();
  const summary: RunSummary = {
    out_dir: outDir, inputs: total, processed, skipped, failed: failedCount, failed_unchanged: failedUnchanged, not_started: total - done,
    interrupted: aborted(), audio_s: Math.round(audio * 1000) / 1000, wall_s: Math.round(wall * 1000) / 1000,
    realtime_factor: wall > 0 ? Math.round((audio / wall) * 10) / 10 : 0,
  };
  const run = {
    tosia_version: tosiaVersion(), started_at: started, ended_at: new Date().toISOString(), input_args: [...inputs],
    input_base: relative(process.cwd(), base) || '.', config: cfg, config_sha256: configSha,
    model: modelInfo ?? { path: modelPath, sha256: modelSha }, model_path: modelPath, concurrency, ...summary,
  };
  await writeFileAtomic(join(outDir, 'run.json'), JSON.stringify(run, null, 2) + '\n', tmpDir);
  await rm(tmpDir, { recursive: true, force: true });
  yield { type: 'end', summary, time: run.ended_at };
  return summary;
}

/** Fail early, with E_OUTPUT, when the output folder cannot be created or written. */
async function probeOutput(outDir: string, tmpDir: string): Promise<void> {
  const probe = join(tmpDir, `.probe.${process.pid}`);
  try {
    await mkdir(tmpDir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TosiaError('E_OUTPUT', `output folder cannot be written (${code ?? (e as Error).message})`, {
      file: outDir, stage: 'output', hint: code === 'ENOTDIR' || code === 'EEXIST' ? 'the path is a file; choose a folder' : 'choose a writable folder for --out',
    });
  }
}
