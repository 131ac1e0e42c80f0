import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { Layout, Normalisation } from '../../algos/classify/tensor.js';
import { TosiaError } from '../../algos/errors.js';
import type { Config } from '../config/schema.js';
import { deserializeError, serializeError, type SerializedError } from '../errors.js';
import type { Result } from '../pipeline/result.js';
import { modelPathFor, packageRoot } from '../paths.js';
import type { ClassifierInfo } from './inference.js';
import type { InferenceWorkerMessage, WorkerInit, WorkerMessage } from './protocol.js';

/**
 * A recording to run: a file; bytes with the name they came under; a file the worker reads but
 * reports under another name; or a recording kept in an audio store (StoredInput). Only `path`
 * is ever opened; a name is only metadata.
 */
export type JobInput = { path: string } | { bytes: Uint8Array; name: string } | { path: string; name: string } | StoredInput;

/**
 * A recording kept elsewhere (an audio store, by sha256; an object of a bucket): a pool on this
 * machine reads it with `read` (which checks what it can); a remote pool hands `store`, the URL of
 * a store every machine shares, to its workers, who read it there by sha256 themselves, or, when
 * it is null, carries the bytes.
 */
export interface StoredInput {
  stored: { sha256?: string; store: string | null; read: () => Promise<Uint8Array> };
  name: string;
}

/** The name a job's input is reported under. */
export function inputName(input: JobInput): string {
  return 'name' in input ? input.name : input.path;
}

/** What to compute for it. */
export type JobTask =
  /** The full pipeline; `images` also encodes each segment's model-input image as PNG. */
  | { kind: 'diagnose'; images: boolean }
  /** Segments only, no model: each segment's model-input tensor (.npy) and image (PNG), for training. */
  | { kind: 'extract'; layout: Layout; normalisation: Normalisation };

export interface Job {
  id: number;
  input: JobInput;
  task: JobTask;
  /**
   * The submitter's own name for this job, stable across restarts and replicas (a record and its
   * attempt): a remote pool uses it as the job's id, so the job is taken once however often it is
   * submitted, and hands it back with outcomes it did not run() (see Pool.share).
   */
  key?: string;
  /**
   * The served model to run it with, for a pool over several (a server's --model NAME=PATH): a
   * pool of one model ignores it; a queue sends it to its workers, which run the model with that
   * sha256.
   */
  model?: { name: string; sha256: string };
}

/** One segment of an extract job: its span, its tensor as .npy and its image as PNG. */
export interface ExtractedSegment { start: number; end: number; npy: Uint8Array; png: Uint8Array }

export type JobOutput =
  | { kind: 'diagnose'; result: Result; images: Uint8Array[] }
  | { kind: 'extract'; sha256: string; duration_s: number; segments: ExtractedSegment[] };

/** A job's outcome; a failure carries the input's sha256 where it could be read. */
export type JobOutcome = { ok: true; output: JobOutput } | { ok: false; error: SerializedError; sha256?: string };

/** The model a pool runs, as results name it. */
export interface ModelIdentity { name: string; version: string; sha256: string; labels: string[]; execution_provider: string }

/**
 * One interface for every way of running jobs: worker threads with a model each, worker
 * threads around one shared inference thread, and (later) remote workers on a queue. A pool
 * never writes anything: it returns outputs, and the scheduler hands them to a store.
 */
export interface Pool {
  /** Jobs it takes at once; the scheduler keeps no more than this in flight. */
  readonly capacity: number;
  /** Start every worker; resolves with the model they run (null when they run none). Rejects with the error that stops them all (a model that does not load, say). */
  start(): Promise<ModelIdentity | null>;
  /**
   * Run one job. It resolves with the job's outcome, failures included; it rejects only when the
   * pool itself cannot go on (a job a queue did not take carries stage 'queue'). `submitted` is
   * called once the job is handed over: to a thread, or published to a queue.
   */
  run(job: Job, hooks?: { submitted?(): void }): Promise<JobOutcome>;
  /** Stop every worker; jobs still in flight are dropped. */
  close(): Promise<void>;
  /**
   * The job's outcome has been stored. A queue acknowledges the result message only now, so a
   * submitter that dies between receiving a result and storing it gets it again on restart.
   */
  stored?(job: Job): void;
  /** Why the pool cannot take jobs right now (a queue that is unreachable), or null; for readiness checks. */
  unavailable?(): string | null;
  /**
   * Set when jobs handed over run and are answered without this process (workers on a queue):
   * a submitter that stops need not wait for them, and another process sharing its results, or
   * itself restarted, stores their outcomes.
   */
  readonly remote?: boolean;
  /**
   * For submitters whose processes share one stream of results (a server's replicas): `adopt`
   * stores an outcome of a job this process did not run() (by its key; the pool acknowledges it
   * once adopt resolves), and `settled` hears of every keyed job whose outcome any of them stored.
   */
  share?(hooks: { adopt(key: string, outcome: JobOutcome): Promise<void>; settled(key: string): void }): void;
  /** Where a keyed job is: still waiting or running, answered, or neither (never handed over, or given up). */
  whereIs?(key: string): Promise<'queued' | 'answered' | 'absent'>;
  /** Jobs waiting for a worker and jobs being run, across every submitter (a queue's); null when unknown. */
  backlog?(): { waiting: number; running: number } | null;
}

/** A job's input as a thread can take it: a stored recording read (and checked) here. */
export async function readableInput(input: JobInput): Promise<Exclude<JobInput, StoredInput>> {
  if (!('stored' in input)) return input;
  return { bytes: await input.stored.read(), name: input.name };
}

export type InferenceMode = 'per-worker' | 'shared';
export const INFERENCE_MODES: readonly InferenceMode[] = ['per-worker', 'shared'];

export interface ThreadPoolOptions {
  config: Config;
  /** Worker threads; default: the number of cores. */
  concurrency?: number;
  /**
   * Where inference runs: 'per-worker' (each thread loads the model and classifies its own
   * files) or 'shared' (one inference thread stacks the segments of several files into one
   * run); 'none' for jobs that need no model (extract).
   */
  inference?: InferenceMode | 'none';
}

interface Slot { worker: Worker | null; held: Map<number, (o: JobOutcome) => void>; ready: Promise<ModelIdentity | null> }

/** Each worker holds two jobs: the next one is there when one ends (and, with a shared inference thread, one computes while the other waits). */
const DEPTH = 2;

/** The built worker script: beside this module when built; from sources (tests), the built one. */
function workerScript(name: string): string {
  const local = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return existsSync(local) ? local : join(packageRoot(), 'dist/runtime/engine', name);
}

/** A thread that holds one model session and serves runs over MessagePorts (inference-worker.ts). */
interface InferenceThread { worker: Worker; info: ClassifierInfo }

/** Ask a worker thread to end once idle (it closes its port); terminate it if it has not within `ms`. */
function endWorker(worker: Worker, ms = 5000): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => void worker.terminate().then(() => resolve(), () => resolve()), ms);
    worker.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    worker.postMessage({ type: 'close' });
  });
}

/** Worker threads on this machine, each running one job at a time on its own core. */
export class ThreadPool implements Pool {
  readonly capacity: number;
  private readonly concurrency: number;
  private readonly slots: Slot[] = [];
  private started: Promise<ModelIdentity | null> | null = null;
  private inference: Promise<InferenceThread> | null = null;
  private fatal: TosiaError | null = null;
  private closed = false;

  constructor(private readonly options: ThreadPoolOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? availableParallelism());
    this.capacity = this.concurrency * DEPTH;
  }

  start(): Promise<ModelIdentity | null> {
    // every worker starts at once: each takes about 0.3 s to load its model and warm up
    this.started ??= (async () => {
      while (this.slots.length < this.concurrency) this.spawn();
      const ids = await Promise.all(this.slots.map((s) => s.ready));
      return ids[0] ?? null;
    })();
    return this.started;
  }

  async run(job: Job, hooks?: { submitted?(): void }): Promise<JobOutcome> {
    await this.start();
    if (this.fatal) throw this.fatal;
    let input: Exclude<JobInput, StoredInput>;
    try {
      input = await readableInput(job.input);
    } catch (e) {
      hooks?.submitted?.();
      return { ok: false, error: serializeError(e, { file: inputName(job.input), stage: 'storage' }) };
    }
    // a worker that crashed is replaced
    while (this.slots.length < this.concurrency) this.spawn();
    // the least busy worker, so that jobs spread over every worker from the start
    const slot = this.slots.reduce((best, s) => (s.held.size < best.held.size ? s : best));
    await slot.ready;
    return new Promise<JobOutcome>((resolve) => {
      slot.held.set(job.id, resolve);
      slot.worker!.postMessage({ id: job.id, input, task: job.task });
      hooks?.submitted?.();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // a worker still loading its model is let finish first (terminating a thread inside
    // onnxruntime's session creation aborts the process), then asked to end on its own: a
    // thread terminated while V8 still has tasks queued for it (a WebAssembly compile) can abort
    // the whole process too. One that does not end within 5 s is terminated.
    const inference = this.inference;
    await Promise.all(this.slots.map((s) => s.ready.catch(() => undefined).then(() => s.worker && endWorker(s.worker))));
    await inference?.then((i) => i.worker.terminate(), () => undefined);
  }

  private startInference(): Promise<InferenceThread> {
    this.inference ??= (async () => {
      const cfg = this.options.config;
      const worker = new Worker(workerScript('inference-worker.js'), { workerData: { modelPath: modelPathFor(cfg), device: cfg.classifier.device } });
      const info = await new Promise<ClassifierInfo>((ok, bad) => {
        worker.once('message', (m: InferenceWorkerMessage) => (m.type === 'ready' ? ok(m.info) : bad(deserializeError(m.error))));
        worker.once('error', (e) => bad(new TosiaError('E_INTERNAL', `inference thread failed to start: ${e.message}`)));
      });
      return { worker, info };
    })();
    return this.inference;
  }

  private spawn(): Slot {
    const mode = this.options.inference ?? 'per-worker';
    const base: WorkerInit = { config: this.options.config, withModel: mode !== 'none' };
    let worker: Worker | null = null;
    const slot: Slot = { worker: null, held: new Map(), ready: Promise.resolve(null) };
    slot.ready = (async () => {
      if (mode === 'shared') {
        const { worker: server, info } = await this.startInference();
        const { port1, port2 } = new MessageChannel();
        server.postMessage({ type: 'port', port: port1 }, [port1]);
        worker = new Worker(workerScript('worker.js'), { workerData: { ...base, inference: { info, port: port2 } } satisfies WorkerInit, transferList: [port2] });
      } else {
        worker = new Worker(workerScript('worker.js'), { workerData: base });
      }
      slot.worker = worker;
      let isReady = false;
      return new Promise<ModelIdentity | null>((ready, failed) => {
        worker!.on('message', (m: WorkerMessage) => {
          if (m.type === 'ready') {
            isReady = true;
            ready(m.model);
          }
          else if (m.type === 'fatal') {
            this.fatal ??= deserializeError(m.error);
            failed(this.fatal);
          } else {
            const done = slot.held.get(m.id);
            slot.held.delete(m.id);
            const { type: _t, id: _i, ...outcome } = m;
            done?.(outcome as JobOutcome);
          }
        });
        worker!.on('error', (e) => {
          // a crash fails the jobs it held; the slot is replaced at the next job
          const i = this.slots.indexOf(slot);
          if (i >= 0) this.slots.splice(i, 1);
          for (const done of slot.held.values()) done({ ok: false, error: { code: 'E_INTERNAL', stage: 'worker', message: `worker crashed: ${e.message}` } });
          slot.held.clear();
          if (!isReady && !this.closed) failed((this.fatal ??= new TosiaError('E_INTERNAL', `worker failed to start: ${e.message}`)));
        });
      });
    })();
    slot.ready.catch(() => undefined);
    this.slots.push(slot);
    return slot;
  }
}
