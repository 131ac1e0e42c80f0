import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/nats-core';
import { fieldsWithRole, TosiaError, type Config, type Identity, type JobOutcome, type JobTask } from '../../runtime/index.js';
import { decode, encode, STREAM_JOBS, STREAM_RESULTS, SUBJECT_JOBS, SUBJECT_RESULTS, WORKERS_CONSUMER, type JobMessage, type ResultMessage } from './protocol.js';
import { openQueue, putAudio, QUEUE_DEFAULTS, readBlob, retrying, type Queue, type QueueSettings } from './topology.js';

export interface JobQueueOptions {
  url: string;
  config: Config;
  identity: Identity;
  /**
   * Who submits: the durable name of its results consumer. Every process with the same
   * submitter shares that consumer (each result goes to one of them), and one that restarts
   * gets the results that arrived while it was down.
   */
  submitter: string;
  settings?: Partial<QueueSettings>;
  /**
   * Each job's outcome (from a worker, or a failure when the job was given up as poison). The
   * result message is acked once the returned promise resolves, so a process that dies before
   * storing an outcome leaves it for another (or itself, restarted).
   */
  onResult(job: string, outcome: JobOutcome): Promise<void> | void;
}

/**
 * A job to publish: its id (the message id: published twice, it is taken once), what to run and
 * on what. The audio is either read from a store every worker shares (named by its URL), or
 * its bytes, put once into the queue's bucket.
 */
export interface Submission {
  job: string;
  name: string;
  sha256: string;
  audio: { store: string } | { bytes: () => Promise<Uint8Array> };
  task: JobTask;
  /** The served model to run it with; the submitter's own when absent. */
  model?: { name: string; sha256: string } | null;
}

/**
 * The submitter's side of the queue: audio into the object store bucket (once per sha256), jobs
 * on `tosia.jobs.<job>`, results consumed durably from `tosia.results.<submitter>.>`, and the
 * max-deliveries advisory turned into a failed outcome. NatsPool, the queue's Pool for batches
 * and the server alike, is built on it.
 */
export class JobQueue {
  private queue: Queue | null = null;
  private started: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private advisories: Subscription | null = null;
  private readonly settings: QueueSettings;
  private readonly prefix: string;
  private closed = false;
  private down: string | null = null;
  /** Why the last attempt to consume results failed; null once one starts. */
  private consumeError: string | null = null;
  /** Results being handled, by job: the latest delivery is the one acked (a slow store may see it redelivered). */
  private readonly inHand = new Map<string, JsMsg>();

  constructor(private readonly o: JobQueueOptions) {
    this.settings = { ...QUEUE_DEFAULTS, ...o.settings };
    this.prefix = `${SUBJECT_RESULTS}.${o.submitter}`;
  }

  start(): Promise<void> {
    this.started ??= (async () => {
      const q = (this.queue = await openQueue(this.o.url, this.settings, `tosia-submitter-${this.o.submitter}`));
      void (async () => {
        for await (const st of q.nc.status()) {
          if (st.type === 'disconnect') this.down = `the queue at ${this.o.url} is unreachable (reconnecting)`;
          else if (st.type === 'reconnect') this.down = null;
        }
      })();
      const durable = `results-${this.o.submitter}`;
      try {
        await q.jsm.consumers.info(STREAM_RESULTS, durable);
      } catch {
        // no consumer of ours yet (a first start): make it; a real failure surfaces from add()
        await q.jsm.consumers.add(STREAM_RESULTS, { durable_name: durable, filter_subject: `${this.prefix}.>`, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: 10e9, max_ack_pending: 100_000 })
          .catch((e: Error) => { if (!/already (exists|in use)/i.test(e.message)) throw e; });
      }
      const consumer = await jetstream(q.nc).consumers.get(STREAM_RESULTS, durable);
      // results are taken until close(); a consume that ends or fails (a NATS restart) starts again
      void (async () => {
        while (!this.closed) {
          try {
            const messages = (this.messages = await consumer.consume({ max_messages: 256 }));
            this.consumeError = null;
            // the client keeps pulling from a consumer that is gone, saying so only here; the
            // submitter makes it again when it starts, and a heartbeat says it is back
            void (async () => {
              for await (const st of messages.status()) {
                if (st.type === 'consumer_deleted' || st.type === 'consumer_not_found') this.consumeError = `its results consumer ${durable} is gone (${st.type}); restart this process to make it again`;
                else if (st.type === 'heartbeat') this.consumeError = null;
              }
            })();
            for await (const m of messages) {
              this.consumeError = null;
              void this.received(m);
            }
          } catch (e) {
            // mostly a NATS restart (the consumer is durable: unacked results come again); until a
            // consume starts again, unavailable() says why
            this.consumeError = (e as Error).message ?? String(e);
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
    })();
    return this.started;
  }

  private async received(m: JsMsg): Promise<void> {
    let r: ResultMessage;
    try {
      r = decode<ResultMessage>(m.data);
    } catch {
      // not a result of ours: nothing to do with it
      m.ack();
      return;
    }
    const again = this.inHand.has(r.job);
    this.inHand.set(r.job, m);
    if (again) return;
    try {
      let outcome = r.outcome;
      if (!outcome && r.stored) {
        const body = await retrying(() => readBlob(this.queue!, r.stored!.name, r.stored!.sha256, r.stored), () => this.closed).catch((e) => {
          if (e instanceof TosiaError) return null;
          throw e;
        });
        outcome = body ? decode<ResultMessage>(body).outcome : undefined;
      }
      outcome ??= { ok: false, error: { code: 'E_INTERNAL', stage: 'queue', message: `the result of job ${r.job} is no longer in the queue's bucket; submit the recording again` } };
      await this.o.onResult(r.job, outcome);
      this.inHand.get(r.job)?.ack();
      if (r.stored) await this.queue!.audio.delete(r.stored.name).catch(() => undefined);
    } catch {
      // not stored: left unacked, the result comes again after ack_wait
    } finally {
      this.inHand.delete(r.job);
    }
  }

  private async givenUp(seq: number, deliveries: number): Promise<void> {
    const q = this.queue!;
    const msg = await q.jsm.streams.getMessage(STREAM_JOBS, { seq });
    if (!msg) return;
    const job = decode<JobMessage>(msg.data);
    if (!job.reply.startsWith(`${this.prefix}.`)) return;
    await this.o.onResult(job.job, { ok: false, error: { code: 'E_INTERNAL', stage: 'worker', message: `${job.name} [worker]: gave up after ${deliveries} deliveries: the worker died each time. Fix: check the workers' logs; the recording may crash the decoder` }, sha256: job.sha256 });
    await q.jsm.streams.deleteMessage(STREAM_JOBS, seq, false).catch(() => undefined);
  }

  /**
   * Publish a job, its audio first (uploaded once per sha256). Through a NATS restart this is
   * retried for two minutes; a job published twice within the stream's duplicate window (10
   * minutes) is taken once.
   */
  async submit(s: Submission): Promise<void> {
    await this.start();
    const q = this.queue!;
    const msg: JobMessage = {
      v: 1, job: s.job, reply: `${this.prefix}.${s.job}`, sha256: s.sha256, name: s.name, task: s.task, audio: undefined, store: 'store' in s.audio ? s.audio.store : undefined,
      analysis: fieldsWithRole(this.o.config, 'analysis'), limits: fieldsWithRole(this.o.config, 'limit'), model_sha256: s.model?.sha256 ?? this.o.identity.model_sha256!, model: s.model?.name,
    };
    const until = Date.now() + 120_000;
    try {
      const audio = s.audio;
      await retrying(async () => {
        if ('bytes' in audio) {
          const info = await q.audio.info(s.sha256);
          msg.audio = info && !info.deleted ? { nuid: info.nuid, size: info.size } : await putAudio(q, s.sha256, await audio.bytes());
        }
        await jetstream(q.nc).publish(`${SUBJECT_JOBS}.${s.job}`, encode(msg), { msgID: s.job });
      }, () => Date.now() > until || this.closed);
    } catch (e) {
      if (e instanceof TosiaError) throw e;
      throw new TosiaError('E_INTERNAL', `the queue did not take a job for 120 s: ${(e as Error).message}`, { stage: 'queue', hint: 'check the NATS server; run the same command again to resume', cause: e });
    }
  }

  /**
   * Where a job is: still in the jobs stream (waiting, or held by a worker), answered (its
   * result is in the results stream), or neither (never published, or given up).
   */
  async whereIs(job: string): Promise<'queued' | 'answered' | 'absent'> {
    await this.start();
    const q = this.queue!;
    if (await q.jsm.streams.getMessage(STREAM_JOBS, { last_by_subj: `${SUBJECT_JOBS}.${job}` }).catch(() => null)) return 'queued';
    if (await q.jsm.streams.getMessage(STREAM_RESULTS, { last_by_subj: `${this.prefix}.${job}` }).catch(() => null)) return 'answered';
    return 'absent';
  }

  /** Jobs waiting for a worker and jobs workers hold, from the workers' consumer; null when unknown. */
  async consumerState(): Promise<{ waiting: number; held: number } | null> {
    if (!this.queue) return null;
    try {
      const c = await this.queue.jsm.consumers.info(STREAM_JOBS, WORKERS_CONSUMER);
      return { waiting: c.num_pending, held: c.num_ack_pending };
    } catch {
      // the queue unreachable or the consumer not made yet: no figure (the metric is left out), not an error
      return null;
    }
  }

  get connection() {
    return this.queue?.nc ?? null;
  }

  unavailable(): string | null {
    if (!this.queue) return `not connected to the queue at ${this.o.url} yet`;
    return this.down ?? (this.consumeError === null ? null : `results cannot be read from the queue at ${this.o.url}: ${this.consumeError}`);
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
