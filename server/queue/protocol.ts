import type { Config, JobOutcome, JobTask } from '../../runtime/index.js';

/**
 * What travels on the queue. A job names its audio by sha256 in the object store, never
 * carries it (NATS's default max payload is 1 MiB), and carries the analysis and limit fields
 * of the submitter's config: a worker runs them over its own deployment fields (its model
 * file, its ffmpeg), after checking that its model is the one the submitter named.
 */

/** Jobs go on `tosia.jobs.<job id>`: the stream can say whether a job is still waiting or held. */
export const SUBJECT_JOBS = 'tosia.jobs';
/** Results go on `tosia.results.<submitter>.<job id>`, consumed durably by that submitter. */
export const SUBJECT_RESULTS = 'tosia.results';
export const STREAM_JOBS = 'TOSIA_JOBS';
export const STREAM_RESULTS = 'TOSIA_RESULTS';
export const WORKERS_CONSUMER = 'tosia-workers';
export const AUDIO_BUCKET = 'tosia-audio';

export interface JobMessage {
  v: 1;
  /** Stable for the same submitter, input and identity: a re-published job is dropped as a duplicate. */
  job: string;
  /** The submitter's results subject. */
  reply: string;
  sha256: string;
  /** Where the audio's chunks are in the bucket, as the submitter saw it: saves the worker a lookup. */
  audio?: { nuid: string; size: number };
  /**
   * The shared audio store the recording is in (its URL, no credentials), when the submitter
   * keeps audio in one: the worker reads it there, by sha256, with its own --audio-store.
   */
  store?: string;
  /** What the audio is reported under (a file name; only metadata). */
  name: string;
  task: JobTask;
  analysis: Record<string, Record<string, unknown>>;
  limits: Record<string, Record<string, unknown>>;
  model_sha256: string;
  /** The served model's name (a server's --model NAME=PATH), for messages: workers pick their model by model_sha256. */
  model?: string;
}

export interface ResultMessage {
  v: 1;
  job: string;
  /** The worker that ran it (host:pid). */
  worker: string;
  /** The outcome, or, when it is too big for one message (many segment images), where it is in the bucket. */
  outcome?: JobOutcome;
  stored?: { name: string; sha256: string; nuid: string; size: number };
}

/** Uint8Arrays (images) as base64 in JSON, and back. */
export function encode(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? { $b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } : v)));
}

export function decode<T>(data: Uint8Array): T {
  return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'), (_k, v) => (v && typeof v === 'object' && typeof v.$b64 === 'string' ? new Uint8Array(Buffer.from(v.$b64, 'base64')) : v)) as T;
}

/** The worker's config for a job: its own, with the job's analysis and limit fields over it. */
export function configForJob(local: Config, job: JobMessage): Config {
  const out = structuredClone(local) as unknown as Record<string, Record<string, unknown>>;
  for (const part of [job.analysis, job.limits]) {
    for (const [section, fields] of Object.entries(part)) Object.assign((out[section] ??= {}), fields);
  }
  return out as unknown as Config;
}
