import { serializeError, type Job, type JobOutcome, type Pool, type Result } from '../../runtime/index.js';
import type { AudioStore } from '../audio-store/audio-store.js';
import { readRecording } from '../audio-store/read-recording.js';
import type { RecordStore, Row } from '../db/record-store.js';
import { Admission } from './admission.js';

/**
 * The server's queue: records waiting to run, in arrival order, handed to the engine's pool (the
 * same Pool implementations a batch runs on: worker threads here, never the HTTP event loop, or
 * `tosia worker` processes through NATS) with no more in flight than the pool takes. The
 * database is the truth: a record is claimed (queued → running) before it runs, and its outcome
 * is stored only into a record still running, so a duplicate outcome is dropped.
 *
 * With a remote pool, every replica on the same database is one submitter: a job is keyed by its
 * record and attempt (`<id>-a<n>`), whichever replica receives its outcome stores it (adopt), and
 * the others hear that it settled.
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
  /** The served model a record runs with (its own, by name); without it, the pool's one model. */
  modelOf?: (row: Row) => Job['model'];
  /** The shadow model that also scores a record once it is done (never answered with), or null. */
  shadowOf?: (row: Row) => Job['model'] | null;
}

/** A record's job for its current attempt: a retry is a new job, not a duplicate of the first. */
const jobKey = (row: Row) => `${row.id}-a${row.attempts}`;
/** The shadow model's job for a record's current result. */
const shadowKey = (row: Row) => `${row.id}-s${row.attempts}`;
const recordOf = (key: string) => key.replace(/-[as]\d+$/, '');
const isShadow = (key: string) => /-s\d+$/.test(key);

export class Dispatcher extends Admission {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  /** Done records waiting for the shadow model: run after every record waiting for its own. */
  private readonly shadows: string[] = [];
  /** Records whose shadow job is waiting or running here. */
  private readonly shadowing = new Set<string>();
  /** Rescoring jobs (evaluations): run when no record waits for its own model or a shadow. */
  private readonly rescores: (() => void)[] = [];
  /** Records whose outcome this process awaits. */
  private readonly running = new Set<string>();
  /** Jobs the pool holds (a remote pool: until handed over): the pool's capacity bounds this. */
  private inPool = 0;
  private readonly idle = new Set<() => void>();
  private jobSeq = 0;
  private poolError: Error | null = null;
  /** Claims whose outcome may not be stored (the database failed as they were claimed or settled): id → the started_at claimed with. */
  private readonly unsettled = new Map<string, string>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly pool: Pool;
  private readonly records: RecordStore;
  private readonly audio: AudioStore;
  private readonly now: () => Date;
  private readonly events: DispatcherEvents;
  private readonly log: DispatcherOptions['log'];
  private readonly modelOf: DispatcherOptions['modelOf'];
  private readonly shadowOf: DispatcherOptions['shadowOf'];

  constructor(o: DispatcherOptions) {
    super(o.maxQueue);
    ({ pool: this.pool, records: this.records, audio: this.audio, now: this.now, events: this.events, log: this.log, modelOf: this.modelOf, shadowOf: this.shadowOf } = o);
    this.pool.share?.({
      // a rescoring job's outcome matters only to the process that asked for it
      adopt: async (key, outcome) => {
        if (isShadow(key)) await this.settleShadow(recordOf(key), outcome);
        else if (/-a\d+$/.test(key)) await this.settle(recordOf(key), outcome);
      },
      settled: (key) => this.wake(recordOf(key)),
    });
  }

  /** Records waiting to run: here, and in a remote pool's queue (every replica's). */
  get depth(): number {
    return this.queue.length + (this.pool.backlog?.()?.waiting ?? 0);
  }

  /** Recordings being run. */
  get busy(): number {
    return this.pool.backlog?.()?.running ?? this.inPool;
  }

  /** The error that stopped the pool (a model that no longer loads), if any. */
  get failure(): Error | null {
    return this.poolError;
  }

  /**
   * Queue again what a stopped server left unfinished. A running record's job that a remote pool
   * still holds or has answered is left to it; any other runs again (its attempts say so).
   */
  async recover(): Promise<void> {
    if (!this.pool.whereIs) {
      for (const id of await this.records.recoverUnfinished()) this.enqueue(id);
      await this.recoverShadows();
      return;
    }
    for (const row of await this.records.unfinished()) {
      if (row.status === 'queued') this.enqueue(row.id);
      else if ((await this.pool.whereIs(jobKey(row))) === 'absent' && this.accepting) {
        // claimed by a replica that died before handing it over: the same attempt, handed over again
        this.running.add(row.id);
        this.dispatch(row);
      }
    }
    await this.recoverShadows();
  }

  /**
   * Done records the shadow model has not scored yet (a stop, a crash or a queue outage came
   * between): scored now. With `olderThan`, only those finished before it (the sweep leaves
   * the ones just finished to the process that finished them).
   */
  private async recoverShadows(olderThan?: string): Promise<void> {
    if (!this.shadowOf) return;
    for (const row of await this.records.pendingShadows(1000)) {
      if (this.shadowing.has(row.id) || (olderThan !== undefined && (row.finished_at ?? '') >= olderThan)) continue;
      if (this.pool.whereIs && (await this.pool.whereIs(shadowKey(row))) !== 'absent') continue;
      this.enqueueShadow(row.id);
    }
  }

  /**
   * Every `everyMs`, put right what a failed database call left behind, with no restart: a
   * claim or outcome that may not have been stored is queued again (if the record is still
   * running under that claim), and records queued in the database that no part of this process
   * holds are taken. A remote pool's running records whose job is nowhere (a replica died
   * between claiming and handing over) are handed over again.
   */
  reconcile(everyMs = 5000): void {
    this.sweeper ??= setInterval(() => void this.sweep().catch((e) => this.log('reconciling failed', { error: (e as Error).message })), everyMs);
    this.sweeper.unref();
  }

  /** One pass of reconcile(). */
  async sweep(): Promise<void> {
    if (!this.accepting) return;
    for (const [id, startedAt] of [...this.unsettled]) {
      if (this.running.has(id)) continue;
      await this.records.requeueClaim(id, startedAt);
      this.unsettled.delete(id);
    }
    const cutoff = new Date(this.now().getTime() - 30_000).toISOString();
    for (const row of await this.records.unfinished(5000)) {
      if (this.queued.has(row.id) || this.running.has(row.id)) continue;
      if (row.status === 'queued') this.enqueue(row.id);
      else if (this.pool.whereIs && row.started_at !== null && row.started_at < cutoff && (await this.pool.whereIs(jobKey(row))) === 'absent' && this.accepting) {
        this.running.add(row.id);
        this.dispatch(row);
      }
    }
    await this.recoverShadows(cutoff);
  }

  enqueue(id: string): void {
    if (!this.accepting || this.queued.has(id) || this.running.has(id)) return;
    this.queued.add(id);
    this.queue.push(id);
    this.pump();
  }

  /** Resolves when the record finishes (in any replica) or after `ms`, whichever is first. */
  waitFor(id: string, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    if (!this.pool.remote && (this.queued.has(id) || this.running.has(id))) return this.wait(id, ms);
    // another replica may store it, or the reconciler run it again (an outcome a database outage
    // kept from being stored): a wake-up or an announcement ends the wait, and the database is
    // asked every second in case neither comes
    return this.wait(id, ms, async () => {
      const r = await this.records.get(id);
      return !r || r.status === 'done' || r.status === 'failed';
    });
  }

  /**
   * Stop taking work. Records still queued stay queued in the database and run at the next start
   * (or in another replica); requests waiting on them get their 202 now. A local pool's jobs are
   * let finish; a remote pool's need only be handed over, since any replica stores their outcome.
   */
  async drain(): Promise<void> {
    this.accepting = false;
    if (this.sweeper) clearInterval(this.sweeper);
    this.wakeAll();
    this.queue.length = 0;
    this.queued.clear();
    const busy = () => (this.pool.remote ? this.inPool > 0 : this.running.size > 0);
    if (!busy()) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** Have the shadow model score a done record, after every record waiting for its own model. */
  private enqueueShadow(id: string): void {
    if (!this.accepting || this.shadowing.has(id)) return;
    this.shadowing.add(id);
    this.shadows.push(id);
    this.pump();
  }

  private pump(): void {
    while (this.accepting && this.inPool < this.pool.capacity && (this.queue.length > 0 || this.shadows.length > 0 || this.rescores.length > 0)) {
      if (this.queue.length === 0) {
        if (this.shadows.length > 0) this.runShadow(this.shadows.shift()!);
        else this.rescores.shift()!();
        continue;
      }
      const id = this.queue.shift()!;
      this.queued.delete(id);
      this.running.add(id);
      // its place in the pool is held from the claim on
      this.inPool++;
      const unclaimed = () => {
        this.inPool--;
        this.ended(id);
        this.pump();
      };
      const at = this.now().toISOString();
      void this.records.claim(id, at).then(
        (row) => (row ? this.dispatch(row, true) : unclaimed()),
        (e) => {
          // it may have been claimed all the same: the sweep queues it again if so
          this.log('claiming a record failed', { id, error: (e as Error).message });
          this.unsettled.set(id, at);
          unclaimed();
        },
      );
    }
  }

  /**
   * Score a done record's stored audio again with a served model (an evaluation), holding a
   * place in the pool like any job, after every record and shadow waiting. `key` names the job
   * for a queue (stable, so a resubmission is taken once). Failures are outcomes, never thrown.
   */
  rescore(row: Row, model: NonNullable<Job['model']>, key: string): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve) => {
      this.rescores.push(() => {
        this.inPool++;
        const free = this.placeReleaser();
        const job: Job = { id: ++this.jobSeq, key, task: { kind: 'diagnose', images: false }, model, input: this.inputOf(row) };
        this.pool.run(job, this.pool.remote ? { submitted: free } : undefined).then(
          (outcome) => {
            free();
            this.pool.stored?.(job);
            resolve(outcome);
          },
          (e: Error) => {
            free();
            resolve({ ok: false, error: serializeError(e, { stage: 'model' }) });
          },
        );
      });
      this.pump();
    });
  }

  /** A record's audio as a job's input: by reference, read (and checked) where the job runs. */
  private inputOf(row: Row): Job['input'] {
    const audio = this.audio;
    // the caller's file name is only what the recording is reported under
    return { stored: { sha256: row.sha256, store: audio.shared ? audio.url : null, read: () => readRecording(audio, row.sha256) }, name: row.filename ?? `upload-${row.id}` };
  }

  /** Gives back a place held in the pool, once however often it is called, and lets the next job in. */
  private placeReleaser(): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.inPool--;
      this.pump();
      this.checkIdle();
    };
  }

  /** Hand a claimed record to the pool. */
  private dispatch(row: Row, placed = false): void {
    const job: Job = { id: ++this.jobSeq, key: jobKey(row), task: { kind: 'diagnose', images: true }, model: this.modelOf?.(row), input: this.inputOf(row) };
    // the pool's place is held until it is done with the job (a remote pool: until handed over),
    // before the outcome is stored: a worker never waits for the database
    if (!placed) this.inPool++;
    const free = this.placeReleaser();
    this.pool.run(job, this.pool.remote ? { submitted: free } : undefined).then(
      async (outcome) => {
        free();
        await this.settle(row.id, outcome);
        this.pool.stored?.(job);
      },
      async (e: Error & { stage?: string }) => {
        free();
        // a queue that did not take the job is an outage: this record fails with how to retry it;
        // anything else stops the pool (a model that no longer loads) and fails it with that error
        if (e.stage === 'queue') {
          await this.settle(row.id, { ok: false, error: { code: 'E_INTERNAL', stage: 'queue', message: `the queue did not take it: ${e.message}. Fix: POST /v1/diagnoses/${row.id}/retry once the queue is back` } });
        } else {
          this.poolError = e;
          await this.settle(row.id, { ok: false, error: serializeError(e, { stage: 'model' }) });
        }
      },
    ).catch((e) => {
      // the outcome is not stored: the sweep queues the record again (a queue redelivers its result meanwhile)
      this.log('storing an outcome failed', { id: row.id, error: (e as Error).message });
      if (row.started_at !== null) this.unsettled.set(row.id, row.started_at);
    }).finally(() => this.ended(row.id));
  }

  /**
   * Run a done record through the shadow model, holding a place in the pool like any job. Its
   * verdict goes beside the record's (never in place of it); a failure to hand it over leaves it
   * pending, for the sweep.
   */
  private runShadow(id: string): void {
    this.inPool++;
    const free = this.placeReleaser();
    void (async () => {
      const row = await this.records.get(id);
      const model = row && row.status === 'done' && row.shadow_state === 'pending' ? this.shadowOf?.(row) : null;
      if (!row || !model) return;
      const job: Job = { id: ++this.jobSeq, key: shadowKey(row), task: { kind: 'diagnose', images: false }, model, input: this.inputOf(row) };
      const outcome = await this.pool.run(job, this.pool.remote ? { submitted: free } : undefined);
      free();
      await this.settleShadow(id, outcome);
      this.pool.stored?.(job);
    })().catch((e) => this.log('scoring a record with the shadow model failed; it is tried again', { id, error: (e as Error).message })).finally(() => {
      this.shadowing.delete(id);
      free();
    });
  }

  /** Store the shadow model's verdict (or why it has none) beside the record's. */
  private async settleShadow(id: string, outcome: JobOutcome): Promise<void> {
    const row = await this.records.get(id);
    const model = row ? this.shadowOf?.(row) : null;
    if (!row || !model) return;
    if (outcome.ok && outcome.output.kind === 'diagnose') {
      const { diagnosis } = outcome.output.result;
      await this.records.setShadow(id, 'done', { model: model.name, model_sha256: outcome.output.result.model.sha256, label: diagnosis.label, score: diagnosis.score, n_segments: diagnosis.n_segments });
    } else {
      const err = outcome.ok ? { code: 'E_INTERNAL', stage: 'worker', message: 'a diagnose job returned another kind of output' } : outcome.error;
      await this.records.setShadow(id, 'failed', { model: model.name, model_sha256: model.sha256, error: { code: err.code, stage: err.stage ?? null, message: err.message } });
    }
  }

  /** Store an outcome into its record if it is still running (false: deleted, or stored already by another); tell who is waiting. */
  private async settle(id: string, outcome: JobOutcome): Promise<boolean> {
    const at = this.now().toISOString();
    let kept: boolean;
    let shadow: Job['model'] | null = null;
    if (outcome.ok && outcome.output.kind === 'diagnose') {
      const result: Result = outcome.output.result;
      // with a shadow model, the record is marked as waiting for its verdict in the same write
      const running = this.shadowOf ? await this.records.get(id) : undefined;
      shadow = running === undefined ? null : this.shadowOf!(running) ?? null;
      kept = await this.records.finish(id, at, { result, images: outcome.output.images }, { onlyRunning: true, shadow });
      if (kept) this.events.timings?.(result);
    } else {
      const err = outcome.ok ? { code: 'E_INTERNAL', stage: 'worker', message: 'a diagnose job returned another kind of output' } : outcome.error;
      kept = await this.records.fail(id, at, { code: err.code, stage: err.stage ?? null, message: err.message }, { onlyRunning: true });
    }
    if (!kept) return false;
    this.wake(id);
    if (shadow) this.enqueueShadow(id);
    const row = await this.records.get(id);
    if (row?.callback_url) this.events.finished?.(row);
    return true;
  }

  private ended(id: string): void {
    this.running.delete(id);
    this.wake(id);
    this.checkIdle();
  }

  private checkIdle(): void {
    const busy = this.pool.remote ? this.inPool > 0 : this.running.size > 0;
    if (!busy) for (const r of [...this.idle]) (this.idle.delete(r), r());
  }
}
