import { serializeError, type Pool, type Result } from '../../runtime/index.js';
import type { AudioStore } from '../audio-store/audio-store.js';
import { readRecording } from '../audio-store/read-recording.js';
import type { RecordStore, Row } from '../db/record-store.js';
import { Admission } from './admission.js';

/**
 * The server's queue: records waiting to run, in arrival order, handed to the engine's pool
 * (worker threads, never the HTTP event loop) with no more in flight than the pool takes.
 * The database is the truth: a record is claimed (queued → running) before it runs, and one
 * left queued or running by a stopped server is queued again at the next start.
 */

export interface DispatcherEvents {
  /** A record with a callback_url finished (done or failed); its row as stored. */
  finished?(row: Row): void;
  /** Stage timings of a finished result. */
  timings?(result: Result): void;
}

/** What a dispatcher runs records with and tells about them. */
export interface DispatcherOptions {
  pool: Pool;
  records: RecordStore;
  audio: AudioStore;
  now: () => Date;
  /** Records waiting before uploads are refused (503). */
  maxQueue: number;
  events: DispatcherEvents;
  log: (msg: string, extra: Record<string, unknown>) => void;
}

export class Dispatcher extends Admission {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Jobs the pool holds: the pool's capacity bounds this, not the records still being stored. */
  private inPool = 0;
  private readonly idle = new Set<() => void>();
  private jobSeq = 0;
  private poolError: Error | null = null;

  private readonly pool: Pool;
  private readonly records: RecordStore;
  private readonly audio: AudioStore;
  private readonly now: () => Date;
  private readonly events: DispatcherEvents;
  private readonly log: DispatcherOptions['log'];

  constructor(o: DispatcherOptions) {
    super(o.maxQueue);
    ({ pool: this.pool, records: this.records, audio: this.audio, now: this.now, events: this.events, log: this.log } = o);
  }

  /** Records waiting, not yet handed to the pool. */
  get depth(): number {
    return this.queue.length;
  }

  /** Recordings the pool is running. */
  get busy(): number {
    return this.inPool;
  }

  /** The error that stopped the pool (a model that no longer loads), if any. */
  get failure(): Error | null {
    return this.poolError;
  }

  enqueue(id: string): void {
    if (this.queued.has(id) || this.running.has(id)) return;
    this.queued.add(id);
    this.queue.push(id);
    this.pump();
  }

  /** Resolves when the record finishes or after `ms`, whichever is first. */
  waitFor(id: string, ms: number): Promise<void> {
    if (ms <= 0 || (!this.queued.has(id) && !this.running.has(id))) return Promise.resolve();
    return this.wait(id, ms);
  }

  /**
   * Stop taking work and let what is running finish. Records still queued stay queued in the
   * database and run at the next start; requests waiting on them get their 202 now.
   */
  async drain(): Promise<void> {
    this.accepting = false;
    for (const id of this.queue) this.wake(id);
    this.queue.length = 0;
    this.queued.clear();
    if (this.running.size === 0) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private pump(): void {
    while (this.accepting && this.inPool < this.pool.capacity && this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.queued.delete(id);
      this.running.add(id);
      // the pool's place is held from here and given back as soon as the pool is done with the
      // job, before its result is stored: a worker never waits for the database
      this.inPool++;
      let held = true;
      const free = () => {
        if (!held) return;
        held = false;
        this.inPool--;
        this.pump();
      };
      void this.run(id, free).catch((e) => this.log('dispatch failed', { id, error: (e as Error).message })).finally(() => {
        free();
        this.running.delete(id);
        this.wake(id);
        if (this.running.size === 0) for (const r of [...this.idle]) (this.idle.delete(r), r());
      });
    }
  }

  private async run(id: string, free: () => void): Promise<void> {
    const row = await this.records.claim(id, this.now().toISOString());
    if (!row) return;
    let outcome;
    let bytes: Uint8Array;
    try {
      // checked against its sha256, and waited for through a short outage of the store
      bytes = await readRecording(this.audio, row.sha256);
    } catch (e) {
      free();
      await this.finishFailed(id, serializeError(e, { stage: 'storage' }));
      return;
    }
    // the caller's file name is only what the recording is reported under
    const job = { id: ++this.jobSeq, input: { bytes, name: row.filename ?? `upload-${id}` }, task: { kind: 'diagnose' as const, images: true } };
    try {
      outcome = await this.pool.run(job);
    } catch (e) {
      free();
      // the pool itself cannot go on (the model stopped loading): this record fails with that error
      this.poolError = e as Error;
      await this.finishFailed(id, serializeError(e, { stage: 'model' }));
      return;
    }
    free();
    if (!outcome.ok) {
      await this.finishFailed(id, outcome.error);
      this.pool.stored?.(job);
      return;
    }
    if (outcome.output.kind !== 'diagnose') throw new Error('a diagnose job returned another kind of output');
    const { result, images } = outcome.output;
    this.events.timings?.(result);
    // false: deleted while it ran
    const kept = await this.records.finish(id, this.now().toISOString(), { result, images });
    this.pool.stored?.(job);
    if (!kept) return;
    if (row.callback_url !== null) this.events.finished?.((await this.records.get(id))!);
  }

  private async finishFailed(id: string, err: { code: string; stage?: string; message: string }): Promise<void> {
    await this.records.fail(id, this.now().toISOString(), { code: err.code, stage: err.stage ?? null, message: err.message });
    const row = await this.records.get(id);
    if (row?.callback_url) this.events.finished?.(row);
  }
}
