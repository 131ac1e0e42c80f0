import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  checkManifest, modelPathFor, TosiaError, type Config, type Identity, type Job, type JobOutcome, type ModelIdentity, type Pool,
} from '../../runtime/index.js';
import { JobQueue } from './job-queue.js';
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

/**
 * The third Pool: remote `tosia worker` processes on NATS JetStream, through a JobQueue. run()
 * publishes a job and resolves when its result arrives. Results are matched by job id, so a
 * duplicate (a job redelivered after a worker died between publishing and acking) is dropped,
 * and a result that arrived while this submitter was down is taken when it asks again. A result
 * is acked only once the caller says its outcome is stored (stored()).
 */
export class NatsPool implements Pool {
  readonly capacity: number;
  private readonly queue: JobQueue;
  private started: Promise<ModelIdentity | null> | null = null;
  private readonly pending = new Map<string, (o: JobOutcome) => void>();
  /** Results that came before anyone asked (from before a restart): taken by the next run() of that job. */
  private readonly early = new Map<string, JobOutcome>();
  /** Resolving one acks that job's result message: called by stored(). */
  private readonly acks = new Map<string, () => void>();
  /** The queue's job id of each Job handed to run(). */
  private readonly jobIds = new Map<Job, string>();

  constructor(private readonly o: NatsPoolOptions) {
    this.capacity = o.capacity ?? 64;
    this.queue = new JobQueue({
      url: o.url, config: o.config, identity: o.identity, submitter: o.submitter, settings: o.settings,
      onResult: (job, outcome) => new Promise<void>((ack) => {
        this.acks.set(job, ack);
        this.settle(job, outcome);
      }),
    });
  }

  start(): Promise<ModelIdentity | null> {
    this.started ??= this.queue.start().then(() => this.localModel());
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

  private settle(job: string, outcome: JobOutcome): void {
    const done = this.pending.get(job);
    if (done) {
      this.pending.delete(job);
      done(outcome);
    } else if (this.early.size < 100_000) {
      this.early.set(job, outcome);
    }
  }

  async run(job: Job): Promise<JobOutcome> {
    await this.start();
    if (job.task.kind !== 'diagnose') throw new TosiaError('E_CONFIG', 'only diagnose jobs run on the queue', { stage: 'queue' });
    const input = job.input;
    const name = 'name' in input ? input.name : input.path;
    let bytes: Uint8Array;
    try {
      bytes = 'bytes' in input ? input.bytes : await readFile(input.path);
    } catch (e) {
      return { ok: false, error: { code: 'E_INPUT', stage: 'input', message: `${name} [input]: cannot be read (${(e as NodeJS.ErrnoException).code ?? e})` } };
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { identity, submitter } = this.o;
    const id = createHash('sha256').update(`${submitter}\n${name}\n${sha256}\n${identity.config_sha256}\n${identity.limits_sha256}\n${identity.model_sha256}\n${JSON.stringify(job.task)}`).digest('hex').slice(0, 32);
    this.jobIds.set(job, id);
    const already = this.early.get(id);
    if (already) {
      this.early.delete(id);
      return already;
    }
    const answer = new Promise<JobOutcome>((resolve) => this.pending.set(id, resolve));
    try {
      await this.queue.submit({ job: id, name, sha256, audio: { bytes: async () => bytes }, task: job.task });
    } catch (e) {
      this.pending.delete(id);
      throw e;
    }
    return answer;
  }

  stored(job: Job): void {
    const id = this.jobIds.get(job);
    if (id === undefined) return;
    this.jobIds.delete(job);
    this.acks.get(id)?.();
    this.acks.delete(id);
  }

  unavailable(): string | null {
    return this.queue.unavailable();
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
