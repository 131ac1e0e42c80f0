import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { relative, resolve } from 'node:path';
import { TosiaError } from '../../algos/errors.js';
import { configHash, limitsHash } from '../config/identity.js';
import type { Config } from '../config/schema.js';
import { ThreadPool, type InferenceMode, type Pool } from '../engine/pool.js';
import { schedule, type BatchEvent, type RunSummary, type Schedule } from '../engine/scheduler.js';
import { inputSource } from '../engine/source.js';
import { sha256Hex } from '../io/sha256.js';
import { modelPathFor, tosiaVersion } from '../paths.js';
import { FolderStore } from '../store/folder-store.js';
import { commonDir, URL_FORM } from '../store/output-paths.js';
import type { Identity, StoreInput } from '../store/store.js';

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
   * Abort now: stop the workers, keep the previous tables and run.json, remove the temp files.
   * Every result already written stays (writes are atomic); the end event says interrupted.
   */
  hardSignal?: AbortSignal;
  /**
   * Where inference runs: 'per-worker' (default; each worker thread loads the model and
   * classifies its own files) or 'shared' (one inference thread batches the segments of several
   * files into one run). `make bench` measures both; per-worker is faster on the 2-core reference
   * machine.
   */
  inference?: InferenceMode;
  /**
   * The pool to run on instead of worker threads here: `tosia run --queue` passes one of remote
   * workers. It gets the batch's identity (what results must match) and concurrency.
   */
  pool?: (identity: Identity, concurrency: number) => Pool;
  /**
   * The folder results mirror paths relative to; default: the deepest folder holding every input
   * argument. `tosia watch` fixes it so that each round of new files lands where `tosia run` of
   * the whole folder would put it. For inputs from a source of objects, the URL prefix listed.
   */
  base?: string;
  /**
   * Inputs from elsewhere than this machine's files (objects listed in a container or bucket):
   * made with the retry's list of inputs to keep, counted once, then streamed.
   */
  source?: (only: ReadonlySet<string> | undefined) => { count(): Promise<number>; stream(): AsyncIterable<StoreInput> };
}

/**
 * The identity every result of this config and model file carries: what a stored result must
 * match to be reused. The model is identified by its file's sha256, read without loading it.
 */
export async function identityOf(cfg: Config): Promise<Identity> {
  const modelPath = modelPathFor(cfg);
  let modelBytes: Buffer;
  try {
    modelBytes = await readFile(modelPath);
  } catch (e) {
    throw new TosiaError('E_MODEL', 'model file does not exist or cannot be read', { file: modelPath, stage: 'model', hint: 'pass an existing .onnx to --model', cause: e });
  }
  return { config_sha256: configHash(cfg), limits_sha256: limitsHash(cfg), model_sha256: sha256Hex(modelBytes) };
}

/**
 * The batch behind `tosia run --out`: an input source, the scheduler, a ThreadPool and a
 * FolderStore, as an async iterator of progress events. Up-to-date results are skipped (same
 * input, config identity and model), the requested artifacts they lack are produced, and the
 * tables are moved into place at the end, or on abort, with errors.jsonl and run.json.
 */
export async function* runBatch(inputs: readonly string[], options: BatchOptions): AsyncGenerator<BatchEvent, RunSummary> {
  const t0 = performance.now();
  const started = new Date().toISOString();
  const cfg = options.config;
  const outDir = resolve(options.outDir);
  const base = options.base ? (URL_FORM.test(options.base) ? options.base : resolve(options.base)) : commonDir(inputs.filter((p) => existsSync(p)));
  const store = new FolderStore(outDir, base);
  await store.loadFailures();
  const only = options.retryFailed ? store.failedBefore() : undefined;
  const source = options.source?.(only) ?? inputSource(inputs, { outDir, include: options.include, exclude: options.exclude, only });
  const total = await source.count();
  const identity = await identityOf(cfg);
  await store.open();
  // from here the folder is locked: every way out (an error, a consumer that stops iterating)
  // goes through `finish` or `discard`
  let settled = false;
  try {
    const concurrency = Math.max(1, Math.min(options.concurrency ?? availableParallelism(), Math.max(1, total)));
    const wants = { images: Boolean(cfg.output.save_images), labels: cfg.output.labels };

    yield { type: 'start', total, out_dir: outDir, concurrency, time: started };

    const run = schedule({
      source: source.stream(), total, store, identity, wants, task: { kind: 'diagnose', images: wants.images },
      pool: () => options.pool?.(identity, concurrency) ?? new ThreadPool({ config: cfg, concurrency, inference: options.inference ?? 'per-worker' }),
      force: options.force, keepFailures: !options.retryFailed, signal: options.signal, hardSignal: options.hardSignal,
      onPoolStart: (m) => { if (m) store.setLabels(m.labels); },
    });
    let outcome: Schedule;
    for (;;) {
      const r = await run.next();
      if (r.done) { outcome = r.value; break; }
      yield r.value;
    }
    const { counts, model, outputBroken, aborted } = outcome;
    const wall = (performance.now() - t0) / 1000;
    const summary: RunSummary = {
      out_dir: outDir, ...counts, audio_s: Math.round(counts.audio_s * 1000) / 1000, wall_s: Math.round(wall * 1000) / 1000,
      realtime_factor: wall > 0 ? Math.round((counts.audio_s / wall) * 10) / 10 : 0,
    };
    if (aborted) {
      settled = true;
      await store.discard();
      yield { type: 'end', summary, time: new Date().toISOString() };
      return summary;
    }
    if (outputBroken) {
      // the hint that follows is the run's: the write error's own one is left out
      throw new TosiaError('E_OUTPUT', `stopped after ${counts.processed} results: ${outputBroken.message.replace(/\. Fix: [\s\S]*$/, '')}`, {
        file: outDir, stage: 'output', hint: 'free disk space or fix the output folder, then run the same command again to resume',
      });
    }
    const ended = new Date().toISOString();
    settled = true;
    await store.finish({
      tosia_version: tosiaVersion(), started_at: started, ended_at: ended, input_args: [...inputs],
      input_base: URL_FORM.test(base) ? base : relative(process.cwd(), base) || '.', config: cfg, config_sha256: identity.config_sha256,
      model: model ?? store.model ?? { path: modelPathFor(cfg), sha256: identity.model_sha256 }, model_path: modelPathFor(cfg), concurrency, ...summary,
    });
    yield { type: 'end', summary, time: ended };
    return summary;
  } finally {
    if (!settled) await store.discard();
  }
}
