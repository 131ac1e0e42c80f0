import type { Config } from '../config/schema.js';
import type { MessagePort } from 'node:worker_threads';
import type { ClassifierInfo } from './inference.js';
import type { TableRows } from './tables.js';

/** Messages between the batch engine and its worker threads. */
export interface WorkerInit {
  config: Config;
  outDir: string;
  tmpDir: string;
  /** Set with a shared inference thread: the model's identity and this worker's port to it. */
  inference?: { info: ClassifierInfo; port: MessagePort };
}
export interface Job { id: number; file: string; outFile: string }

export interface JobDone {
  id: number;
  ok: true;
  /** The recording's audio duration, for the real-time factor. */
  duration_s: number;
  n_segments: number;
  label: string;
  skipped: false;
  /** The recording's lines of results.jsonl, results.csv and segments.csv. */
  rows: TableRows;
}
export interface JobFailed { id: number; ok: false; error: { code: string; stage?: string; message: string }; /** The input's sha256, when it could be read. */ sha256?: string }
export type JobReply = JobDone | JobFailed;
export type WorkerMessage = { type: 'ready'; model: { name: string; version: string; sha256: string; execution_provider: string }; labels: string[] } | { type: 'fatal'; error: { code: string; message: string } } | ({ type: 'job' } & JobReply);
export type InferenceWorkerMessage = { type: 'ready'; info: ClassifierInfo } | { type: 'fatal'; error: { code: string; message: string } };
