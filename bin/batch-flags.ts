import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { TosiaError } from '../algos/errors.js';
import type { BatchOptions } from '../runtime/batch/run-batch.js';
import type { Config } from '../runtime/config/schema.js';
import { INFERENCE_MODES, type InferenceMode } from '../runtime/engine/pool.js';
import { LOCK_FILE_NAME, TMP_DIR_NAME } from '../runtime/store/folder-store.js';
import { orList } from './handle-error.js';
import { PROGRESS_MODES, type ProgressMode } from './progress.js';
import { queueSettings } from './commands/worker.js';

/** The flags `tosia run --out` and `tosia watch` share, checked. */
export interface BatchFlags { outDir: string; concurrency: number | undefined; inference: InferenceMode; mode: ProgressMode; config: Config }

export function batchFlags(opts: Record<string, unknown>, cfg: Config): BatchFlags {
  const outDir = resolve(opts.out as string);
  const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new TosiaError('E_CONFIG', `--concurrency=${String(opts.concurrency)} must be an integer >= 1`, { stage: 'config' });
  }
  const inference = opts.inference as InferenceMode;
  if (!INFERENCE_MODES.includes(inference)) throw new TosiaError('E_CONFIG', `--inference=${String(opts.inference)} must be ${orList(INFERENCE_MODES)}`, { stage: 'config', hint: 'omit it to use per-worker' });
  const mode = opts.progress as ProgressMode;
  if (!PROGRESS_MODES.includes(mode)) throw new TosiaError('E_CONFIG', `--progress=${mode} must be ${orList(PROGRESS_MODES)}`, { stage: 'config' });
  const config = cfg.output.save_images ? { ...cfg, output: { ...cfg.output, save_images: outDir } } : cfg;
  return { outDir, concurrency, inference, mode, config };
}

/**
 * With --queue, the pool of remote workers a batch runs on. The same output folder on the same
 * machine is the same submitter, so a re-run takes the results that arrived meanwhile.
 */
export async function queuePool(opts: Record<string, unknown>, f: BatchFlags): Promise<BatchOptions['pool']> {
  if (opts.queue === undefined) return undefined;
  if (f.config.output.labels || f.config.output.save_images) throw new TosiaError('E_CONFIG', '--labels and --save-images are not available with --queue yet', { stage: 'queue', hint: 'run without --queue for them' });
  const { NatsPool } = await import('../server/index.js');
  const settings = queueSettings(opts);
  const submitter = createHash('sha256').update(`${hostname()}\n${f.outDir}`).digest('hex').slice(0, 16);
  return (identity) => new NatsPool({ url: opts.queue as string, config: f.config, identity, submitter, capacity: f.concurrency ?? 64, settings });
}

/**
 * First SIGINT/SIGTERM/SIGHUP (a closed terminal or ssh session): abort `controller`, so the
 * batch stops taking files, finishes those in flight and writes the tables.
 * Second: leave at once; atomic writes mean no partial result exists, and temp files go too.
 * Leaving is SIGINT's default action, re-raised: an exit through Node's teardown while a worker
 * thread is inside onnxruntime aborts the process (SIGABRT, about 1 run in 20); the kernel's
 * own end of the process does not, and the shell sees 130 all the same.
 * Returns the function that removes the handlers.
 */
export function stopOnSignals(controller: AbortController, outDir: string, first: string): () => void {
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      process.stderr.write(first);
      controller.abort();
    } else {
      rmSync(join(outDir, TMP_DIR_NAME), { recursive: true, force: true });
      rmSync(join(outDir, LOCK_FILE_NAME), { force: true });
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(s);
      process.kill(process.pid, 'SIGINT');
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  };
}
