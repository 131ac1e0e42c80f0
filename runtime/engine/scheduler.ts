import { TosiaError } from '../../algos/errors.js';
import { serializeError, stopsEveryOutput, toTosiaError } from '../errors.js';
import type { ArtifactRequest, FailureRecord, Identity, Lookup, ResultStore, StoreInput } from '../store/store.js';
import { failureRecord } from '../store/store.js';
import type { Job, JobOutcome, JobTask, ModelIdentity, Pool } from './pool.js';

/** Progress of a run, one event per input, in completion order. */
export type BatchEvent =
  | { type: 'start'; total: number; out_dir: string; concurrency: number; time: string }
  | { type: 'file-done'; file: string; output: string; skipped: boolean; duration_s: number; n_segments: number; label: string; /** How this run decoded it (absent when it was not decoded now). */ decoder?: 'native' | 'ffmpeg'; done: number; total: number; failed: number; audio_s: number; elapsed_s: number }
  | { type: 'file-failed'; file: string; code: string; stage?: string; message: string; skipped: boolean; done: number; total: number; failed: number; audio_s: number; elapsed_s: number }
  | { type: 'end'; summary: RunSummary; time: string };

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

/** What a scheduled run ends with: its counts, and the model the pool ran (null when none started). */
export interface Schedule {
  counts: Omit<RunSummary, 'out_dir' | 'wall_s' | 'realtime_factor'>;
  model: ModelIdentity | null;
  /** Set when a store write failed: the run stopped taking inputs. */
  outputBroken: TosiaError | null;
  /** The run was stopped by the hard abort. */
  aborted: boolean;
}

export interface ScheduleOptions {
  /** The inputs, streamed (an async generator never holds them all) or a plain list. */
  source: AsyncIterable<StoreInput> | Iterable<StoreInput>;
  /** How many the source yields (counted beforehand, for progress). */
  total: number;
  store: ResultStore;
  /** Made at the first input that needs computing: a run with everything stored starts no worker. */
  pool: () => Pool;
  /** What each job computes; a diagnosis asks for images when `wants.images` does. */
  task: JobTask;
  identity: Identity;
  wants: ArtifactRequest;
  /** Recompute every input, ignoring stored results and failures. */
  force?: boolean;
  /** Let an earlier failure of an unchanged input stand instead of running it again. Default true. */
  keepFailures?: boolean;
  /** Graceful abort: stop taking inputs, finish those in flight. */
  signal?: AbortSignal;
  /** Hard abort: stop at once; the jobs in flight are dropped (their inputs count as not started). */
  hardSignal?: AbortSignal;
  /** Called once the pool has started, with the model it runs. */
  onPoolStart?: (model: ModelIdentity | null) => void;
  /** Inputs read ahead of the pool, with their lookups in flight. Default 64. */
  lookahead?: number;
}

interface Ahead { input: StoreInput; lookup: Promise<Lookup> }

/**
 * The scheduler: inputs from a source become lookups in a store, then jobs on a pool, then
 * outcomes handed to the store, each reported as an event. The skip rule is the store's lookup,
 * read a few inputs ahead so that it overlaps with the work. Jobs are dispatched only as the
 * consumer pulls events and the store keeps up, so memory stays bounded by the pool's capacity
 * and the read-ahead, however many inputs there are.
 */
export async function* schedule(o: ScheduleOptions): AsyncGenerator<BatchEvent, Schedule> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const total = o.total;
  const keepFailures = (o.keepFailures ?? true) && !o.force;
  let done = 0, failedCount = 0, failedUnchanged = 0, processed = 0, skipped = 0, audio = 0;
  let model: ModelIdentity | null = null;
  let pool: Pool | null = null;
  let outputBroken: TosiaError | null = null;
  let fatal: TosiaError | null = null;
  const events: BatchEvent[] = [];
  let wake: (() => void) | null = null;
  const notify = () => { const w = wake; wake = null; w?.(); };
  let inFlight = 0;
  let nextId = 0;

  const ended = (input: StoreInput, e: { skipped: boolean; output: string; duration_s: number; n_segments: number; label: string; decoder?: 'native' | 'ffmpeg' }) => {
    done++;
    audio += e.duration_s;
    events.push({ type: 'file-done', file: input.path, ...e, done, total, failed: failedCount, audio_s: audio, elapsed_s: elapsed() });
  };
  const failed = async (input: StoreInput, rec: FailureRecord, unchanged: boolean) => {
    done++;
    failedCount++;
    if (unchanged) failedUnchanged++;
    try {
      await o.store.fail(input, rec);
    } catch (e) {
      broken(e);
    }
    events.push({ type: 'file-failed', file: input.path, code: rec.code, stage: rec.stage, message: rec.message, skipped: unchanged, done, total, failed: failedCount, audio_s: audio, elapsed_s: elapsed() });
  };
  const broken = (e: unknown) => {
    const err = toTosiaError(e);
    if (err.code === 'E_OUTPUT') outputBroken ??= err;
    else fatal ??= err;
  };

  /** A job's outcome, into the store; `kept` is a stored result that only lacked images. */
  const settle = async (input: StoreInput, outcome: JobOutcome, kept?: Extract<Lookup, { kind: 'done' }>) => {
    try {
      if (outcome.ok) {
        const s = await o.store.put(input, outcome.output, o.wants, { artifactsOnly: kept });
        if (!kept) processed++;
        else skipped++;
        ended(input, { skipped: Boolean(kept), ...s, ...(outcome.output.kind === 'diagnose' && !kept ? { decoder: outcome.output.result.source.decoder } : {}) });
      } else {
        await failed(input, failureRecord(input, outcome.error, o.identity, outcome.sha256), false);
      }
    } catch (e) {
      await storeFailed(input, e);
    }
  };

  /**
   * The store could not take an input's outcome. A write that fails for this input alone (a
   * name too long, say) fails the input; one that would fail every input (a full disk) also
   * stops the run. Either way the input is reported failed, so nothing is silently dropped.
   */
  const storeFailed = async (input: StoreInput, e: unknown) => {
    const err = toTosiaError(e);
    if (err.code !== 'E_OUTPUT' || stopsEveryOutput(err)) broken(err);
    await failed(input, failureRecord(input, serializeError(err), o.identity), false);
  };

  const capacity = () => (pool as Pool | null)?.capacity ?? Infinity;
  const startPool = async (): Promise<Pool> => {
    if (!pool) {
      pool = o.pool();
      model = await pool.start();
      o.onPoolStart?.(model);
    }
    return pool;
  };

  const dispatch = async (input: StoreInput, kept?: Extract<Lookup, { kind: 'done' }>) => {
    const p = await startPool();
    // an input that is no file here (an object of a bucket) is read by the pool, as it takes it
    const job: Job = { id: nextId++, input: input.read ? { stored: { sha256: input.sha256, store: null, read: input.read }, name: input.path } : { path: input.path }, task: o.task };
    inFlight++;
    p.run(job).then(
      // the pool hears when the outcome is stored: a queue acks its result message only then
      (outcome) => settle(input, outcome, kept).then(() => p.stored?.(job)),
      (e) => broken(e),
    ).finally(() => { inFlight--; notify(); });
  };

  const source: AsyncIterator<StoreInput> | Iterator<StoreInput> = Symbol.asyncIterator in o.source ? o.source[Symbol.asyncIterator]() : o.source[Symbol.iterator]();
  const ahead: Ahead[] = [];
  let sourceDone = false;
  const lookahead = o.lookahead ?? 64;
  const fill = async () => {
    while (!sourceDone && ahead.length < lookahead) {
      const r = await source.next();
      if (r.done) { sourceDone = true; break; }
      const lookup = o.force || r.value.unreadable ? Promise.resolve(null) : o.store.lookup(r.value, o.identity, o.wants, { failures: keepFailures });
      lookup.catch(() => undefined);
      ahead.push({ input: r.value, lookup });
    }
  };
  const hard = () => o.hardSignal?.aborted === true;
  const stopped = () => o.signal?.aborted === true || hard() || outputBroken !== null || fatal !== null;
  o.signal?.addEventListener('abort', notify, { once: true });
  o.hardSignal?.addEventListener('abort', notify, { once: true });

  try {
    for (;;) {
      if (fatal) throw fatal;
      while (!stopped() && events.length === 0) {
        await fill();
        if (ahead.length === 0) break;
        const next = ahead[0]!;
        if (next.input.unreadable) {
          ahead.shift();
          await failed(next.input, failureRecord(next.input, next.input.unreadable, o.identity), false);
          continue;
        }
        const found = await next.lookup;
        if (found?.kind === 'done' && !found.missingImages) {
          ahead.shift();
          try {
            const s = await o.store.reuse(next.input, found, o.wants);
            skipped++;
            ended(next.input, { skipped: true, ...s });
          } catch (e) {
            await storeFailed(next.input, e);
          }
          continue;
        }
        // a failure that would only repeat (same bytes, config, limits and model) stands
        if (found?.kind === 'failed') {
          ahead.shift();
          await failed(next.input, found.failure, true);
          continue;
        }
        await o.store.drained?.();
        if (inFlight >= capacity()) break;
        ahead.shift();
        try {
          await dispatch(next.input, found?.kind === 'done' ? found : undefined);
        } catch (e) {
          broken(e);
        }
      }
      if (hard()) break;
      if (events.length > 0) {
        yield events.shift()!;
        continue;
      }
      if (fatal) throw fatal;
      if (inFlight === 0 && ((sourceDone && ahead.length === 0) || stopped())) break;
      await new Promise<void>((r) => { wake = r; });
    }
  } finally {
    await source.return?.(undefined);
    await (pool as Pool | null)?.close();
  }
  return {
    counts: { inputs: total, processed, skipped, failed: failedCount, failed_unchanged: failedUnchanged, not_started: total - done, interrupted: stopped(), audio_s: audio },
    model,
    outputBroken,
    aborted: hard(),
  };
}
