import type { Readable } from 'node:stream';

/**
 * Where uploaded recordings live: content-addressed by sha256, so the same bytes are stored once
 * however many records hold them. Every backend (a folder, Azure Blob, S3) implements this, and
 * one contract test suite (test/server/audio-store.test.ts) runs against each.
 *
 * An upload is staged first (received under a temporary name, hashed on the way in) and only then
 * committed to its content address, so no half-written object ever has a final name. Routes and
 * services hold opaque `Staged` handles and sha256s: never a path, a key or a URL of the backend.
 */
export interface AudioStore {
  /** The backend's name: 'folder', 'azblob' or 's3'. */
  readonly kind: string;
  /** Where it is, as the user named it (`file:///…`, `azblob://container/prefix`, `s3://bucket/prefix`), without credentials. */
  readonly url: string;
  /**
   * Whether every process that is given the same URL sees the same objects (an object store),
   * so a queue's workers read audio straight from it; a folder is one machine's.
   */
  readonly shared: boolean;
  /**
   * Make the folder, container or bucket when missing (where the credentials allow it) and
   * remove staged uploads that a crash left behind. Throws StoreUnavailable when the backend
   * cannot be reached (try again later), a TosiaError (E_CONFIG) when it never will be.
   */
  open(): Promise<void>;
  /** Stream a body into a staged object, hashing it; stops reading past `limit` bytes and throws TooLarge. */
  receive(body: AsyncIterable<Uint8Array>, limit: number): Promise<Staged>;
  /**
   * Give staged bytes their content address (already there: the same bytes, kept). The staged
   * copy stays until discard(), so a commit can be repeated after a concurrent removal.
   */
  commit(staged: Staged): Promise<void>;
  /** Drop a staged copy (never the committed object). */
  discard(staged: Staged): Promise<void>;
  /**
   * Take a committed object out of its address into staging, as if just uploaded: commit() puts
   * it back, discard() drops it. Removal goes through this, so a record inserted meanwhile can
   * have its audio put back. Null when the object is not there.
   */
  detach(sha256: string): Promise<Staged | null>;
  /** The whole object, checked against its sha256 (a mismatch throws AudioDamaged); null when absent. */
  read(sha256: string): Promise<Uint8Array | null>;
  /** The object's size in bytes, or null when absent. */
  size(sha256: string): Promise<number | null>;
  /** A byte range of the object (inclusive), or all of it, as a stream. */
  openRange(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Every committed object, page by page (never the whole listing at once). */
  list(): AsyncIterable<{ sha256: string; size: number }>;
  /** Remove an object outright (absent is fine). */
  remove(sha256: string): Promise<void>;
  /** Write and delete a small object: whether uploads can be stored right now (for /ready). */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/** An upload held in staging: what it hashes to and how big it is. Only its store looks inside `ref`. */
export interface Staged {
  readonly sha256: string;
  readonly size: number;
  readonly ref: unknown;
}

/** The body was larger than the limit; reading stopped there. */
export class TooLarge extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${limit} bytes`);
  }
}

/** The backend cannot be reached (or answered with a server error): try again later. */
export class StoreUnavailable extends Error {
  constructor(readonly store: string, message: string, options?: { cause?: unknown }) {
    super(`the audio store ${store} is unavailable: ${message}`, options);
  }
}

/** An object whose bytes no longer hash to its name: changed or damaged in the store. */
export class AudioDamaged extends Error {
  constructor(readonly store: string, readonly sha256: string, readonly actual: string) {
    super(`the stored audio ${sha256.slice(0, 12)}… in ${store} is damaged: its bytes hash to ${actual.slice(0, 12)}…, not to its name. Nothing was diagnosed from it; upload the recording again`);
  }
}

/** Staged uploads older than this are a crash's leftovers; younger ones may be another replica's upload in progress. */
export const STALE_STAGED_MS = 24 * 3600_000;

export function checkSha256(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256.slice(0, 80)}`);
  return sha256;
}

/** The key of a committed object below a prefix: `audio/ab/<sha256>`, 256 folders at most at each level. */
export function objectKey(prefix: string, sha256: string): string {
  return `${prefix}audio/${checkSha256(sha256).slice(0, 2)}/${sha256}`;
}
