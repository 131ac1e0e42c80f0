import { stat } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { TosiaError } from '../../algos/errors.js';
import { runBatch, type BatchOptions } from '../batch/run-batch.js';
import { ThreadPool, type Pool } from '../engine/pool.js';
import type { BatchEvent } from '../engine/scheduler.js';
import { isAudioName } from '../io/inputs.js';

export interface WatchOptions extends Omit<BatchOptions, 'force' | 'retryFailed' | 'hardSignal' | 'base'> {
  /**
   * Milliseconds a file's size must stay unchanged before it is read (chokidar's
   * awaitWriteFinish). A writer that pauses longer than this between chunks has its file read
   * early; the file is then run again once it changes, as any changed file is. Default 2000.
   */
  stableMs?: number;
  /** Poll the folder instead of using inotify: for network mounts, where no events arrive. */
  poll?: boolean;
  /** Hard abort: stop at once, as for a batch. */
  hardSignal?: AbortSignal;
}

/** What a watch reports: each round's batch events, and when the folder is being watched. */
export type WatchEvent =
  | BatchEvent
  | { type: 'watching'; dir: string; out_dir: string; time: string }
  | { type: 'stopped'; processed: number; failed: number; skipped: number; time: string };

/** New files are gathered this long after the first one arrives, so that a burst makes one round. */
const GATHER_MS = 200;

/**
 * `tosia watch`: runs every audio file in `dir` that is not up to date, then each new or changed
 * file once it has stopped growing, into the same output folder as `tosia run dir --out`. Work
 * goes in rounds: the files that arrived while the previous round ran make the next one, each a
 * batch with the batch's skip rule (same bytes, config and model: nothing is run twice, across
 * restarts too), its tables and errors.jsonl. One pool serves every round, so the model loads
 * once. An abort (SIGINT/SIGTERM) finishes the files in flight, writes the tables and stops.
 */
export async function* watchFolder(dir: string, o: WatchOptions): AsyncGenerator<WatchEvent, void> {
  const root = resolve(dir);
  const outDir = resolve(o.outDir);
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory()) throw new TosiaError('E_INPUT', st ? 'is not a folder' : 'folder does not exist', { file: dir, stage: 'input', hint: 'tosia watch takes a folder; run single files with tosia run' });
  const inside = (p: string, d: string) => p === d || p.startsWith(d + sep);
  if (inside(root, outDir)) throw new TosiaError('E_OUTPUT', 'the watched folder is inside the output folder', { file: outDir, stage: 'output', hint: 'choose an output folder outside the watched one' });

  const arrived = new Set<string>();
  let wake: (() => void) | null = null;
  const poke = () => { const w = wake; wake = null; w?.(); };
  o.signal?.addEventListener('abort', poke, { once: true });
  o.hardSignal?.addEventListener('abort', poke, { once: true });
  let watchError: Error | null = null;

  const watcher: FSWatcher = watch(root, {
    ignoreInitial: false,
    usePolling: Boolean(o.poll),
    interval: 500,
    awaitWriteFinish: { stabilityThreshold: o.stableMs ?? 2000, pollInterval: 100 },
    // the output folder may sit inside the watched one; hidden files are partial downloads and editors' temp files
    ignored: (p, s) => inside(resolve(p), outDir) || (p !== root && /(^|[/\\])\./.test(relative(root, p))) || (s?.isFile() === true && !isAudioName(p)),
  });
  const take = (p: string) => {
    if (!isAudioName(p)) return;
    arrived.add(resolve(p));
    poke();
  };
  watcher.on('add', take).on('change', take).on('error', (e) => { watchError = e as Error; poke(); });
  await new Promise<void>((r) => watcher.once('ready', () => r()));

  // one pool for every round: the batch closes its pool at the end of each, so it gets a view that keeps it open
  let pool: Pool | null = null;
  const keepOpen = (p: Pool): Pool => ({
    capacity: p.capacity,
    start: () => p.start(),
    run: (job) => p.run(job),
    stored: p.stored ? (job) => p.stored!(job) : undefined,
    unavailable: p.unavailable ? () => p.unavailable!() : undefined,
    close: async () => undefined,
  });
  const batchPool: BatchOptions['pool'] = (identity, concurrency) => {
    pool ??= o.pool?.(identity, concurrency) ?? new ThreadPool({ config: o.config, concurrency, inference: o.inference ?? 'per-worker' });
    return keepOpen(pool);
  };

  /** size and mtime of each file as last run: a change event that changed nothing runs nothing. */
  const ran = new Map<string, string>();
  const totals = { processed: 0, failed: 0, skipped: 0 };
  const stopping = () => o.signal?.aborted === true || o.hardSignal?.aborted === true;
  yield { type: 'watching', dir: root, out_dir: outDir, time: new Date().toISOString() };
  try {
    while (!stopping()) {
      if (watchError) throw new TosiaError('E_INPUT', `the folder cannot be watched: ${(watchError as Error).message}`, { file: dir, stage: 'input', hint: 'check the folder; on a network mount pass --poll' });
      if (arrived.size === 0) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      await new Promise((r) => setTimeout(r, GATHER_MS));
      const files: string[] = [];
      const signatures = new Map<string, string>();
      for (const f of [...arrived].sort()) {
        arrived.delete(f);
        const s = await stat(f).catch(() => null);
        if (!s?.isFile()) continue;
        const sig = `${s.size}:${s.mtimeMs}`;
        if (ran.get(f) === sig) continue;
        signatures.set(f, sig);
        files.push(f);
      }
      if (files.length === 0) continue;
      const round = runBatch(files, {
        ...o, outDir, base: dirname(root), pool: batchPool, force: false, retryFailed: false,
      });
      for await (const e of round) {
        if (e.type === 'file-done') {
          if (e.skipped) totals.skipped++;
          else totals.processed++;
        } else if (e.type === 'file-failed') totals.failed++;
        if (e.type === 'file-done' || e.type === 'file-failed') ran.set(e.file, signatures.get(e.file)!);
        yield e;
      }
    }
  } finally {
    await watcher.close();
    await (pool as Pool | null)?.close();
  }
  yield { type: 'stopped', ...totals, time: new Date().toISOString() };
}
