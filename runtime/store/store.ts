import type { JobOutput } from '../engine/pool.js';
import type { SerializedError } from '../errors.js';
import type { LabelFormat } from '../io/label-tracks.js';
import type { Result } from '../pipeline/result.js';

/**
 * Where results live. The scheduler asks a store whether an input's result already exists for
 * the current identity (the skip rule, the same call the HTTP API uses to avoid duplicate
 * work), and hands it every outcome; workers compute and write nothing. The output folder of a
 * batch is one store (FolderStore), `tosia extract`'s folder another.
 */

/** One input as a store sees it: where it is, its path relative to its input argument, and its sha256 once known. */
export interface StoreInput {
  path: string;
  rel: string;
  sha256?: string;
  /**
   * An input that is not a file of this machine (an object in a container or bucket, whose `path`
   * is its URL): how to read its bytes, and its version (ETag), which changes whenever it is
   * written: what a resumed batch compares to skip it without reading it.
   */
  read?: () => Promise<Uint8Array>;
  version?: string;
  /** Set when the input cannot even be listed (a folder without permission): it fails as is. */
  unreadable?: SerializedError;
}

/** What a result depends on besides the input's bytes. */
export interface Identity {
  /** configHash: every analysis field of the config. */
  config_sha256: string;
  /** limitsHash: the input limits; a failure they caused is retried when they change. */
  limits_sha256: string;
  /** The model file's sha256; null for work that runs no model (extract). */
  model_sha256: string | null;
}

/** The artifacts a request asks for besides the result. */
export interface ArtifactRequest {
  /** Each segment's model-input image as PNG. */
  images: boolean;
  /** Label tracks per recording, in these formats (none when null or empty). */
  labels: readonly LabelFormat[] | null;
}

/** A line of errors.jsonl. The sha256s say what failed, so an unchanged failure is not retried. */
export interface FailureRecord {
  file: string;
  stage?: string;
  code: string;
  message: string;
  sha256?: string;
  config_sha256?: string;
  model_sha256?: string;
  limits_sha256?: string;
  /** The object's version (ETag), for an input read from an object store. */
  version?: string;
}

/** What the scheduler reports of a stored result. */
export interface Stored { output: string; duration_s: number; n_segments: number; label: string }

/**
 * A lookup's answer: the result is up to date (and which requested artifacts are still
 * missing: labels a store can derive itself, images need the recording run again), or the
 * input's earlier failure would only repeat, or nothing usable is stored.
 */
export type Lookup =
  | { kind: 'done'; stored: Stored; result: Result; missingImages: boolean }
  | { kind: 'failed'; failure: FailureRecord }
  | null;

export interface ResultStore {
  /**
   * The stored outcome for this input under this identity, if it can stand. `failures` says
   * whether an earlier input failure (same bytes, config, limits and model) counts.
   */
  lookup(input: StoreInput, identity: Identity, wants: ArtifactRequest, options: { failures: boolean }): Promise<Lookup>;
  /** Count an up-to-date result again, writing the artifacts it can derive without the recording. */
  reuse(input: StoreInput, found: Extract<Lookup, { kind: 'done' }>, wants: ArtifactRequest): Promise<Stored>;
  /**
   * Store a job's output and the artifacts asked for, atomically; with `artifactsOnly`, only
   * the missing artifacts of a result that is already stored. Throws E_OUTPUT when it cannot.
   */
  put(input: StoreInput, output: JobOutput, wants: ArtifactRequest, options?: { artifactsOnly?: Extract<Lookup, { kind: 'done' }> }): Promise<Stored>;
  /** Record a failure (a new one, or an earlier one that still stands). */
  fail(input: StoreInput, failure: FailureRecord): Promise<void>;
  /** Resolves when the store has caught up with its writes: the scheduler waits before taking more. */
  drained?(): Promise<void>;
}

/** A failure record for an input, from a job's error. */
export function failureRecord(input: StoreInput, error: SerializedError, identity: Identity, sha256?: string): FailureRecord {
  return {
    file: input.path, stage: error.stage, code: error.code, message: error.message, sha256: sha256 ?? input.sha256,
    config_sha256: identity.config_sha256, model_sha256: identity.model_sha256 ?? undefined, limits_sha256: identity.limits_sha256,
    ...(input.version !== undefined ? { version: input.version } : {}),
  };
}
