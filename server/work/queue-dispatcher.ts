import type { Subscription } from '@nats-io/nats-core';
import type { JobOutcome, Result } from '../../runtime/index.js';
import type { AudioStore } from '../audio-store/audio-store.js';
import { readRecording } from '../audio-store/read-recording.js';
import type { RecordStore, Row } from '../db/record-store.js';
import type { JobQueue } from '../queue/job-queue.js';
import { Admission } from './admission.js';
import type { DispatcherEvents, DispatcherOptions } from './dispatcher.js';

export interface QueueDispatcherOptions extends Omit<DispatcherOptions, 'pool'> {
  queue: JobQueue;
  /** Every replica on the same database is one submitter. */
  submitter: string;
}

/**
 * The server's queue when recordings run on `tosia worker` processes (`serve --queue`). Every
 * replica on the same database is one submitter: they share its results consumer, so a result
 * is stored by whichever replica takes it, and a replica that stops leaves nothing behind.
 *
 * A record is claimed (queued → running) and its job published under `<record id>-a<attempt>`.
 * A result is stored only into a record still running, so a duplicate is dropped. A finished
 * record is announced on `tosia.done.<submitter>`, which wakes the requests waiting on it in
 * every replica; they also look at the database every second, so a lost announcement costs at
 * most that. At start, records left queued are published, and running ones whose job is
 * neither in the jobs stream nor answered (a replica died between claiming and publishing)
 * are published again.
 */
export class QueueDispatcher extends Admission {
  /** Records being claimed and published by this replica. */
  private readonly publishing = new Set<Promise<void>>();
  private announcements: Subscription | null = null;
  private backlogNow = 0;
  private heldNow = 0;
  private poll: NodeJS.Timeout | null = null;

  private readonly queue: JobQueue;
  private readonly submitter: string;
  private readonly records: RecordStore;
  private readonly audio: AudioStore;
  private readonly now: () => Date;
  private readonly events: DispatcherEvents;
  private readonly log: DispatcherOptions['log'];

  constructor(o: QueueDispatcherOptions) {
    super(o.maxQueue);
    ({ queue: this.queue, submitter: this.submitter, records: this.records, audio: this.audio, now: this.now, events: this.events, log: this.log } = o);
  }

  private get doneSubject(): string {
    return `tosia.done.${this.submitter}`;
  }

  /** Connect, listen for finished records, and publish what a stopped replica left. */
  async start(): Promise<void> {
    await this.queue.start();
    this.announcements = this.queue.connection!.subscribe(this.doneSubject, {
      callback: (_e, m) => this.wake(new TextDecoder().decode(m.data)),
    });
    const refresh = async () => {
      const c = await this.queue.consumerState();
      if (c) [this.backlogNow, this.heldNow] = [c.waiting, c.held];
    };
    await refresh();
    this.poll = setInterval(() => void refresh().catch(() => undefined), 2000);
    this.poll.unref();
    for (const row of await this.records.unfinished()) {
      if (row.status === 'queued') this.enqueue(row.id);
      else if ((await this.queue.whereIs(jobId(row))) === 'absent') this.track(this.publish(row));
    }
  }

  /** Jobs waiting in the queue for a worker (all replicas'). */
  get depth(): number {
    return this.backlogNow + this.publishing.size;
  }

  /** Jobs the workers hold. */
  get busy(): number {
    return this.heldNow;
  }

  /** No model runs here: workers that cannot run theirs exit with E_MODEL. */
  get failure(): Error | null {
    return null;
  }

  enqueue(id: string): void {
    if (!this.accepting) return;
    this.track((async () => {
      const row = await this.records.claim(id, this.now().toISOString());
      if (row) await this.publish(row);
    })());
  }

  private track(p: Promise<void>): void {
    const t = p.catch((e) => this.log('publishing failed', { error: (e as Error).message })).finally(() => this.publishing.delete(t));
    this.publishing.add(t);
  }

  private async publish(row: Row): Promise<void> {
    try {
      await this.queue.submit({
        job: jobId(row), name: row.filename ?? `upload-${row.id}`, sha256: row.sha256, task: { kind: 'diagnose', images: true },
        // a shared store is read by the workers themselves; a folder's audio travels in the queue's bucket
        audio: this.audio.shared ? { store: this.audio.url } : { bytes: () => readRecording(this.audio, row.sha256) },
      });
    } catch (e) {
      const err = e as { code?: string; stage?: string; message: string };
      const known = err.code === 'E_INPUT';
      const message = known ? err.message : `the queue did not take it: ${err.message}. Fix: POST /v1/diagnoses/${row.id}/retry once the queue is back`;
      await this.stored(jobId(row), { ok: false, error: { code: known ? 'E_INPUT' : 'E_INTERNAL', stage: known ? err.stage ?? 'storage' : 'queue', message } });
    }
  }

  /** A job's outcome, from whichever replica's consumer took it: stored into a record still running. */
  async stored(job: string, outcome: JobOutcome): Promise<void> {
    const id = job.replace(/-a\d+$/, '');
    const at = this.now().toISOString();
    let kept: boolean;
    if (outcome.ok && outcome.output.kind === 'diagnose') {
      const result: Result = outcome.output.result;
      kept = await this.records.finish(id, at, { result, images: outcome.output.images }, { onlyRunning: true });
      if (kept) this.events.timings?.(result);
    } else {
      const err = outcome.ok ? { code: 'E_INTERNAL', stage: 'worker', message: 'a diagnose job returned another kind of output' } : outcome.error;
      kept = await this.records.fail(id, at, { code: err.code, stage: err.stage ?? null, message: err.message }, { onlyRunning: true });
    }
    if (!kept) return;
    this.queue.connection?.publish(this.doneSubject, id);
    this.wake(id);
    const row = await this.records.get(id);
    if (row?.callback_url) this.events.finished?.(row);
  }

  /** Resolves when the record finishes (in any replica) or after `ms`, whichever is first. */
  waitFor(id: string, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return this.wait(id, ms, async () => {
      const r = await this.records.get(id);
      return !r || r.status === 'done' || r.status === 'failed';
    });
  }

  /**
   * Stop taking records; wait for the ones being published. Waiting requests get their 202 now.
   * Jobs already published run on the workers, and their results are stored by whichever
   * replica is up.
   */
  async drain(): Promise<void> {
    this.accepting = false;
    this.wakeAll();
    await Promise.all(this.publishing);
    if (this.poll) clearInterval(this.poll);
    this.announcements?.unsubscribe();
  }
}

/** A record's job id for its current attempt: a retry is a new job, not a duplicate of the first. */
const jobId = (row: Row) => `${row.id}-a${row.attempts}`;
