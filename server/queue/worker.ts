import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { configHash, limitsHash, serializeError, ThreadPool, TosiaError, type Config, type JobOutcome } from '../../runtime/index.js';
import type { AudioStore } from '../audio-store/audio-store.js';
import { createAudioStore } from '../audio-store/open.js';
import { readRecording } from '../audio-store/read-recording.js';
import { describeServedModels, type ModelSpec, type ServedModel } from '../models/served-models.js';
import { configForJob, decode, encode, STREAM_JOBS, WORKERS_CONSUMER, type JobMessage, type ResultMessage } from './protocol.js';
import { openQueue, putBlob, QUEUE_DEFAULTS, readAudio, retrying, type QueueSettings } from './topology.js';

export interface WorkerOptions {
  url: string;
  /** This machine's config: its deployment fields (model file, ffmpeg) are used; analysis and limits come with each job. */
  config: Config;
  /**
   * The models it runs (--model NAME=PATH, repeatable): a job runs on the one whose sha256 it
   * names. Without any, the config's own model.
   */
  models?: ModelSpec[];
  /** Worker threads; default: the number of cores. */
  concurrency?: number;
  settings?: Partial<QueueSettings>;
  /**
   * The shared audio store the submitters keep audio in (azblob://…, s3://…), read for jobs that
   * name it; jobs of a server on a folder store bring their audio in the queue's bucket.
   */
  audioStore?: string;
  /** Where credentials are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (line: Record<string, unknown>) => void;
  /** Resolves to stop: take no more jobs, finish and ack the ones held, then return. */
  stop?: Promise<void>;
  /**
   * Runs a job in place of the local ThreadPool: `make bench` measures the queue's own ceiling
   * with a runner that does nothing, so that only publishing, the object get and the result remain.
   */
  runner?: { capacity: number; run(job: JobMessage, bytes: Uint8Array): Promise<JobOutcome> };
}

export interface WorkerSummary { done: number; failed: number }

/**
 * `tosia worker`: takes jobs from the shared durable consumer and runs them on this machine's
 * ThreadPool. For each job: hold it with in-progress acks while it runs, fetch the audio from
 * the object store, run, publish the result (the job id is its message id, so a duplicate is
 * dropped), then ack. A crash anywhere before the ack makes JetStream deliver the job again.
 */
export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const settings = { ...QUEUE_DEFAULTS, ...o.settings };
  const log = o.log ?? (() => undefined);
  const me = `${hostname()}:${process.pid}`;
  let lastFetchError: string | null = null;
  const fetchFailed = (why: string | null) => {
    if (why !== null && why !== lastFetchError) log({ error: `fetching jobs: ${why}` });
    lastFetchError = why;
  };
  // a worker that cannot load its models takes nothing
  const local = await describeServedModels(o.config, o.models ?? []);
  const bySha = new Map(local.map((m) => [m.sha256, m]));
  const have = local.map((m) => `${m.name} (sha256 ${m.sha256.slice(0, 12)})`).join(', ');
  const audioStore = o.audioStore === undefined ? undefined : await openShared(o.audioStore, o.env);
  const q = await openQueue(o.url, settings, `tosia-worker-${me}`);
  const js = jetstream(q.nc);
  const pools = new Map<string, { pool: ThreadPool; ready: Promise<unknown> }>();
  const concurrency = o.concurrency;
  const poolFor = (model: ServedModel, cfg: Config) => {
    const key = `${model.sha256}:${configHash(cfg)}:${limitsHash(cfg)}`;
    let p = pools.get(key);
    if (!p) {
      // one config per model at a time is the normal case; an old one's threads are let go
      for (const [k, old] of pools) {
        if (!k.startsWith(`${model.sha256}:`)) continue;
        void old.pool.close();
        pools.delete(k);
      }
      const pool = new ThreadPool({ config: cfg, concurrency });
      p = { pool, ready: pool.start() };
      pools.set(key, p);
    }
    return p;
  };
  let capacity: number;
  if (o.runner) capacity = o.runner.capacity;
  else {
    const started = local.map((m) => poolFor(m, m.config));
    await Promise.all(started.map((p) => p.ready));
    // each thread runs one job and has the next one waiting
    capacity = started[0]!.pool.capacity;
  }
  const summary: WorkerSummary = { done: 0, failed: 0 };
  const consumer = await js.consumers.get(STREAM_JOBS, WORKERS_CONSUMER);
  let stopping = false;
  let fetching: { stop(): void } | null = null;
  void o.stop?.then(() => {
    stopping = true;
    fetching?.stop();
    wake?.();
  });
  let fatal: TosiaError | null = null;
  const inFlight = new Set<Promise<void>>();
  let wake: (() => void) | null = null;
  const waitForSlot = () => new Promise<void>((r) => (wake = r));

  const handle = async (m: JsMsg): Promise<void> => {
    // held (and still queued here) jobs say they are alive, so ack_wait only catches dead workers
    const alive = setInterval(() => m.working(), Math.max(250, (settings.ackWaitS * 1000) / 3));
    try {
      const job = decode<JobMessage>(m.data);
      const model = bySha.get(job.model_sha256);
      if (!model) {
        m.nak();
        const wanted = `${job.model === undefined ? 'the model' : `the model ${JSON.stringify(job.model)}`} (sha256 ${job.model_sha256.slice(0, 12)})`;
        fatal ??= new TosiaError('E_MODEL', `a job asks for ${wanted}, and this worker runs ${have}; it takes no jobs`, { stage: 'worker', hint: `give every worker the models the submitters serve: --model ${job.model ?? 'NAME'}=PATH, repeatable` });
        return;
      }
      if (process.env.TOSIA_TEST_CRASH_ON && job.name.includes(process.env.TOSIA_TEST_CRASH_ON)) {
        // a test-only fault hook: a recording that kills its worker every time
        process.kill(process.pid, 'SIGKILL');
      }
      if (job.store !== undefined && audioStore?.url !== job.store) {
        m.nak();
        fatal ??= new TosiaError('E_CONFIG', `a job's audio is in ${job.store}, and this worker ${audioStore ? `reads ${audioStore.url}` : 'has no --audio-store'}; it takes no jobs`, { stage: 'worker', hint: `start every worker with --audio-store ${job.store} (and its credentials), as the server` });
        return;
      }
      let outcome: JobOutcome | null = null;
      let bytes: Uint8Array | null = null;
      if (job.store !== undefined) {
        try {
          bytes = await readRecording(audioStore!, job.sha256);
        } catch (e) {
          // gone or damaged: that job fails; a store still down after the wait is tried again (redelivered)
          if (!(e instanceof TosiaError)) throw e;
          outcome = { ok: false, error: serializeError(e, { file: job.name, stage: 'storage' }) };
        }
      } else {
        try {
          bytes = await retrying(() => readAudio(q, job.sha256, job.audio), () => stopping);
        } catch (e) {
          if (!(e instanceof TosiaError)) throw e;
        }
        if (!bytes) outcome = { ok: false, error: { code: 'E_INPUT', stage: 'input', message: `${job.name} [input]: the recording is not in the queue's object store (expired or removed); submit it again` } };
      }
      if (outcome || !bytes) {
        outcome ??= { ok: false, error: { code: 'E_INTERNAL', stage: 'worker', message: `${job.name}: no audio` } };
      } else if (o.runner) {
        outcome = await o.runner.run(job, bytes);
      } else {
        const { pool, ready } = poolFor(model, configForJob(model.config, job));
        try {
          await ready;
          outcome = await pool.run({ id: m.seq, input: { bytes, name: job.name }, task: job.task });
        } catch (e) {
          outcome = { ok: false, error: serializeError(e, { file: job.name, stage: 'worker' }) };
        }
      }
      let body = encode({ v: 1, job: job.job, worker: me, outcome } satisfies ResultMessage);
      // an outcome too big for one message (many segment images) goes into the bucket, and the message says where
      if (body.length > (q.nc.info?.max_payload ?? 1048576) - 16384) {
        const name = `result-${job.job}`;
        const sha256 = createHash('sha256').update(body).digest('hex');
        const where = await retrying(() => putBlob(q, name, body, sha256), () => stopping);
        body = encode({ v: 1, job: job.job, worker: me, stored: { name, sha256, ...where } } satisfies ResultMessage);
      }
      // through a NATS restart the publish is retried; the job stays held (in-progress acks) meanwhile
      await retrying(() => js.publish(job.reply, body, { msgID: job.job }), () => stopping);
      m.ack();
      if (outcome.ok) summary.done++;
      else summary.failed++;
      log({ job: job.job, file: job.name, ok: outcome.ok, ...(outcome.ok ? {} : { code: outcome.error.code }), deliveries: m.info.deliveryCount });
    } finally {
      clearInterval(alive);
    }
  };

  // Jobs are fetched, not streamed, so that this worker holds only what it runs. A job
  // delivered before (its worker may have died on it) is taken alone, and after one the next
  // fetch is of one job again: a recording that kills its worker takes no other job down with
  // it, and ends given up after max_deliver while the rest go through.
  let single = true;
  try {
    while (!stopping && !fatal) {
      const free = capacity - inFlight.size;
      if (free <= 0) {
        await waitForSlot();
        continue;
      }
      let batch;
      try {
        batch = await consumer.fetch({ max_messages: single ? 1 : free, expires: 2000 });
      } catch (e) {
        // mostly a NATS restart: fetch again shortly; logged once for each new reason, so that a
        // lasting one (the consumer deleted, say) shows without a line every 250 ms
        fetchFailed((e as Error).message ?? String(e));
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      fetchFailed(null);
      fetching = batch;
      try {
        for await (const m of batch) {
          if (stopping || fatal) {
            m.nak();
            continue;
          }
          const suspect = m.info.deliveryCount > 1;
          single = suspect;
          if (suspect) while (inFlight.size > 0) await waitForSlot();
          const p = handle(m).catch((e) => {
            // not acked: JetStream delivers it again after ack_wait
            log({ error: (e as Error).message, seq: m.seq });
          }).finally(() => {
            inFlight.delete(p);
            wake?.();
          });
          inFlight.add(p);
          if (suspect) await p;
        }
      } catch (e) {
        // the fetch broke off (a NATS restart): what it delivered and was not acked comes again
        fetchFailed((e as Error).message ?? String(e));
      }
      fetching = null;
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.all([...pools.values()].map((p) => p.pool.close()));
    await audioStore?.close();
    await q.nc.drain().catch(() => undefined);
  }
  if (fatal) throw fatal;
  return summary;
}

/** The worker's view of the servers' object store: it only reads, so it needs no container of its own, but it must be one every process shares. */
async function openShared(url: string, env?: NodeJS.ProcessEnv): Promise<AudioStore> {
  const store = await createAudioStore(url, { env });
  if (!store.shared) {
    throw new TosiaError('E_CONFIG', `--audio-store=${url} is a folder of this machine; a worker reads audio from a store every machine shares`, { stage: 'worker', hint: 'leave --audio-store out when the server keeps audio in a folder (the audio then travels in the queue), or pass the azblob:// or s3:// URL the server uses' });
  }
  return store;
}
