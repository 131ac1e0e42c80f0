import type { Config, FigureRenderer, JobOutcome } from '../runtime/index.js';
import type { Row } from './db/record-store.js';
import type { AudioStore } from './audio-store/audio-store.js';
import type { SourceStores } from './audio-store/source-stores.js';
import type { Authenticator } from './auth/api-keys.js';
import type { KeyStore } from './db/key-store.js';
import type { Intake } from './intake/intake.js';
import type { RecordStore } from './db/record-store.js';
import type { Metrics } from './metrics.js';
import type { ModelRegistry } from './models/model-registry.js';
import type { EvaluationStore } from './evaluations/evaluation-store.js';
import type { Evaluations } from './evaluations/evaluations.js';

/**
 * Where records run: the Dispatcher, over the engine's pool (worker threads in this process, or
 * `tosia worker` processes through NATS).
 */
export interface Work {
  /** Records waiting to run. */
  readonly depth: number;
  /** Records running. */
  readonly busy: number;
  readonly full: boolean;
  /** Hold a place for a record about to be stored; false when full. */
  reserve(): boolean;
  release(): void;
  readonly isAccepting: boolean;
  /** What stopped the work from running (a model that no longer loads), if anything. */
  readonly failure: Error | null;
  enqueue(id: string): void;
  /** Resolves when the record finishes or after `ms`, whichever is first. */
  waitFor(id: string, ms: number): Promise<void>;
  /** Stop taking records and let what is running finish. */
  drain(): Promise<void>;
  /** Score a done record's stored audio again with a served model (evaluations); failures are outcomes. */
  rescore(row: Row, model: { name: string; sha256: string }, key: string): Promise<JobOutcome>;
}

/** What the routes are handed: the stores and the queue, behind their interfaces. */
export interface Services {
  records: RecordStore;
  keys: KeyStore;
  /** Where uploads are kept (a folder, Azure Blob, S3): routes stream from it, never from a path. */
  audio: AudioStore;
  /** A record's life: submit, retry, delete, retention. */
  intake: Intake;
  /** The containers and buckets recordings may be read from by reference (--source-store). */
  sources: SourceStores;
  dispatcher: Work;
  auth: Authenticator;
  metrics: Metrics;
  /** The config records are computed under (the figures are drawn with its mel and colour settings). */
  config: Config;
  /** Draws figures on a thread of its own. */
  figures: FigureRenderer;
  /** The models served (each with its config identity), and which is the default. */
  models: ModelRegistry;
  /** Evaluations of served models on the reviewed records: submitted here, run in the background. */
  evaluations: Evaluations;
  evaluationStore: EvaluationStore;
  now: () => Date;
  /** Callbacks are signed with it; without one, callback_url is refused. */
  webhookSecret: string | null;
  maxUploadBytes: number;
  /** Null when ready; otherwise why not. */
  notReady(): Promise<string | null>;
}
