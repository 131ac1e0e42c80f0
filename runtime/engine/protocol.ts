import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import type { SerializedError } from '../errors.js';
import type { ClassifierInfo } from './inference.js';
import type { Job, JobOutcome, ModelIdentity } from './pool.js';

/** Messages between a ThreadPool and its worker threads. */
export interface WorkerInit {
  config: Config;
  /** Whether jobs classify (a model is loaded) or only prepare segments (extract). */
  withModel: boolean;
  /** Set with a shared inference thread: the model's identity and this worker's port to it. */
  inference?: { info: ClassifierInfo; port: MessagePort };
}

export type WorkerMessage =
  | { type: 'ready'; model: ModelIdentity | null }
  | { type: 'fatal'; error: SerializedError }
  | ({ type: 'job'; id: number } & JobOutcome);

export type WorkerRequest = Job;

export type InferenceWorkerMessage = { type: 'ready'; info: ClassifierInfo } | { type: 'fatal'; error: SerializedError };
