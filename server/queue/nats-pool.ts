import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, jetstream, type JsMsg } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/nats-core';
import {
  checkManifest, fieldsWithRole, modelPathFor, TosiaError, type Config, type Identity, type Job, type JobOutcome, type ModelIdentity, type Pool,
} from '../../runtime/index.js';
import { decode, encode, STREAM_JOBS, STREAM_RESULTS, SUBJECT_JOBS, SUBJECT_RESULTS, WORKERS_CONSUMER, type JobMessage, type ResultMessage } from './protocol.js';
import { openQueue, putAudio, QUEUE_DEFAULTS, retrying, type Queue, type QueueSettings } from './topology.js';

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
 * The third Pool: remote `tosia worker` processes on NATS JetStream. run() stores the audio in
 * the object store under its sha256 (once), publishes a job that names it, and resolves when
 * the job's result arrives on this submitter's results subject. Results are consumed durably
 * and matched by job id, so a duplicate (a job redelivered after a worker died between
 * publishing and acking) is dropped, and a result that arrived while this submitter was down is
 * taken when it asks again.
 */
export class NatsPool implements Pool {
  readonly capacity: number;
  private queue: Queue | null = null;
  private started: Promise<ModelIdentity | null> | null = null;
  private readonly pending = new Map<string, (o: JobOutcome) => void>();
  /** Results that came before anyone asked (from before a restart): taken by the next run() of that job. */
  private readonly early = new Map<string, JobOutcome>();
  private messages: ConsumerMessages | null = null;
  private advisories: Subscription | null = null;
  private readonly settings: QueueSettings;
  private readonly replySubject: string;
  private closed = false;
  private down: string | null = null;
  /** Result messages acked only once their outcome is stored (stored()), by job id. */
  private readonly unacked = new Map<string, JsMsg>();
  /** The queue's job id of each Job handed to run(). */
  private readonly jobIds = new Map<Job, string>();

  constructor(private readonly o: NatsPoolOptions) {
    this.capacity = o.capacity ?? 64;
    this.settings = { ...QUEUE_DEFAULTS, ...o.settings };
    this.replySubject = `${SUBJECT_RESULTS}.${o.submitter}`;
  }

  start(): Promise<ModelIdentity | null> {
    this.started ??= (async () => {
      const q = (this.queue = await openQueue(this.o.url, this.settings, `tosia-submitter-${this.o.submitter}`));
      void (async () => {
        for await (const st of q.nc.status()) {
          if (st.type === 'disconnect') this.down = `the queue at ${this.o.url} is unreachable (reconnecting)`;
          else if (st.type === 'reconnect') this.down = null;
        }
      })();
      const durable = `submitter-${this.o.submitter}`;
      try {
        await q.jsm.consumers.info(STREAM_RESULTS, durable);
      } catch {
        await q.jsm.consumers.add(STREAM_RESULTS, { durable_name: durable, filter_subject: this.replySubject, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: 10e9, max_ack_pending: 100_000 });
      }
      const consumer = await jetstream(q.nc).consumers.get(STREAM_RESULTS, durable);
      // results are taken until close(); a consume that ends or fails (a NATS restart) starts again
      void (async () => {
        while (!this.closed) {
          try {
            this.messages = await consumer.consume({ max_messages: 256 });
            for await (const m of this.messages) {
              let r: ResultMessage;
              try {
                r = decode<ResultMessage>(m.data);
              } catch {
                // not a result of ours: nothing to do with it
                m.ack();
                continue;
              }
              // the same result again (redelivered: it waited longer than ack_wait to be stored) is
              // held in place of the first, to be acked when stored
              const again = this.unacked.has(r.job);
              this.unacked.set(r.job, m);
              if (!again) this.settle(r.job, r.outcome);
            }
          } catch {
            // reconnecting: try again shortly
          }
          if (!this.closed) await new Promise((r) => setTimeout(r, 250));
        }
      })();
      // a job delivered max_deliver times without an ack (its worker died each time) is poison
      this.advisories = q.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${STREAM_JOBS}.${WORKERS_CONSUMER}`);
      void (async () => {
        for await (const a of this.advisories!) {
          const { stream_seq, deliveries } = JSON.parse(new TextDecoder().decode(a.data)) as { stream_seq: number; deliveries: number };
          await this.givenUp(stream_seq, deliveries).catch(() => undefined);
        }
      })();
      return this.localModel();
    })();
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

  private async givenUp(seq: number, deliveries: number): Promise<void> {
    const q = this.queue!;
    const msg = await q.jsm.streams.getMessage(STREAM_JOBS, { seq });
    if (!msg) return;
    const job = decode<JobMessage>(msg.data);
    if (job.reply !== this.replySubject) return;
    this.settle(job.job, { ok: false, error: { code: 'E_INTERNAL', stage: 'worker', message: `${job.name} [worker]: gave up after ${deliveries} deliveries: the worker died each time. Fix: check the workers' logs; the recording may crash the decoder` }, sha256: job.sha256 });
    await q.jsm.streams.deleteMessage(STREAM_JOBS, seq, false).catch(() => undefined);
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
    const q = this.queue!;
    if (job.task.kind !== 'diagnose') throw new TosiaError('E_CONFIG', 'only diagnose jobs run on the queue', { stage: 'queue' });
    const input = job.input;
    let bytes: Uint8Array;
    try {
      bytes = 'bytes' in input ? input.bytes : await readFile(input.path);
    } catch (e) {
      const name = 'name' in input ? input.name : input.path;
      return { ok: false, error: { code: 'E_INPUT', stage: 'input', message: `${name} [input]: cannot be read (${(e as NodeJS.ErrnoException).code ?? e})` } };
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const name = 'name' in input ? input.name : input.path;
    const id = createHash('sha256').update(`${this.o.submitter}\n${name}\n${sha256}\n${this.o.identity.config_sha256}\n${this.o.identity.limits_sha256}\n${this.o.identity.model_sha256}\n${JSON.stringify(job.task)}`).digest('hex').slice(0, 32);
    this.jobIds.set(job, id);
    const already = this.early.get(id);
    if (already) {
      this.early.delete(id);
      return already;
    }
    const answer = new Promise<JobOutcome>((resolve) => this.pending.set(id, resolve));
    const msg: JobMessage = {
      v: 1, job: id, reply: this.replySubject, sha256, name, task: job.task, audio: undefined,
      analysis: fieldsWithRole(this.o.config, 'analysis'), limits: fieldsWithRole(this.o.config, 'limit'), model_sha256: this.o.identity.model_sha256!,
    };
    // through a NATS restart this is retried, for two minutes; a job published twice is dropped by its message id
    const until = Date.now() + 120_000;
    try {
      await retrying(async () => {
        // the same bytes are uploaded once
        const info = await q.audio.info(sha256);
        msg.audio = info && !info.deleted ? { nuid: info.nuid, size: info.size } : await putAudio(q, sha256, bytes);
        await jetstream(q.nc).publish(SUBJECT_JOBS, encode(msg), { msgID: id });
      }, () => Date.now() > until || this.closed);
    } catch (e) {
      this.pending.delete(id);
      throw new TosiaError('E_INTERNAL', `the queue did not take a job for 120 s: ${(e as Error).message}`, { stage: 'queue', hint: 'check the NATS server; run the same command again to resume', cause: e });
    }
    return answer;
  }

  stored(job: Job): void {
    const id = this.jobIds.get(job);
    if (id === undefined) return;
    this.jobIds.delete(job);
    this.unacked.get(id)?.ack();
    this.unacked.delete(id);
  }

  unavailable(): string | null {
    if (!this.queue) return `not connected to the queue at ${this.o.url} yet`;
    return this.down;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.messages?.stop();
    this.advisories?.unsubscribe();
    const nc = this.queue?.nc;
    if (!nc) return;
    // acks of the last results go out with the drain; a connection that cannot drain (the
    // server is gone) is closed after a while rather than holding the process open
    await Promise.race([nc.drain().catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())]);
    await nc.close().catch(() => undefined);
  }
}
