import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Subscription } from '@nats-io/nats-core';
import {
  checkManifest, inputName, modelPathFor, serializeError, TosiaError, type Config, type Identity, type Job, type JobOutcome, type ModelIdentity, type Pool,
} from '../../runtime/index.js';
import { JobQueue, type Submission } from './job-queue.js';
import type { QueueSettings } from './topology.js';

export interface NatsPoolOptions {
  url: string;
  config: Config;
  identity: Identity;
  /**
   * Who submits: the durable name of its results consumer. The same submitter (a batch into
   * the same output folder) gets the results that arrived while it was down.
   */
  submitter: string;
  /** Jobs kept in flight (published, not yet answered). */
  capacity?: number;
  settings?: Partial<QueueSettings>;
}

/** A job this pool was handed: its queue id, and what to tell once it is handed over. */
type Shared = { adopt(key: string, outcome: JobOutcome): Promise<void>; settled(key: string): void };

/**
 * The third Pool: remote `tosia worker` processes on NATS JetStream, through a JobQueue. run()
 * publishes a job and resolves when its result arrives. Results are matched by job id (the
 * job's key, or else a hash of submitter, input and identity), so a duplicate (a job redelivered
 * after a worker died between publishing and acking) is dropped, and a result that arrived while
 * this submitter was down is taken when it asks again. A result is acked only once the caller
 * says its outcome is stored (stored()).
 *
 * Processes that share a submitter name share its results: with share(), results of jobs this
 * process did not run() (another replica's, or its own from before a restart) are adopted, and
 * every stored outcome is announced on `tosia.done.<submitter>` to all of them.
 */
export class NatsPool implements Pool {
  readonly capacity: number;
  readonly remote = true;
  private readonly queue: JobQueue;
  private started: Promise<ModelIdentity | null> | null = null;
  private readonly pending = new Map<string, (o: JobOutcome) => void>();
  /** Results that came before anyone asked (from before a restart): taken by the next run() of that job. */
  private readonly early = new Map<string, JobOutcome>();
  /** Resolving one acks that job's result message: called by stored(). */
  private readonly acks = new Map<string, () => void>();
  /** The queue's job id of each Job handed to run(). */
  private readonly jobIds = new Map<Job, string>();
  private hooks: Shared | null = null;
  private announcements: Subscription | null = null;
  private backlogNow: { waiting: number; running: number } | null = null;
  private poll: NodeJS.Timeout | null = null;

  constructor(private readonly o: NatsPoolOptions) {
    this.capacity = o.capacity ?? 64;
    this.queue = new JobQueue({
      url: o.url, config: o.config, identity: o.identity, submitter: o.submitter, settings: o.settings,
      onResult: (job, outcome) => this.received(job, outcome),
    });
  }

  private get doneSubject(): string {
    return `tosia.done.${this.o.submitter}`;
  }

  share(hooks: Shared): void {
    this.hooks = hooks;
  }

  start(): Promise<ModelIdentity | null> {
    this.started ??= this.queue.start().then(async () => {
      if (this.hooks) {
        const settled = this.hooks.settled;
        this.announcements = this.queue.connection!.subscribe(this.doneSubject, { callback: (_e, m) => settled(new TextDecoder().decode(m.data)) });
      }
      const refresh = async () => {
        const c = await this.queue.consumerState();
        if (c) this.backlogNow = { waiting: c.waiting, running: c.held };
      };
      await refresh();
      this.poll = setInterval(() => void refresh().catch(() => undefined), 2000);
      this.poll.unref();
      return this.localModel();
    });
    return this.started;
  }

  private localModel(): ModelIdentity {
    const path = modelPathFor(this.o.config);
    try {
      const manifest = checkManifest(JSON.parse(readFileSync(path.replace(/\.onnx$/, '.json'), 'utf8')), path);
      return { name: manifest.name, version: manifest.version, sha256: this.o.identity.model_sha256!, labels: [...manifest.labels], execution_provider: 'remote workers (NATS)' };
    } catch (e) {
      throw new TosiaError('E_MODEL', `the model's manifest cannot be read: ${(e as Error).message}`, { file: path, stage: 'model', hint: 'keep the model .json beside the .onnx' });
    }
  }

  /** A result from the queue: to the run() waiting for it, else adopted, else kept for a later run(); acked once stored. */
  private received(job: string, outcome: JobOutcome): Promise<void> {
    const done = this.pending.get(job);
    if (done) {
      this.pending.delete(job);
      return new Promise<void>((ack) => {
        this.acks.set(job, ack);
        done(outcome);
      });
    }
    if (this.hooks) return this.hooks.adopt(job, outcome).then(() => this.announce(job));
    if (this.early.size < 100_000) this.early.set(job, outcome);
    return new Promise<void>((ack) => this.acks.set(job, ack));
  }

  private announce(job: string): void {
    if (this.hooks) this.queue.connection?.publish(this.doneSubject, job);
  }

  async run(job: Job, hooks?: { submitted?(): void }): Promise<JobOutcome> {
    await this.start();
    if (job.task.kind !== 'diagnose') throw new TosiaError('E_CONFIG', 'only diagnose jobs run on the queue', { stage: 'queue' });
    const input = job.input;
    const name = inputName(input);
    let sha256: string;
    let audio: Submission['audio'];
    if ('stored' in input && input.stored.sha256 !== undefined) {
      // a store every worker shares is read there; otherwise the bytes travel in the queue's bucket
      sha256 = input.stored.sha256;
      audio = input.stored.store !== null ? { store: input.stored.store } : { bytes: input.stored.read };
    } else if ('stored' in input) {
      let bytes: Uint8Array;
      try {
        bytes = await input.stored.read();
      } catch (e) {
        return { ok: false, error: serializeError(e, { file: name, stage: 'input' }) };
      }
      sha256 = createHash('sha256').update(bytes).digest('hex');
      audio = { bytes: async () => bytes };
    } else {
      let bytes: Uint8Array;
      try {
        bytes = 'bytes' in input ? input.bytes : await readFile(input.path);
      } catch (e) {
        return { ok: false, error: { code: 'E_INPUT', stage: 'input', message: `${name} [input]: cannot be read (${(e as NodeJS.ErrnoException).code ?? e})` } };
      }
      sha256 = createHash('sha256').update(bytes).digest('hex');
      audio = { bytes: async () => bytes };
    }
    const { identity, submitter } = this.o;
    const model = job.model ?? null;
    const id = job.key ?? createHash('sha256').update(`${submitter}\n${name}\n${sha256}\n${identity.config_sha256}\n${identity.limits_sha256}\n${model?.sha256 ?? identity.model_sha256}\n${JSON.stringify(job.task)}`).digest('hex').slice(0, 32);
    this.jobIds.set(job, id);
    const already = this.early.get(id);
    if (already) {
      this.early.delete(id);
      hooks?.submitted?.();
      return already;
    }
    const answer = new Promise<JobOutcome>((resolve) => this.pending.set(id, resolve));
    try {
      await this.queue.submit({ job: id, name, sha256, audio, task: job.task, model });
    } catch (e) {
      this.pending.delete(id);
      this.jobIds.delete(job);
      // the recording itself could not be read (gone, damaged): that job fails, the pool goes on
      if (e instanceof TosiaError && e.stage !== 'queue') return { ok: false, error: serializeError(e, { file: name, stage: 'storage' }) };
      throw e;
    }
    hooks?.submitted?.();
    return answer;
  }

  stored(job: Job): void {
    const id = this.jobIds.get(job);
    if (id === undefined) return;
    this.jobIds.delete(job);
    this.acks.get(id)?.();
    this.acks.delete(id);
    this.announce(id);
  }

  whereIs(key: string): Promise<'queued' | 'answered' | 'absent'> {
    return this.queue.whereIs(key);
  }

  backlog(): { waiting: number; running: number } | null {
    return this.backlogNow;
  }

  unavailable(): string | null {
    return this.queue.unavailable();
  }

  close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.announcements?.unsubscribe();
    return this.queue.close();
  }
}
